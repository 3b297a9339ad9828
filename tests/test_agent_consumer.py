"""Agent protocol v1 at /ws/agent/, through a WebsocketCommunicator on the real ASGI application."""

import asyncio
import json
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from cantina.asgi import application
from orders.models import Order, OrderItem
from printing import services
from printing.consumers import registry
from printing.models import Printer, PrintJob, PrintJobEvent

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(60)]


@database_sync_to_async
def create_printer(name="Balcão", **fields):
    printer = Printer.objects.create(name=name, **fields)
    return printer, services.printer_issue_token(printer=printer)


@database_sync_to_async
def confirm_order(customer_name="Ana", channel="counter", items=(("Pão de queijo", 2, "4.50"),)):
    order = Order.objects.create(customer_name=customer_name, channel=channel, status="pending")
    for name, quantity, price in items:
        OrderItem.objects.create(order=order, name=name, quantity=quantity, unit_price=Decimal(price))
    order.status = Order.Status.CONFIRMED
    order.save()
    return order


@database_sync_to_async
def job_state(job_id):
    job = PrintJob.objects.get(pk=job_id)
    return job.status, list(job.events.values_list("status", flat=True))


@database_sync_to_async
def database_snapshot():
    return (
        list(PrintJob.objects.order_by("id").values_list("id", "status", "attempts", "error_code")),
        PrintJobEvent.objects.count(),
        list(Printer.objects.order_by("id").values_list("id", "status")),
    )


async def connect(token=None, path="/ws/agent/", headers=None):
    if token is not None and headers is None:
        path = f"{path}?token={token}"
    communicator = WebsocketCommunicator(application, path, headers=headers or [])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def receive(communicator, kind, timeout=5):
    """Next message of this type, skipping server pings."""
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == "ping" and kind != "ping":
            continue
        assert message["type"] == kind, message
        return message


async def assert_closed_with(communicator, code):
    message = await communicator.receive_output(timeout=5)
    assert message == {"type": "websocket.close", "code": code}


async def send(communicator, **message):
    await communicator.send_json_to(message)


@pytest.mark.parametrize("token", ["", "wrong-token-that-is-long-enough"])
async def test_missing_or_wrong_token_closes_with_4401(token):
    await create_printer()
    communicator = await connect(token)
    await assert_closed_with(communicator, 4401)


async def test_session_cookie_is_not_accepted_instead_of_a_token():
    await create_printer()
    communicator = await connect(headers=[(b"cookie", b"sessionid=whatever")])
    await assert_closed_with(communicator, 4401)


async def test_disabled_printer_closes_with_4403():
    _, token = await create_printer(is_active=False)
    communicator = await connect(token)
    await assert_closed_with(communicator, 4403)


async def test_welcome_carries_the_printer_config():
    printer, token = await create_printer(paper_width=58, profile="TM-T20II", has_cutter=False)
    communicator = await connect(token)
    welcome = await receive(communicator, "welcome")
    assert welcome["printer"] == {
        "id": printer.pk,
        "name": "Balcão",
        "paper_width": 58,
        "profile": "TM-T20II",
        "has_cutter": False,
    }
    assert welcome["server_info"]["capabilities"] == ["order_print", "receipt_print", "status_update"]
    assert welcome["timestamp"]
    await communicator.disconnect()


async def test_authorization_header_authenticates():
    _, token = await create_printer()
    communicator = await connect(headers=[(b"authorization", f"Token {token}".encode())])
    await receive(communicator, "welcome")
    await communicator.disconnect()


async def test_pending_jobs_are_delivered_on_connect_in_priority_order():
    printer, token = await create_printer()
    scheduled = await confirm_order("Agendado", channel="scheduled")
    counter = await confirm_order("Balcão")

    @database_sync_to_async
    def job_ids():
        return {order.pk: PrintJob.objects.get(order=order).pk for order in (scheduled, counter)}

    ids = await job_ids()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    first = await receive(communicator, "new_order")
    second = await receive(communicator, "new_order")
    # Counter orders (priority 1) go before scheduled ones (priority 3), whatever their age.
    assert [first["order"]["job_id"], second["order"]["job_id"]] == [ids[counter.pk], ids[scheduled.pk]]
    assert first["order"]["priority"] < second["order"]["priority"]
    assert (await job_state(ids[counter.pk]))[0] == "sent"
    await communicator.disconnect()


