"""Helpers for the contract tests: the real ASGI application through WebsocketCommunicator.

Timing rules are pinned with settings, never wall-clock luck: the sweep interval is set huge
when a test checks that something happens *without* the sweep, and a ping/pong round trip is the
barrier that says "the consumer has handled everything sent before it".
"""

from decimal import Decimal

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from cantina.asgi import application
from orders.models import Order, OrderItem
from printing import services
from printing.groups import STAFF_GROUP
from printing.models import Printer, PrintJob

NO_SWEEP = 3600  # seconds: "the sweep never runs during this test"


@database_sync_to_async
def create_printer(name="Balcão", **fields):
    printer = Printer.objects.create(name=name, **fields)
    return printer, services.printer_issue_token(printer=printer)


@database_sync_to_async
def confirm_order(customer_name="Ana", channel="counter"):
    order = Order.objects.create(customer_name=customer_name, channel=channel, status="pending")
    OrderItem.objects.create(order=order, name="Pão de queijo", quantity=2, unit_price=Decimal("4.50"))
    order.status = Order.Status.CONFIRMED
    order.save()
    return order


@database_sync_to_async
def job_of(order, kind="order_receipt"):
    return PrintJob.objects.get(order=order, kind=kind)


@database_sync_to_async
def queue_test_page(printer):
    return services.job_create_test_page(printer=printer)


@database_sync_to_async
def job_status(job_id):
    return PrintJob.objects.get(pk=job_id).status


@database_sync_to_async
def job_history(job_id):
    return list(PrintJob.objects.get(pk=job_id).events.order_by("id").values_list("status", flat=True))


async def connect(token, path="/ws/agent/"):
    communicator = WebsocketCommunicator(application, f"{path}?token={token}")
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def connect_agent(token):
    """Connect and read the welcome."""
    communicator = await connect(token)
    await receive(communicator, "welcome")
    return communicator


async def settled_agent(token):
    """Connect, read the welcome, and wait until the consumer's connect-time delivery is over
    (it runs after the welcome): whatever reaches this agent afterwards came from a later
    wake-up, report or sweep. For tests whose printer has no job yet."""
    communicator = await connect_agent(token)
    assert await barrier(communicator) == []
    return communicator


async def receive(communicator, kind, timeout=10):
    """The next message of this type, skipping server pings."""
    while True:
        message = await communicator.receive_json_from(timeout=timeout)
        if message["type"] == "ping" and kind != "ping":
            continue
        assert message["type"] == kind, message
        return message


async def barrier(communicator):
    """Return once the consumer has handled everything sent before (and the delivery a ping
    starts): two ping/pong round trips, messages being handled one at a time. Returns any
    non-pong messages seen meanwhile."""
    seen = []
    for _ in range(2):
        await communicator.send_json_to({"type": "ping", "timestamp": "2026-11-29T10:00:00-03:00"})
        while True:
            message = await communicator.receive_json_from(timeout=10)
            if message["type"] == "pong":
                break
            if message["type"] != "ping":
                seen.append(message)
    return seen


async def assert_closed_with(communicator, code, timeout=10):
    while True:
        message = await communicator.receive_output(timeout=timeout)
        if message["type"] == "websocket.send":
            continue  # a ping or anything sent before the close
        assert message == {"type": "websocket.close", "code": code}
        return


async def status(communicator, job_id, status, error_code=None, message=None):
    payload = {"type": "print_status", "timestamp": "2026-11-29T10:00:00-03:00", "job_id": job_id, "status": status}
    if error_code:
        payload["error_code"] = error_code
    if message:
        payload["message"] = message
    await communicator.send_json_to(payload)


async def printer_info(communicator, printer_status):
    await communicator.send_json_to(
        {
            "type": "printer_info",
            "timestamp": "2026-11-29T10:00:00-03:00",
            "printer": {"name": "Balcão", "model": "TM-T20III", "status": printer_status, "agent_version": "test"},
        }
    )


class StaffListener:
    """A channel in the staff group of the in-memory layer: what staff pages would be told."""

    def __init__(self):
        self.layer = get_channel_layer()
        self.channel = None

    async def __aenter__(self):
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(STAFF_GROUP, self.channel)
        return self

    async def __aexit__(self, *exc):
        await self.layer.group_discard(STAFF_GROUP, self.channel)

    async def next_job_status(self, job_id, timeout=10):
        """The status in the next ``job.updated`` about ``job_id`` (other jobs' are skipped)."""
        import asyncio

        while True:
            message = await asyncio.wait_for(self.layer.receive(self.channel), timeout)
            if message["type"] == "job.updated" and message["job"]["id"] == job_id:
                return message["job"]["status"]
