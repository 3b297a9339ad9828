"""Fuzzing for a bounded time: garbage from one client never escapes as an exception, never
changes a job, and never closes anything but that client's own connection (and only with a
documented close code)."""

import asyncio
import json

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cantina.asgi import application
from printing import services
from printing.models import Printer, PrintJob, PrintJobEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(300)]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
known_types = st.sampled_from(["ping", "pong", "printer_info", "print_status", "cancel", "new_order", "welcome", ""])
# Messages shaped like real ones, with hostile field values, to reach deep into the handlers.
shaped = st.fixed_dictionaries(
    {"type": known_types},
    optional={
        "job_id": json_values,
        "status": st.sampled_from(["received", "printing", "completed", "failed", "cancelled", "ready"]) | json_values,
        "error_code": json_values,
        "message": json_values,
        "printer": st.dictionaries(
            st.sampled_from(["name", "model", "status", "agent_version", "message"]), json_values, max_size=5
        )
        | json_values,
        "timestamp": json_values,
    },
)
frames = st.one_of(
    shaped.map(lambda m: ("text", json.dumps(m))),
    json_values.map(lambda v: ("text", json.dumps(v))),
    st.text(max_size=200).map(lambda t: ("text", t)),
    st.binary(max_size=200).map(lambda b: ("bytes", b)),
)


def snapshot():
    return (
        list(PrintJob.objects.order_by("id").values_list("id", "status", "attempts", "error_code", "printer_id")),
        list(PrintJobEvent.objects.order_by("id").values_list("id", "status")),
    )


@pytest.fixture
def two_printers(db):
    fuzzed = Printer.objects.create(name="Fuzzed")
    bystander = Printer.objects.create(name="Bystander")
    fuzzed.token = services.printer_issue_token(printer=fuzzed)
    bystander.token = services.printer_issue_token(printer=bystander)
    # A job of each printer, already delivered and waiting for its acknowledgement.
    jobs = [services.job_create_test_page(printer=printer).pk for printer in (fuzzed, bystander)]
    PrintJob.objects.filter(pk__in=jobs).update(status="sent")
    return fuzzed, bystander


async def send_frames(communicator, sent_frames):
    # send_input, not send_to: empty frames are legal on the wire and must be survived too.
    for kind, payload in sent_frames:
        await communicator.send_input({"type": "websocket.receive", kind: payload})


async def drain_until(communicator, kind, timeout=3):
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == kind:
            return message


async def fuzz_once(token, bystander_token, sent_frames):
    fuzzed = WebsocketCommunicator(application, f"/ws/agent/?token={token}")
    bystander = WebsocketCommunicator(application, f"/ws/agent/?token={bystander_token}")
    assert (await fuzzed.connect())[0] and (await bystander.connect())[0]
    await drain_until(fuzzed, "welcome")
    await drain_until(bystander, "welcome")
    closed_with = None
    await send_frames(fuzzed, sent_frames)
    await fuzzed.send_to(text_data='{"type":"ping"}')
    # Every frame gets an answer (error/pong) or the connection is closed with a documented code.
    while True:
        output = await fuzzed.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            closed_with = output.get("code")
            break
        message = json.loads(output["text"])
        if message["type"] == "pong":
            break
    assert closed_with in (None, 4413, 4429), closed_with
    # The other printer's agent is untouched and still served.
    await bystander.send_to(text_data='{"type":"ping"}')
    await drain_until(bystander, "pong")
    await fuzzed.disconnect()
    await bystander.disconnect()


def test_fuzzed_agent_messages_change_nothing_and_hurt_nobody(two_printers):
    fuzzed, bystander = two_printers
    before = snapshot()
    examples = []

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(frames, min_size=1, max_size=25))
    def run(sent_frames):
        examples.append(len(sent_frames))
        asyncio.run(fuzz_once(fuzzed.token, bystander.token, sent_frames))

    run()
    assert len(examples) >= 50 and sum(examples) >= 120, "the fuzzer must really have sent garbage"
    after = snapshot()
    assert after[0] == before[0], "no job may change"
    assert after[1] == before[1], "no job event may be written"


def test_fuzzed_staff_socket_messages_are_ignored(manager_user):
    client = Client()
    client.force_login(manager_user)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    async def fuzz(sent_frames):
        communicator = WebsocketCommunicator(
            application,
            "/ws/staff/",
            headers=[(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", cookie)],
        )
        assert (await communicator.connect())[0]
        await send_frames(communicator, sent_frames)
        await communicator.send_to(text_data='{"type":"ping"}')
        await drain_until(communicator, "pong")
        await communicator.disconnect()
        examples.append(len(sent_frames))

    examples = []

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(st.lists(frames, min_size=1, max_size=20))
    def run(sent_frames):
        asyncio.run(fuzz(sent_frames))

    run()
    assert len(examples) >= 30
    assert get_user_model().objects.count() == 1
