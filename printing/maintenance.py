"""Periodic maintenance that belongs to no connection: it runs whether or not agents are here.

- repair: receipts of confirmed orders whose creation was cut short (``services.jobs_create_missing``);
- expiry: jobs not printed within CANTINA_JOB_EXPIRY_HOURS fail as ``expired`` (``services.jobs_expire``);
- presence: printers whose server process died without a goodbye go offline (``services.printers_mark_stale``);
- cloud printers: offline after three missed polls, hand-outs never confirmed fail ``interrupted``
  (``printing.cloud.services.cloud_maintenance``).

Every task is idempotent and safe to run in several processes at once (conditional updates), so
each ASGI server process runs them in a daemon thread (``start_in_process``, called by
cantina/asgi.py when the process loads the application; off with
CANTINA_MAINTENANCE_IN_PROCESS=false, as the tests' own process does),
and ``python manage.py printing_maintenance [--once]`` runs them as a separate worker.

The per-connection sweep (waking this process's agents, closing revoked or replaced
connections, pings, group refresh) stays in ``printing.consumers.AgentRegistry``.

Adding a task (e.g. the print API's webhook outbox delivery): append a ``Task`` to
``MAINTENANCE_TASKS`` (or call ``register``) from the app that owns it, e.g. in its
``AppConfig.ready``. The function takes no arguments and must be idempotent.
"""

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import close_old_connections, connection

from printing import services
from printing.cloud import services as cloud

log = logging.getLogger("cantina.printing")


@dataclass
class Task:
    name: str
    run: Callable[[], object]
    # 0: at every pass (every CANTINA_SWEEP_INTERVAL); a callable is read at each pass (a setting).
    every_seconds: float | Callable[[], float] = 0
    last_run: float = field(default=float("-inf"), compare=False)

    def due(self, now):
        every = self.every_seconds() if callable(self.every_seconds) else self.every_seconds
        return now - self.last_run >= every


MAINTENANCE_TASKS = [
    Task("receipts_repair", services.jobs_create_missing),
    Task("jobs_expire", services.jobs_expire, every_seconds=lambda: settings.CANTINA_EXPIRY_INTERVAL),
    Task("printers_mark_stale", services.printers_mark_stale),
    # Cloud printers (no agent): offline after three missed polls; handed out and never
    # confirmed within CANTINA_CLOUD_CONFIRM_SECONDS -> failed "interrupted".
    Task("cloud_printers", cloud.cloud_maintenance),
    # An agent printer that never connected raises the printer-down alarm too (issue 17).
    Task("printers_never_connected", services.printers_open_never_connected),
]


def register(task):
    """Add a task to every maintenance pass (idempotent by name)."""
    if all(existing.name != task.name for existing in MAINTENANCE_TASKS):
        MAINTENANCE_TASKS.append(task)


def run_pass(*, force=False, tasks=None, traceback=True):
    """Run the tasks that are due (all of them with ``force``); return {name: error} of failures.

    One failing task (the database restarting, say) is logged (with its traceback unless
    ``traceback=False``) and does not stop the others.
    """
    failed = {}
    now = time.monotonic()
    for task in MAINTENANCE_TASKS if tasks is None else tasks:
        if not (force or task.due(now)):
            continue
        task.last_run = now
        try:
            task.run()
        except Exception as error:
            log.error("event=maintenance_failed task=%s error=%r", task.name, str(error), exc_info=traceback)
            failed[task.name] = error
        finally:
            # Outside any request (the thread, the command): drop connections that broke or
            # outlived CONN_MAX_AGE, as request_finished would. Never inside a caller's transaction.
            if not connection.in_atomic_block:
                close_old_connections()
    return failed


def run_forever(*, interval=None, stop=None):
    """A pass every ``interval`` seconds (CANTINA_SWEEP_INTERVAL) until ``stop`` is set."""
    stop = stop or threading.Event()
    interval = interval or settings.CANTINA_SWEEP_INTERVAL
    while not stop.is_set():
        run_pass()
        stop.wait(interval)


_started = {"pid": None, "thread": None}
_start_lock = threading.Lock()


def start_in_process():
    """Start the maintenance thread of this server process once (unless turned off). Returns it."""
    if not settings.CANTINA_MAINTENANCE_IN_PROCESS:
        return None
    with _start_lock:
        thread = _started["thread"]
        if _started["pid"] == os.getpid() and thread is not None and thread.is_alive():
            return thread
        thread = threading.Thread(target=run_forever, name="cantina-maintenance", daemon=True)
        thread.start()
        _started.update(pid=os.getpid(), thread=thread)
        log.info("event=maintenance_started interval=%ss", settings.CANTINA_SWEEP_INTERVAL)
        return thread
