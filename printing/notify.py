"""Channel-layer messages sent after commit: wake-ups for agents, updates for staff pages.

A lost message here never loses a job: the database is the source of truth and each server
process sweeps for pending jobs (see printing.consumers.AgentRegistry). So failures are logged,
never raised into the request that confirmed the order, and every call gives up after
CANTINA_CHANNEL_LAYER_TIMEOUT seconds: a Redis that hangs must not hang that request.
"""

import asyncio
import collections
import logging
import os
import threading
import time
import weakref

from asgiref.sync import SyncToAsync
from channels.layers import get_channel_layer
from django.conf import settings

from printing.groups import STAFF_GROUP, printer_group

log = logging.getLogger("cantina.printing")

# After a failed send, this process skips sending for CANTINA_CHANNEL_LAYER_TIMEOUT seconds: one
# confirmation sends several messages, and each would wait out the timeout on a Redis that hangs.
_skip_until = 0.0


async def layer_call(method, *args):
    """Await a channel-layer call, raising TimeoutError after CANTINA_CHANNEL_LAYER_TIMEOUT s."""
    async with asyncio.timeout(settings.CANTINA_CHANNEL_LAYER_TIMEOUT):
        return await method(*args)


def run_layer_call(method, *args):
    """Run a channel-layer call from synchronous code; raises instead of hanging.

    Code running in one of the server's threads (a view, a consumer's database call committing)
    hands the call to the server's event loop. ``async_to_sync`` would wait for that loop forever
    once it has stopped: during a SIGTERM such a thread then never ends and the process never
    exits (found by tests/faults/test_rolling_restart.py). So the wait is bounded here, and a
    stopped loop refuses at once.
    """
    loop = None
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid():
        loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None:  # a management command, the maintenance thread: a loop of its own
        return _own_loop().run_until_complete(layer_call(method, *args))
    if not loop.is_running():
        raise RuntimeError("the server is shutting down (its event loop has stopped)")
    future = asyncio.run_coroutine_threadsafe(layer_call(method, *args), loop)
    try:
        return future.result(settings.CANTINA_CHANNEL_LAYER_TIMEOUT + 1)
    except TimeoutError:
        future.cancel()
        raise


_threads = threading.local()


def _own_loop():
    """This thread's event loop for channel-layer calls, kept for the thread's life.

    Not ``async_to_sync``: without a server loop it runs ``asyncio.run`` per call, a new loop
    (and new Redis connections) each time, and closing it walks every task of the process: with
    thousands of agents connected, the maintenance thread marking printers offline after a
    restart spent most of the server's CPU there (bench.storm, py-spy).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError("run_layer_call() called from async code: await layer_call() instead")
    loop = getattr(_threads, "loop", None)
    if loop is None or loop.is_closed():
        loop = _threads.loop = asyncio.new_event_loop()
    return loop


def _server_loop():
    """The server's event loop when this thread runs the server's synchronous code, else None."""
    if getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) == os.getpid():
        return getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    return None


def _failed(group, error):
    global _skip_until
    _skip_until = time.monotonic() + settings.CANTINA_CHANNEL_LAYER_TIMEOUT
    log.warning(
        "event=channel_layer_send_failed group=%s error=%s skipping_for=%ss",
        group,
        str(error) or type(error).__name__,
        settings.CANTINA_CHANNEL_LAYER_TIMEOUT,
    )


def _skipping(group, message):
    if time.monotonic() < _skip_until:
        log.info("event=channel_layer_send_skipped group=%s type=%s", group, message.get("type"))
        return True
    return False


class _Sender:
    """Sends handed over by the server's threads, one at a time and in order, on the server loop.

    A thread committing a job used to wait for each of its sends (the wake-up, the staff updates,
    3–5 per job) to be run by the event loop, which under load is busy with the agents: the one
    database thread then stood idle in turn. Now it queues them and goes on; the order of the
    messages is kept (one task sends them), and a failure is logged and skips sends for
    CANTINA_CHANNEL_LAYER_TIMEOUT seconds as before.
    """

    senders: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Sender]" = (
        weakref.WeakKeyDictionary()
    )  # loop → sender

    def __init__(self):
        self.queue = collections.deque()
        self.task = None

    @classmethod
    def enqueue(cls, layer, group, message):  # runs on the server loop
        loop = asyncio.get_running_loop()
        sender = cls.senders.get(loop)
        if sender is None:
            sender = cls.senders[loop] = cls()
        sender.queue.append((layer, group, message))
        if sender.task is None or sender.task.done():
            sender.task = loop.create_task(sender.run())

    async def run(self):
        # Ends when the queue is empty (no task left pending when a loop closes); enqueue starts
        # another. Nothing else runs between the last check and the end: no item is left behind.
        while self.queue:
            layer, group, message = self.queue.popleft()
            if _skipping(group, message) or not _anybody_listens(layer, group):
                continue
            try:
                await layer_call(layer.group_send, group, message)
            except Exception as error:  # the channel layer is optional for correctness
                _failed(group, error)


def _anybody_listens(layer, group):
    """False when the layer knows that nobody listens to ``group`` (the in-memory layer: no staff
    page open, say); True when it cannot know (Redis: another process may have listeners).

    Asked on the event loop just before sending, where the layer itself would look: the same
    answer as a ``group_send`` to nobody, without its cost at every job transition (issue 16).
    """
    has_members = getattr(layer, "has_members", None)
    return has_members is None or has_members(group)


def _group_send(group, message):
    layer = get_channel_layer()
    if layer is None or _skipping(group, message):
        return
    loop = _server_loop()
    try:
        if loop is None:
            run_layer_call(layer.group_send, group, message)
        elif not loop.is_running():
            raise RuntimeError("the server is shutting down (its event loop has stopped)")
        else:
            loop.call_soon_threadsafe(_Sender.enqueue, layer, group, message)
    except Exception as error:  # the channel layer is optional for correctness, never for the caller
        _failed(group, error)


def job_wakeup(printer_id, job_id):
    _group_send(printer_group(printer_id), {"type": "job.wakeup", "job_id": job_id})


def agent_job_cancelled(printer_id, job_id):
    """Tell the printer's agent connection that a job it was sent is cancelled (it drops it)."""
    _group_send(printer_group(printer_id), {"type": "agent.job_cancelled", "job_id": job_id})


def agent_recheck(printer_id):
    """Ask live connections of this printer to re-check their token and whether it is enabled."""
    _group_send(printer_group(printer_id), {"type": "agent.recheck"})


def staff_job_updated(job_data):
    _group_send(STAFF_GROUP, {"type": "job.updated", "job": job_data})


def staff_printer_updated(printer_data):
    _group_send(STAFF_GROUP, {"type": "printer.updated", "printer": printer_data})


def staff_order_updated(order_data):
    _group_send(STAFF_GROUP, {"type": "order.updated", "order": order_data})