async def test_job_created_while_connected_is_delivered_by_the_wakeup():
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    assert await communicator.receive_nothing(timeout=0.2)
    order = await confirm_order(items=(("Coxinha", 3, "7.25"), ("Suco de laranja", 1, "6.00")))
    message = await receive(communicator, "new_order", timeout=2)
    job = message["order"]
    assert job["order_id"] == order.pk
    assert job["type"] == "order_receipt"
    assert "Coxinha" in job["content"] and "Suco de laranja" in job["content"]
    assert job["order_info"]["number"] == order.number
    assert job["order_info"]["total_amount"] == "27.75"
    assert job["escpos"] and job["copies"] == 1
    assert job["printer_config"]["paper_width"] == 80
    await communicator.disconnect()


async def test_print_status_moves_the_job_to_completed_with_its_history():
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await confirm_order()
    job_id = (await receive(communicator, "new_order"))["order"]["job_id"]
    for status in ("received", "printing", "completed"):
        await send(communicator, type="print_status", job_id=job_id, status=status, timestamp="2026-01-01T10:00:00")
    await send(communicator, type="ping")
    await receive(communicator, "pong")
    status, events = await job_state(job_id)
    assert status == "completed"
    assert events == ["pending", "sent", "printing", "completed"]
    await communicator.disconnect()


async def test_repeated_or_late_status_never_moves_a_terminal_job():
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await confirm_order()
    job_id = (await receive(communicator, "new_order"))["order"]["job_id"]
    await send(communicator, type="print_status", job_id=job_id, status="completed")
    for status in ("completed", "printing", "failed", "received"):
        await send(communicator, type="print_status", job_id=job_id, status=status, error_code="paper_out")
    await send(communicator, type="ping")
    await receive(communicator, "pong")
    status, events = await job_state(job_id)
    assert status == "completed"
    assert events == ["pending", "sent", "completed"]
    await communicator.disconnect()


async def test_retryable_failure_requeues_the_job_until_the_printer_is_ready():
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await confirm_order()
    job_id = (await receive(communicator, "new_order"))["order"]["job_id"]
    await send(
        communicator, type="print_status", job_id=job_id, status="failed", error_code="paper_out", message="Sem papel"
    )
    await send(communicator, type="ping")
    await receive(communicator, "pong")
    assert (await job_state(job_id))[0] == "pending"
    assert await communicator.receive_nothing(timeout=0.3), "the job waits while the printer has no paper"
    await send(communicator, type="printer_info", printer={"name": "x", "status": "ready"})
    again = await receive(communicator, "new_order")
    assert again["order"]["job_id"] == job_id
    await communicator.disconnect()


async def test_non_retryable_failure_fails_the_job():
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await confirm_order()
    job_id = (await receive(communicator, "new_order"))["order"]["job_id"]
    await send(communicator, type="print_status", job_id=job_id, status="failed", error_code="interrupted")
    await send(communicator, type="ping")
    await receive(communicator, "pong")

    @database_sync_to_async
    def job():
        return PrintJob.objects.values("status", "error_code", "attempts").get(pk=job_id)

    assert await job() == {"status": "failed", "error_code": "interrupted", "attempts": 1}
    await communicator.disconnect()


@pytest.mark.parametrize(
    "raw, code",
    [
        ("{not json", "bad_message"),
        ("[1, 2]", "bad_message"),
        (json.dumps({"type": "launch_missiles"}), "unknown_type"),
        (json.dumps({"no_type": True}), "unknown_type"),
        (json.dumps({"type": "print_status", "status": "completed"}), "bad_message"),
        (json.dumps({"type": "print_status", "job_id": "7", "status": "completed"}), "bad_message"),
        (json.dumps({"type": "print_status", "job_id": 1, "status": "exploded"}), "bad_message"),
        (json.dumps({"type": "printer_info"}), "bad_message"),
        (json.dumps({"type": "printer_info", "printer": {"status": "on fire"}}), "bad_message"),
    ],
)
async def test_bad_input_gets_an_error_and_changes_nothing(raw, code):
    _, token = await create_printer()
    await confirm_order()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await receive(communicator, "new_order")
    before = await database_snapshot()
    await communicator.send_to(text_data=raw)
    error = await receive(communicator, "error")
    assert error["code"] == code
    assert error["message"]
    assert await database_snapshot() == before
    await send(communicator, type="ping")
    await receive(communicator, "pong")  # still open
    await communicator.disconnect()


