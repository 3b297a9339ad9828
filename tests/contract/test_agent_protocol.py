"""DESIGN.md "Agent protocol v1": authentication, the messages both ways, bad input, priorities.
(Close codes: test_close_codes.py. The flood limit's solicited-messages rule belongs to the
rate limiter's owners, tests in tests/security and tests/faults.)"""

import base64

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from cantina.asgi import application
from printing import services
from printing.models import Printer, PrintJob, PrintJobEvent
from tests.contract.support import (
    NO_SWEEP,
    assert_closed_with,
    barrier,
    confirm_order,
    connect,
    connect_agent,
    create_printer,
    job_of,
    job_status,
    queue_test_page,
    receive,
    status,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def _no_sweep(settings):
    settings.CANTINA_SWEEP_INTERVAL = NO_SWEEP
    settings.CANTINA_AGENT_PING_INTERVAL = NO_SWEEP


@database_sync_to_async
def snapshot():
    return (
        list(PrintJob.objects.order_by("id").values_list("id", "status", "attempts", "error_code")),
        PrintJobEvent.objects.count(),
        list(Printer.objects.order_by("id").values_list("id", "status", "model_name")),
    )


async def test_authorization_token_header_authenticates():
    _, token = await create_printer()
    agent = WebsocketCommunicator(application, "/ws/agent/", headers=[(b"authorization", f"Token {token}".encode())])
    assert (await agent.connect())[0]
    assert (await receive(agent, "welcome"))["type"] == "welcome"
    await agent.disconnect()


async def test_token_in_the_url_authenticates():
    _, token = await create_printer()
    agent = await connect(token)
    assert (await receive(agent, "welcome"))["type"] == "welcome"
    await agent.disconnect()


async def test_cookies_are_ignored():
    await create_printer()
    agent = WebsocketCommunicator(application, "/ws/agent/", headers=[(b"cookie", b"sessionid=abc; token=x")])
    assert (await agent.connect())[0]
    await assert_closed_with(agent, 4401)


async def test_tokens_are_cp_and_43_url_safe_characters_never_starting_with_a_dash():
    for _ in range(50):
        _, token = await create_printer(name=f"P{_}")
        assert token.startswith("cp_") and len(token) == 46
        assert not token.startswith("-")
        assert set(token[3:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


async def test_check_mode_sends_welcome_with_mode_check_closes_1000_and_keeps_the_live_agent():
    printer, token = await create_printer()
    live = await connect_agent(token)

    check = await connect(token + "&mode=check")
    welcome = await receive(check, "welcome")
    await assert_closed_with(check, 1000)

    assert welcome["mode"] == "check"
    job = await queue_test_page(printer)
    assert (await receive(live, "new_order"))["order"]["job_id"] == job.pk  # still the live one
    await live.disconnect()


async def test_welcome_message():
    printer, token = await create_printer(paper_width=58, profile="TM-T20II", has_cutter=False)
    agent = await connect(token)
    welcome = await receive(agent, "welcome")

    assert welcome["message"] and welcome["timestamp"]
    assert welcome["server_info"]["name"] and welcome["server_info"]["version"]
    assert welcome["server_info"]["capabilities"] == ["order_print", "receipt_print", "status_update"]
    assert welcome["printer"] == {
        "id": printer.pk,
        "name": "Balcão",
        "paper_width": 58,
        "profile": "TM-T20II",
        "has_cutter": False,
    }
    await agent.disconnect()


async def test_new_order_of_an_order_receipt_carries_the_order():
    printer, token = await create_printer(profile="TM-T88V")
    order = await confirm_order("Bruna")
    job = await job_of(order)
    agent = await connect_agent(token)

    message = await receive(agent, "new_order")
    body = message["order"]

    assert message["timestamp"]
    assert body["job_id"] == job.pk and body["order_id"] == order.pk and body["type"] == "order_receipt"
    assert body["content"] == job.content and "Bruna" in body["content"]
    assert base64.b64decode(body["escpos"]) == bytes(job.escpos)
    assert (body["copies"], body["priority"]) == (job.copies, 1)
    assert body["order_info"] == {
        "id": order.pk,
        "number": order.number,
        "channel": "counter",
        "status": "confirmed",
        "total_amount": "9.00",
        "customer_name": "Bruna",
    }
    assert body["printer_config"] == {
        "paper_width": 80,
        "printer_type": "thermal",
        "profile": "TM-T88V",
        "has_cutter": True,
    }
    await agent.disconnect()


async def test_new_order_is_used_for_every_kind_and_order_id_and_order_info_are_null_without_an_order():
    printer, token = await create_printer()
    page = await queue_test_page(printer)
    document = await database_sync_to_async(services.job_create_document)(
        printer=printer, document={"version": "1.0", "commands": [{"type": "text", "data": {"content": "Olá"}}]}
    )
    agent = await connect_agent(token)

    received = {}
    for _ in range(2):
        body = (await receive(agent, "new_order"))["order"]
        received[body["job_id"]] = body

    assert received[page.pk]["type"] == "test_page"
    assert received[document.pk]["type"] == document.kind
    for body in received.values():
        assert body["order_id"] is None and body["order_info"] is None
    await agent.disconnect()


@pytest.mark.parametrize(
    "raw, code",
    [
        ("not json", "bad_message"),
        ("[1, 2]", "bad_message"),
        ('{"no_type": 1}', "unknown_type"),
        ('{"type": "launch_rockets"}', "unknown_type"),
        ('{"type": "print_status", "status": "completed"}', "bad_message"),
        ('{"type": "print_status", "job_id": "1", "status": "completed"}', "bad_message"),
        ('{"type": "print_status", "job_id": 1, "status": "exploded"}', "bad_message"),
        ('{"type": "printer_info"}', "bad_message"),
        ('{"type": "printer_info", "printer": {"status": "on_fire"}}', "bad_message"),
        # Each field's type is checked on its own (an "or", not an "and"):
        ('{"type": "print_status", "job_id": 1, "status": "failed", "error_code": 5}', "bad_message"),
        ('{"type": "print_status", "job_id": 1, "status": "failed", "message": ["jam"]}', "bad_message"),
        ('{"type": "printer_info", "printer": {"status": "ready", "model": 5}}', "bad_message"),
        ('{"type": "printer_info", "printer": {"status": "ready", "message": {"text": "ok"}}}', "bad_message"),
    ],
)
async def test_bad_input_gets_an_error_the_connection_stays_open_and_nothing_changes(raw, code):
    printer, token = await create_printer()
    job = await queue_test_page(printer)
    agent = await connect_agent(token)
    await receive(agent, "new_order")
    before = await snapshot()

    await agent.send_to(text_data=raw)
    error = await receive(agent, "error")

    assert error["code"] == code and error["message"] and error["timestamp"]
    assert await barrier(agent) == []  # still open
    assert await snapshot() == before
    assert await job_status(job.pk) == "sent"
    await agent.disconnect()


async def test_a_job_id_of_another_printer_gets_not_found_and_changes_nothing():
    other, _ = await create_printer("Cozinha")
    theirs = await queue_test_page(other)
    _, token = await create_printer("Balcão")
    agent = await connect_agent(token)
    before = await snapshot()

    await status(agent, theirs.pk, "completed")
    error = await receive(agent, "error")

    assert error["code"] == "not_found" and error["ref"] == theirs.pk
    assert await snapshot() == before
    assert await barrier(agent) == []
    await agent.disconnect()


async def test_the_server_answers_a_ping_with_a_pong():
    _, token = await create_printer()
    agent = await connect_agent(token)
    await agent.send_json_to({"type": "ping", "timestamp": "2026-11-29T10:00:00-03:00"})
    pong = await receive(agent, "pong")
    assert pong["timestamp"]
    await agent.disconnect()


async def test_printer_info_records_the_reported_printer():
    printer, token = await create_printer()
    agent = await connect_agent(token)
    await agent.send_json_to(
        {
            "type": "printer_info",
            "timestamp": "t",
            "printer": {"name": "x", "model": "TM-T20III", "status": "paper_low", "agent_version": "9.9"},
        }
    )
    await barrier(agent)

    saved = await database_sync_to_async(Printer.objects.get)(pk=printer.pk)
    assert (saved.status, saved.model_name, saved.agent_version) == ("paper_low", "TM-T20III", "9.9")
    await agent.disconnect()


async def test_priorities_counter_1_reprint_2_scheduled_3_test_page_and_documents_5():
    printer, _ = await create_printer()
    counter = await job_of(await confirm_order(channel="counter"))
    scheduled = await job_of(await confirm_order(channel="scheduled"))
    # A reprint is offered once the original is printed (or failed).
    await database_sync_to_async(PrintJob.objects.filter(pk=counter.pk).update)(status=PrintJob.Status.COMPLETED)
    reprint = await database_sync_to_async(services.job_reprint)(job_id=counter.pk)
    page = await queue_test_page(printer)
    document = await database_sync_to_async(services.job_create_document)(
        printer=printer, document={"version": "1.0", "commands": [{"type": "text", "data": {"content": "Olá"}}]}
    )

    assert [job.priority for job in (counter, reprint, scheduled, page, document)] == [1, 2, 3, 5, 5]
