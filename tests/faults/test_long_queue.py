"""A long queue at lunch rush: it never drops a job, and each printer's queue length is visible.

The printer runs out of paper while orders keep coming; staff see its queue grow (the printers
panel reads ``printer_summary``). When the paper is back, every job goes out once, in order
(priority, then id), through the real consumer, and the queue empties. The agent here acknowledges
as fast as it can, so the server's flood limit is raised: this test is about the queue, not
about flooding (tests/faults/test_agent_kill.py drains long queues with real, paced agents).
"""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from cantina.asgi import application
from printing import selectors
from printing.models import Printer, PrintJob

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(120)]

ORDERS = 200


@database_sync_to_async
def printer_with_queue(make_printer, make_order):
    printer = make_printer("Balcão", status=Printer.Status.PAPER_OUT)
    for number in range(ORDERS):
        make_order(customer_name=f"Cliente {number}", channel="scheduled" if number % 4 == 0 else "counter")
    return printer


@database_sync_to_async
def queued(printer):
    return selectors.printer_summary(Printer.objects.get(pk=printer.pk))["queued"]


@database_sync_to_async
def delivery_order(printer):
    return list(PrintJob.objects.filter(printer=printer).order_by("priority", "id").values_list("pk", flat=True))


@database_sync_to_async
def statuses(printer):
    return sorted(set(PrintJob.objects.filter(printer=printer).values_list("status", flat=True)))


async def new_orders_within(agent, seconds):
    """The new_order messages that arrive within ``seconds`` (others are skipped).

    A timeout in ``receive_json_from`` would end the application, so poll with receive_nothing.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    found = []
    while loop.time() < deadline:
        if await agent.receive_nothing(timeout=0.1):
            continue
        message = await agent.receive_json_from()
        if message["type"] == "new_order":
            found.append(message["order"]["job_id"])
    return found


async def test_a_long_queue_waits_visibly_then_prints_every_job_once_in_order(settings, make_printer, make_order):
    settings.CANTINA_AGENT_MAX_MESSAGES_PER_SECOND = 10_000
    printer = await printer_with_queue(make_printer, make_order)
    expected = await delivery_order(printer)
    assert len(expected) == ORDERS
    assert await queued(printer) == ORDERS

    agent = WebsocketCommunicator(application, f"/ws/agent/?token={printer.token}")
    assert (await agent.connect())[0]
    await agent.send_json_to({"type": "printer_info", "printer": {"name": "Balcão", "status": "paper_out"}})
    assert (await agent.receive_json_from(timeout=5))["type"] == "welcome"
    assert await new_orders_within(agent, 1.5) == [], "a job was sent to a printer out of paper"
    assert await queued(printer) == ORDERS

    await agent.send_json_to({"type": "printer_info", "printer": {"name": "Balcão", "status": "ready"}})
    received = []
    while len(received) < ORDERS:
        message = await agent.receive_json_from(timeout=10)
        if message["type"] != "new_order":
            continue
        job_id = message["order"]["job_id"]
        received.append(job_id)
        await agent.send_json_to({"type": "print_status", "job_id": job_id, "status": "completed"})

    assert received == expected, "a job dropped, repeated or out of order"
    for _ in range(100):  # the last acknowledgements are still being applied
        if await statuses(printer) == ["completed"]:
            break
        await asyncio.sleep(0.05)
    assert await statuses(printer) == ["completed"]
    assert await queued(printer) == 0
    assert await new_orders_within(agent, 2) == [], "a finished job was sent again"
    await agent.disconnect()