async def test_status_for_another_printers_job_is_refused_and_changes_nothing():
    _, token_a = await create_printer("A")
    await create_printer("B", auto_print=[])
    b_job = await confirm_order()  # printed by A only: B auto-prints nothing

    @database_sync_to_async
    def b_owned_job():
        b = Printer.objects.get(name="B")
        return services.job_create_test_page(printer=b).pk

    other_job_id = await b_owned_job()
    communicator = await connect(token_a)
    await receive(communicator, "welcome")
    await receive(communicator, "new_order")
    before = await database_snapshot()
    await send(communicator, type="print_status", job_id=other_job_id, status="completed")
    error = await receive(communicator, "error")
    assert error["code"] == "not_found" and error["ref"] == other_job_id
    assert await database_snapshot() == before
    assert (await job_state(other_job_id))[0] == "pending"  # B's job, untouched by A's report
    await communicator.disconnect()
    assert b_job.status == "confirmed"


async def test_second_connection_replaces_the_first_with_4409():
    _, token = await create_printer()
    first = await connect(token)
    await receive(first, "welcome")
    second = await connect(token)
    await receive(second, "welcome")
    await assert_closed_with(first, 4409)
    await send(second, type="ping")
    await receive(second, "pong")

    @database_sync_to_async
    def connected():
        return Printer.objects.values_list("connected", flat=True).get()

    await first.disconnect()
    assert await connected() is True, "the replaced connection's goodbye must not mark the printer offline"
    await second.disconnect()
    assert await connected() is False


async def test_in_flight_jobs_are_redelivered_with_the_same_id_after_reconnect():
    _, token = await create_printer()
    first = await connect(token)
    await receive(first, "welcome")
    await confirm_order()
    job_id = (await receive(first, "new_order"))["order"]["job_id"]
    await first.disconnect()
    second = await connect(token)
    await receive(second, "welcome")
    again = await receive(second, "new_order")
    assert again["order"]["job_id"] == job_id
    await second.disconnect()


async def test_lost_wakeup_is_recovered_by_the_sweep(settings):
    settings.CANTINA_SWEEP_INTERVAL = 1
    printer, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")

    @database_sync_to_async
    def create_without_wakeup():
        # A job inserted behind the server's back: no channel-layer message at all.
        return PrintJob.objects.create(printer_id=printer.pk, kind="raw", content="oi", escpos=b"\x1b@oi").pk

    job_id = await create_without_wakeup()
    message = await receive(communicator, "new_order", timeout=5)
    assert message["order"]["job_id"] == job_id
    await communicator.disconnect()


async def test_server_pings_an_agent_that_never_pings(settings):
    settings.CANTINA_SWEEP_INTERVAL = 1
    settings.CANTINA_AGENT_PING_INTERVAL = 1
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    ping = await communicator.receive_json_from(timeout=5)
    assert ping["type"] == "ping"
    await communicator.disconnect()


async def test_server_does_not_ping_an_agent_it_hears_from(settings):
    settings.CANTINA_SWEEP_INTERVAL = 0.2
    settings.CANTINA_AGENT_PING_INTERVAL = 2
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    kinds = []
    for _ in range(30):  # an agent pinging every 0.2 s for three ping intervals (thirty sweeps)
        await send(communicator, type="ping")
        await asyncio.sleep(0.2)
        while not await communicator.receive_nothing(timeout=0.01):
            kinds.append((await communicator.receive_json_from())["type"])
    while kinds.count("pong") < 30 and "ping" not in kinds:  # the last pongs, if late
        kinds.append((await communicator.receive_json_from(timeout=5))["type"])
    assert kinds.count("pong") == 30 and "ping" not in kinds, kinds
    await communicator.disconnect()


async def test_new_token_closes_the_live_connection_of_the_old_one():
    printer, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")

    @database_sync_to_async
    def rotate():
        services.printer_issue_token(printer=Printer.objects.get(pk=printer.pk))

    await rotate()
    await assert_closed_with(communicator, 4401)
    stale = await connect(token)
    await assert_closed_with(stale, 4401)


async def test_printer_info_updates_the_printer():
    printer, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await send(
        communicator,
        type="printer_info",
        printer={"name": "x", "model": "TM-T20III", "status": "paper_low", "agent_version": "1.2"},
    )
    await send(communicator, type="ping")
    await receive(communicator, "pong")

    @database_sync_to_async
    def state():
        return Printer.objects.values("status", "model_name", "agent_version", "connected").get(pk=printer.pk)

    assert await state() == {
        "status": "paper_low",
        "model_name": "TM-T20III",
        "agent_version": "1.2",
        "connected": True,
    }
    await communicator.disconnect()


async def test_message_over_64_kib_closes_with_4413():
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await communicator.send_to(text_data=json.dumps({"type": "ping", "pad": "x" * 70_000}))
    await assert_closed_with(communicator, 4413)


async def closed_with(communicator):
    message = await communicator.receive_output(timeout=5)
    while message["type"] != "websocket.close":
        message = await communicator.receive_output(timeout=5)
    return message["code"]


