"""A channel layer that hangs (Redis stopped with SIGSTOP, a link that swallows packets) stalls
nothing: every call gives up after CANTINA_CHANNEL_LAYER_TIMEOUT and delivery goes on from the
database (fault scenario tests/faults/test_redis_hang.py does it with a real Redis)."""

import asyncio
import os
import threading

import pytest
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from cantina.asgi import application
from orders.models import Order
from printing import notify, services
from printing.models import Printer, PrintJob


class HangingChannelLayer(InMemoryChannelLayer):
    """Accepts every call and never answers, like a Redis process that was stopped."""

    calls = []

    async def _hang(self, name):
        HangingChannelLayer.calls.append(name)
        await asyncio.Event().wait()

    async def group_send(self, group, message):
        await self._hang("group_send")

    async def group_add(self, group, channel):
        await self._hang("group_add")

    async def group_discard(self, group, channel):
        await self._hang("group_discard")

    async def receive(self, channel):
        await self._hang("receive")


@pytest.fixture
def hanging_layer(settings):
    from channels.layers import channel_layers

    HangingChannelLayer.calls = []
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.HangingChannelLayer"}}
    settings.CANTINA_CHANNEL_LAYER_TIMEOUT = 1
    channel_layers.backends.clear()
    return HangingChannelLayer


def finishes(function, seconds=30):
    """Run ``function`` in a thread; its result, or AssertionError if it is still blocked after
    ``seconds`` (a liveness bound many times the 1 s timeout, not a speed test)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function()
        finally:
            connections.close_all()  # this thread's own connection, or the test database stays busy

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still blocked after {seconds} s: a channel-layer call has no timeout"
    return outcome.get("value")


@pytest.mark.django_db(transaction=True)
def test_a_counter_sale_confirms_and_queues_its_receipts_while_the_channel_layer_hangs(
    hanging_layer, attendant_user, products, make_printer
):
    make_printer("Balcão", auto_print=["counter"])
    make_printer("Cozinha", auto_print=["counter"])
    client = Client()
    client.force_login(attendant_user)
    notify._skip_until, hanging_layer.calls[:] = 0.0, []  # what setting up the printers sent

    response = finishes(
        lambda: client.post("/", {"product": [products[0].pk], "quantity": [2], "payment_method": "cash"})
    )

    assert response.status_code == 302
    order = Order.objects.get()
    assert order.status == Order.Status.CONFIRMED
    assert sorted(PrintJob.objects.filter(order=order).values_list("printer__name", "status")) == [
        ("Balcão", "pending"),
        ("Cozinha", "pending"),
    ]
    # Two wake-ups and their staff updates: after the first send timed out, the others were
    # skipped at once instead of each waiting out the timeout.
    assert hanging_layer.calls == ["group_send"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_an_agent_connects_and_gets_its_jobs_while_the_channel_layer_hangs(hanging_layer):
    @database_sync_to_async
    def printer_with_a_job():
        printer = Printer.objects.create(name="Balcão")
        token = services.printer_issue_token(printer=printer)
        job = services.job_create_test_page(printer=printer)
        return token, job.pk

    token, job_id = await printer_with_a_job()
    communicator = WebsocketCommunicator(application, f"/ws/agent/?token={token}")
    connected, _ = await communicator.connect(timeout=30)
    assert connected

    welcome = await communicator.receive_json_from(timeout=30)
    assert welcome["type"] == "welcome"
    delivered = await communicator.receive_json_from(timeout=30)
    assert (delivered["type"], delivered["order"]["job_id"]) == ("new_order", job_id)
    assert {"group_add", "group_send"} <= set(hanging_layer.calls)
    await communicator.disconnect(timeout=10)  # its goodbye waits out one more timeout


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_the_staff_live_link_is_refused_while_the_channel_layer_hangs(hanging_layer):
    @database_sync_to_async
    def session_cookie():
        from tests.conftest import user_with_role

        user = user_with_role("carol", "Atendente")
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    communicator = WebsocketCommunicator(
        application,
        "/ws/staff/",
        headers=[(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", await session_cookie())],
    )
    connected, code = await communicator.connect(timeout=30)

    # Refused: the page shows "live updates are disconnected" and keeps trying, instead of a
    # link that looks live and never updates.
    assert (connected, code) == (False, 4503)
    await communicator.disconnect(timeout=10)


def test_a_wakeup_sent_while_the_server_shuts_down_gives_up_instead_of_holding_the_process(settings):
    """On SIGTERM daphne stops its event loop, then Python waits for every worker thread. A thread
    committing a job (its on_commit sends the wake-up) must not wait for that loop forever, or
    the process never exits (found by tests/faults/test_rolling_restart.py)."""
    from asgiref.sync import SyncToAsync

    stopped_loop = asyncio.new_event_loop()  # the server's loop, no longer running
    calls = []

    class Layer(InMemoryChannelLayer):
        async def group_send(self, group, message):
            calls.append(group)

    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.InMemoryChannelLayer"}}

    def worker_thread():
        # What asgiref records in the threads that run a server's synchronous code.
        SyncToAsync.threadlocal.main_event_loop = stopped_loop
        SyncToAsync.threadlocal.main_event_loop_pid = os.getpid()
        with pytest.raises(RuntimeError, match="shutting down"):
            notify.run_layer_call(Layer().group_send, "printer.1", {"type": "job.wakeup"})
        notify.job_wakeup(1, 2)  # logged and dropped: the sweep of the next process delivers it
        return True

    try:
        assert finishes(worker_thread, seconds=30)
    finally:
        stopped_loop.close()
    assert calls == []
