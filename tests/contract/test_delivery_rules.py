"""DESIGN.md "Delivery rules (nothing lost, nothing printed twice)": one test per rule, each
failing when that rule alone is broken. The agent-side rule (7) is in test_agent_journal_rules.py."""

import asyncio
import base64

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from printing import notify, services
from printing.groups import printer_group
from printing.models import PrintJob
from tests.contract.support import (
    NO_SWEEP,
    assert_closed_with,
    barrier,
    confirm_order,
    connect_agent,
    create_printer,
    job_history,
    job_of,
    job_status,
    printer_info,
    queue_test_page,
    receive,
    settled_agent,
    status,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def _no_sweep(settings):
    settings.CANTINA_SWEEP_INTERVAL = NO_SWEEP
    settings.CANTINA_AGENT_PING_INTERVAL = NO_SWEEP


# --- rule 1 -------------------------------------------------------------------------------


async def test_rule_1_the_job_row_is_committed_before_anything_is_pushed(monkeypatch):
    printer, _ = await create_printer()
    wakeups = []

    def record_wakeup(printer_id, job_id):
        # What a consumer would do on this wake-up: read the job from the database.
        wakeups.append((job_id, PrintJob.objects.filter(pk=job_id).exists()))

    monkeypatch.setattr(notify, "job_wakeup", record_wakeup)

    @database_sync_to_async
    def create_inside_a_transaction():
        with transaction.atomic():
            job = services.job_create_test_page(printer=printer)
            assert wakeups == [], "a wake-up was pushed before the job row was committed"
        return job

    job = await create_inside_a_transaction()
    await database_sync_to_async(lambda: None)()  # on_commit ran in that thread
    assert wakeups == [(job.pk, True)]


# --- rule 2 -------------------------------------------------------------------------------


async def test_rule_2_the_channel_message_carries_only_the_job_id():
    printer, _ = await create_printer()
    layer = get_channel_layer()
    channel = await layer.new_channel()
    await layer.group_add(printer_group(printer.pk), channel)

    job = await queue_test_page(printer)
    message = await asyncio.wait_for(layer.receive(channel), 10)

    assert message == {"type": "job.wakeup", "job_id": job.pk}


async def test_rule_2_the_consumer_reads_the_job_from_the_database_not_the_message():
    printer, token = await create_printer()
    job = await queue_test_page(printer)
    agent = await connect_agent(token)
    first = await receive(agent, "new_order")
    assert first["order"]["job_id"] == job.pk
    layer = get_channel_layer()

    # A wake-up naming a job that does not exist, or one already sent, sends nothing.
    await layer.group_send(printer_group(printer.pk), {"type": "job.wakeup", "job_id": 999999})
    await layer.group_send(printer_group(printer.pk), {"type": "job.wakeup", "job_id": job.pk})

    assert await barrier(agent) == []
    await agent.disconnect()


# --- rule 3 -------------------------------------------------------------------------------


async def test_rule_3_every_pending_job_is_delivered_on_connect_in_priority_then_id_order():
    printer, token = await create_printer()

    @database_sync_to_async
    def queue_many():
        ids = [services.job_create_test_page(printer=printer).pk for _ in range(45)]  # three claim batches
        # Mixed priorities: delivery order is (priority, id), not creation order.
        PrintJob.objects.filter(pk__in=ids[30:35]).update(priority=1)
        PrintJob.objects.filter(pk__in=ids[::7]).update(priority=9)
        return list(PrintJob.objects.filter(pk__in=ids).order_by("priority", "id").values_list("pk", flat=True))

    expected = await queue_many()
    assert len(expected) > 2 * services.DELIVERY_BATCH

    agent = await connect_agent(token)
    delivered = [(await receive(agent, "new_order"))["order"]["job_id"] for _ in expected]

    assert delivered == expected
    assert await barrier(agent) == []  # nothing twice
    await agent.disconnect()


async def test_rule_3_in_flight_jobs_are_redelivered_with_the_same_id_after_a_reconnect():
    printer, token = await create_printer()
    sent = await queue_test_page(printer)
    printing = await queue_test_page(printer)
    first = await connect_agent(token)
    for _ in range(2):
        await receive(first, "new_order")
    await status(first, printing.pk, "printing")
    await barrier(first)
    await first.disconnect()

    second = await connect_agent(token)
    redelivered = {(await receive(second, "new_order"))["order"]["job_id"] for _ in range(2)}

    assert redelivered == {sent.pk, printing.pk}
    assert (await job_status(sent.pk), await job_status(printing.pk)) == ("sent", "printing")
    await second.disconnect()


async def test_rule_3_a_job_whose_wakeup_was_lost_reaches_a_silent_agent_by_the_sweep(settings, monkeypatch):
    settings.CANTINA_SWEEP_INTERVAL = 1
    printer, token = await create_printer()
    agent = await settled_agent(token)
    monkeypatch.setattr(notify, "job_wakeup", lambda printer_id, job_id: None)  # the wake-up is lost

    job = await queue_test_page(printer)
    message = await receive(agent, "new_order", timeout=15)  # the agent never pings

    assert message["order"]["job_id"] == job.pk
    await agent.disconnect()


async def test_rule_3_a_finished_job_brings_every_waiting_job_not_only_one_claim_batch(monkeypatch):
    """After a ``completed`` the server claims the next jobs in the same database call; a full
    batch means there may be more, and those are sent too (no sweep in this test)."""
    printer, token = await create_printer()
    first = await queue_test_page(printer)
    agent = await connect_agent(token)
    assert (await receive(agent, "new_order"))["order"]["job_id"] == first.pk
    monkeypatch.setattr(notify, "job_wakeup", lambda printer_id, job_id: None)  # wake-ups lost

    @database_sync_to_async
    def queue_many():
        return [services.job_create_test_page(printer=printer).pk for _ in range(2 * services.DELIVERY_BATCH + 5)]

    waiting = await queue_many()
    assert await barrier(agent) == []  # nothing sent without a wake-up
    await status(agent, first.pk, "completed")
    delivered = [(await receive(agent, "new_order"))["order"]["job_id"] for _ in waiting]

    assert delivered == waiting
    assert await barrier(agent) == []
    await agent.disconnect()


async def test_rule_3_the_server_pings_an_agent_that_never_pings(settings):
    settings.CANTINA_SWEEP_INTERVAL = 1
    settings.CANTINA_AGENT_PING_INTERVAL = 1
    _, token = await create_printer()
    agent = await connect_agent(token)

    ping = await agent.receive_json_from(timeout=15)

    assert ping["type"] == "ping" and ping["timestamp"]
    await agent.disconnect()


async def test_rule_3_a_job_created_while_connected_is_delivered_at_once_by_its_wakeup():
    printer, token = await create_printer()
    agent = await settled_agent(token)

    job = await queue_test_page(printer)

    assert (await receive(agent, "new_order"))["order"]["job_id"] == job.pk
    await agent.disconnect()


async def test_rule_3_every_batch_is_delivered_when_many_jobs_wake_the_consumer_at_once(monkeypatch):
    printer, token = await create_printer()
    agent = await settled_agent(token)
    woken = []
    monkeypatch.setattr(notify, "job_wakeup", lambda printer_id, job_id: woken.append(job_id))

    @database_sync_to_async
    def queue_many():
        return [services.job_create_test_page(printer=printer).pk for _ in range(2 * services.DELIVERY_BATCH + 5)]

    ids = await queue_many()
    # One wake-up for all of them (the others were lost): the consumer claims batch after batch.
    await get_channel_layer().group_send(printer_group(printer.pk), {"type": "job.wakeup", "job_id": ids[0]})
    delivered = [(await receive(agent, "new_order"))["order"]["job_id"] for _ in ids]

    assert delivered == ids
    await agent.disconnect()


# --- rule 4 -------------------------------------------------------------------------------


async def test_rule_4_a_job_is_claimed_once_so_two_consumers_never_both_send_it():
    printer, _ = await create_printer()
    job = await queue_test_page(printer)

    first = await database_sync_to_async(services.jobs_claim)(printer_id=printer.pk)
    second = await database_sync_to_async(services.jobs_claim)(printer_id=printer.pk)

    assert [payload["job_id"] for payload in first] == [job.pk]
    assert second == []
    assert await job_history(job.pk) == ["pending", "sent"]


async def test_rule_4_a_replaced_connection_claims_nothing():
    printer, _ = await create_printer()
    await database_sync_to_async(services.printer_connected)(printer_id=printer.pk, channel_name="newer")
    job = await queue_test_page(printer)

    claimed = await database_sync_to_async(services.jobs_claim)(printer_id=printer.pk, channel_name="older")

    assert claimed == []
    assert await job_status(job.pk) == "pending"


async def test_rule_4_one_live_connection_per_printer_the_newer_replaces_the_older_with_4409():
    printer, token = await create_printer()
    older = await connect_agent(token)
    newer = await connect_agent(token)

    await assert_closed_with(older, 4409)
    job = await queue_test_page(printer)
    assert (await receive(newer, "new_order"))["order"]["job_id"] == job.pk
    await newer.disconnect()


# --- rule 5 -------------------------------------------------------------------------------


@pytest.mark.parametrize("blocking", ["paper_out", "cover_open", "offline"])
async def test_rule_5_jobs_wait_while_the_printer_is_blocked_and_go_out_at_once_on_ready(blocking):
    printer, token = await create_printer()
    agent = await settled_agent(token)
    await printer_info(agent, blocking)
    await barrier(agent)

    job = await queue_test_page(printer)
    assert await barrier(agent) == []  # the wake-up came and went: nothing sent
    assert await job_status(job.pk) == "pending"

    await printer_info(agent, "ready")  # no sweep in this test: only the report can send it
    message = await receive(agent, "new_order")

    assert message["order"]["job_id"] == job.pk
    await agent.disconnect()


async def test_rule_5_a_retryable_failure_waits_for_ready_then_the_job_goes_out_again():
    printer, token = await create_printer()
    job = await queue_test_page(printer)
    agent = await connect_agent(token)
    await receive(agent, "new_order")

    await status(agent, job.pk, "failed", error_code="paper_out")
    assert await barrier(agent) == []
    assert await job_status(job.pk) == "pending"

    await printer_info(agent, "ready")
    assert (await receive(agent, "new_order"))["order"]["job_id"] == job.pk
    await agent.disconnect()


# --- rule 6 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "terminal, late",
    [
        ("completed", ["printing", "failed", "received", "completed"]),
        ("failed", ["printing", "completed", "received"]),
    ],
)
async def test_rule_6_a_repeated_or_late_print_status_never_moves_a_terminal_job(terminal, late):
    printer, token = await create_printer()
    job = await queue_test_page(printer)
    agent = await connect_agent(token)
    await receive(agent, "new_order")
    await status(agent, job.pk, "printing")
    await status(agent, job.pk, terminal, error_code="bad_data" if terminal == "failed" else None)
    await barrier(agent)
    history = await job_history(job.pk)

    for report in late:
        await status(agent, job.pk, report, error_code="paper_out" if report == "failed" else None)
    assert [m for m in await barrier(agent) if m["type"] == "error"] == []

    assert await job_status(job.pk) == terminal
    assert await job_history(job.pk) == history
    await agent.disconnect()


# --- helpers of the module ----------------------------------------------------------------


async def test_the_delivered_escpos_is_the_jobs_bytes():
    # Guards the tests above: new_order carries what the database holds.
    printer, token = await create_printer()
    order = await confirm_order()
    job = await job_of(order)
    agent = await connect_agent(token)
    message = await receive(agent, "new_order")
    assert base64.b64decode(message["order"]["escpos"]) == bytes(job.escpos)
    await agent.disconnect()