@pytest.mark.parametrize(
    "flood",
    [
        '{"type":"ping"}',
        '{"type":"pong"}',  # no ping was sent: nothing to answer
        '{"type":"print_status","job_id":1,"status":"completed"}',  # not a job of this connection
        "not json",
    ],
)
async def test_flooding_with_unsolicited_messages_closes_with_4429(settings, flood):
    settings.CANTINA_AGENT_MAX_MESSAGES_PER_SECOND = 5  # bursts up to 40
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    for _ in range(50):
        await communicator.send_to(text_data=flood)
    assert await closed_with(communicator) == 4429


async def test_repeating_a_status_already_reported_counts_as_flooding(settings):
    settings.CANTINA_AGENT_MAX_MESSAGES_PER_SECOND = 5
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await confirm_order()
    job_id = (await receive(communicator, "new_order"))["order"]["job_id"]
    for _ in range(50):
        await send(communicator, type="print_status", job_id=job_id, status="received")
    assert await closed_with(communicator) == 4429


async def test_answers_the_server_asked_for_never_count_toward_the_flood_limit(settings):
    settings.CANTINA_AGENT_MAX_MESSAGES_PER_SECOND = 1  # bursts up to 8
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    orders = 15
    for number in range(orders):
        await confirm_order(customer_name=f"Cliente {number}")
    done = []
    while len(done) < orders:
        message = await receive(communicator, "new_order")
        job_id = message["order"]["job_id"]
        for status in ("received", "printing", "completed"):
            await send(communicator, type="print_status", job_id=job_id, status=status)
        done.append(job_id)
    for job_id in done:
        status, _events = await job_state(job_id)
        for _ in range(100):  # the last acknowledgements may still be applied
            if status == "completed":
                break
            await asyncio.sleep(0.05)
            status, _events = await job_state(job_id)
        assert status == "completed"
    assert await communicator.receive_nothing(timeout=0.2), "the agent was closed or sent more"
    await communicator.disconnect()


async def test_staff_cancel_tells_the_agent():
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await confirm_order()
    job_id = (await receive(communicator, "new_order"))["order"]["job_id"]
    await database_sync_to_async(services.job_cancel)(job_id=job_id)
    cancel = await receive(communicator, "cancel")
    assert cancel["job_id"] == job_id
    await send(communicator, type="print_status", job_id=job_id, status="completed")
    await send(communicator, type="ping")
    await receive(communicator, "pong")
    assert (await job_state(job_id))[0] == "cancelled"
    await communicator.disconnect()


async def test_a_staff_cancel_lost_by_the_channel_layer_still_reaches_the_agent(settings, monkeypatch):
    """Redis down when staff cancel a job already sent: the channel-layer message is lost, and the
    agent used to print the cancelled job. The sweep finds the cancel in the database and tells it,
    once (the channel layer's message, when it does arrive, is not repeated)."""
    from printing import notify

    settings.CANTINA_SWEEP_INTERVAL = 0.2
    lost = []
    monkeypatch.setattr(notify, "agent_job_cancelled", lambda printer_id, job_id: lost.append(job_id))
    _, token = await create_printer()
    communicator = await connect(token)
    await receive(communicator, "welcome")
    await confirm_order()
    job_id = (await receive(communicator, "new_order"))["order"]["job_id"]
    await send(communicator, type="print_status", job_id=job_id, status="received")
    await database_sync_to_async(services.job_cancel)(job_id=job_id)
    assert lost == [job_id]  # the cancel's channel-layer message went nowhere

    cancel = await receive(communicator, "cancel", timeout=10)
    assert cancel["job_id"] == job_id
    consumer = next(iter(registry.consumers.values()))
    await consumer.agent_job_cancelled({"job_id": job_id})  # a late channel-layer copy
    for _ in range(3):  # and several sweeps later: told once
        await send(communicator, type="ping")
        await receive(communicator, "pong")
        await asyncio.sleep(0.25)
    while not await communicator.receive_nothing(timeout=0.1):
        assert (await communicator.receive_json_from())["type"] in ("ping", "pong")
    assert (await job_state(job_id))[0] == "cancelled"
    await communicator.disconnect()


async def test_check_mode_proves_the_token_without_replacing_the_live_agent():
    printer, token = await create_printer()
    live = await connect(token)
    await receive(live, "welcome")
    check = await connect(f"{token}&mode=check")
    welcome = await receive(check, "welcome")
    assert welcome["mode"] == "check" and welcome["printer"]["id"] == printer.pk
    await assert_closed_with(check, 1000)
    await send(live, type="ping")
    await receive(live, "pong")
    await live.disconnect()
