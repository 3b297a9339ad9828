"""The agent's WebSocket client: protocol v1 (DESIGN.md, "Agent protocol v1").

One :class:`Agent` holds at most one connection to the server at a time and reconnects with
exponential backoff. Jobs are printed one at a time, in the order received, by a worker task;
the connection keeps answering pings meanwhile, because every blocking step (printer I/O, the
journal's fsync) runs in a thread.

Nothing here is lost when the connection drops: the server re-delivers its ``sent`` and
``printing`` jobs after a reconnect, and the journal decides what a redelivery means (printed
already → ``completed`` again; cut off by a crash → ``failed``/``interrupted``; unknown →
print it).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import json
import logging
import random
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from agent import __version__, faults
from agent.config import Settings, redact_url
from agent.journal import (
    COMPLETED,
    FAILED,
    INTERRUPTED,
    REASON_TEXT,
    Journal,
    JournalError,
    JournalUnwritable,
    LocalEntry,
)
from agent.printers import (
    BLOCKING_STATUSES,
    OFFLINE,
    UNKNOWN,
    Printer,
    PrinterUnavailable,
    PrinterWriteError,
    Session,
)

if TYPE_CHECKING:  # rendering is imported when first needed (it loads Pillow and the renderer)
    from agent.render import PrinterSpec

log = logging.getLogger("agent")

PING_INTERVAL = 8.0  # the protocol asks for a ping at least every 10 s
STABLE_CONNECTION = 15.0  # a connection that lived this long resets the backoff
MAX_MESSAGE_SIZE = 16 * 2**20
PRUNE_INTERVAL = 24 * 3600.0
# A local job waits this long for a printer that is out of paper, open or unreachable; then its
# client gets an error (nothing printed) instead of waiting forever.
LOCAL_WAIT_SECONDS = 120.0
LOCAL_CONTENT_LIMIT = 16_000  # characters of plain text reported to the server per local job

CLOSE_UNAUTHORIZED = 4401
CLOSE_PRINTER_DISABLED = 4403
CLOSE_REPLACED = 4409
CLOSE_TOO_BIG = 4413
CLOSE_FLOODING = 4429
CLOSE_UNAVAILABLE = 4503  # the server's database or channel layer is not answering: come back soon
# After 4503 the server itself is fine and wants the agent back as soon as its database answers
# (its in-flight jobs are re-sent on reconnect): a short, jittered pause, not the exponential backoff.
UNAVAILABLE_RETRY = (1.5, 2.5)

STATUS_MESSAGES = {
    "paper_out": "printer is out of paper",
    "cover_open": "printer cover is open",
    "offline": "printer is offline or unreachable",
}


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class Pacer:
    """Token bucket for outgoing messages: the server closes floods (4429), so never flood.

    A burst of redelivered jobs (say 50 after the paper comes back) is answered at ``rate``
    messages per second instead of all at once.
    """

    def __init__(self, rate: float = 10.0, burst: int = 15) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    async def wait(self) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            await asyncio.sleep((1 - self.tokens) / self.rate)


class Backoff:
    """Exponential backoff with jitter: base, 2×base, 4×base... capped, each ×[0.5, 1]."""

    def __init__(self, base: float = 1.0, cap: float = 30.0) -> None:
        self.base, self.cap = base, cap
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.cap, self.base * 2**self.attempt)
        self.attempt += 1
        return random.uniform(delay / 2, delay)

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class Job:
    job_id: int
    data: bytes
    kind: str = "order_receipt"
    order_number: str | None = None
    received_at: float = field(default_factory=time.monotonic)
    cancelled: bool = False
    printing: bool = False
    blocked: bool = False  # the journal could not take it (disk full): kept, printed once it can


@dataclass
class LocalJob:
    """A job handed to this agent by a local client (the --listen WebSocket listeners)."""

    data: bytes
    source: str  # dialect: ticket-daemon, printerwebsocket, cantina-virtual
    kind: str  # document, raw, order
    content: str = ""  # plain text, for the server's history
    client_ref: str = ""  # the client's own id (ticket id, uid, order number)
    origin: str = ""  # the browser Origin, "" for native clients
    label: str = ""
    # Called with ("printing" | "completed" | "failed", message); must not raise.
    on_event: Callable[[str, str], Awaitable[None]] | None = None
    local_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    created_at: float = field(default_factory=time.monotonic)
    printing: bool = False
    cancelled: bool = False
    outcome: tuple[str, str, str] | None = None  # (state, error_code, detail) once it is over

    # Clients that sent the same job again (same client id) while it was queued or printing.
    followers: list[Callable[[str, str], Awaitable[None]]] = field(default_factory=list)

    async def notify(self, event: str, message: str) -> None:
        for callback in [self.on_event, *self.followers]:
            if callback is None:
                continue
            try:
                await callback(event, message)
            except Exception:  # a client that went away must not stop the printer
                log.debug("local job %s: could not tell the client %s", self.local_id, event, exc_info=True)


class QueueFull(Exception):
    """The printer's queue holds ``capacity`` jobs already."""

    def __init__(self, current: int, capacity: int) -> None:
        super().__init__(f"queue full ({current}/{capacity})")
        self.current, self.capacity = current, capacity


class BadJob(Exception):
    """The ``new_order`` payload cannot be printed (reported as ``bad_data``)."""


def job_bytes(order: dict[str, Any], profile: str | None) -> bytes:
    """The bytes to print: the server's ESC/POS, or (old servers) ``content`` as text."""
    encoded = order.get("escpos")
    if encoded:
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise BadJob("escpos is not valid base64") from None
    content = order.get("content")
    if not isinstance(content, str) or not content:
        raise BadJob("the job has neither escpos nor content")
    from escpos.printer import Dummy

    copies = order.get("copies") or 1
    if not isinstance(copies, int) or not 1 <= copies <= 20:
        raise BadJob(f"bad number of copies {copies!r}")
    try:
        page = Dummy(profile=profile) if profile else Dummy()
    except Exception:
        page = Dummy()
    for _ in range(copies):
        page.text(content if content.endswith("\n") else content + "\n")
        page.cut()
    return bytes(page.output)


class Agent:
    """Connects to the server, prints jobs, reports their status. ``await run()``."""

    def __init__(
        self,
        settings: Settings,
        printer: Printer,
        journal: Journal,
        *,
        backoff: Backoff | None = None,
        ping_interval: float = PING_INTERVAL,
        slow_retry: float = 60.0,
    ) -> None:
        self.settings = settings
        self.printer = printer
        self.journal = journal
        self.backoff = backoff or Backoff()
        self.ping_interval = ping_interval
        self.slow_retry = slow_retry
        self.printer_status = UNKNOWN
        self.server_printer: dict[str, Any] = {}
        self.connected = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._stop = asyncio.Event()
        self._queue: asyncio.Queue[Job | LocalJob] = asyncio.Queue()
        self._jobs: dict[int, Job] = {}  # queued or printing in this process
        self._printer_lock = asyncio.Lock()
        self._status_wakeup = asyncio.Event()
        self._interrupted: list[int] = []
        self._send_lock = asyncio.Lock()
        self._pacer = Pacer()
        self._local: dict[str, LocalJob] = {}  # local jobs queued or printing
        self.started_at = time.monotonic()
        self.jobs_processed = 0
        self.jobs_failed = 0
        self.worker_running = False
        self.journal_problem = ""  # why the journal cannot be written (printer_info says so), or ""
        self._unjournaled_completions: set[int] = set()  # printed, "completed" not journaled yet

    # --- what local clients see ----------------------------------------------------------

    @property
    def printer_name(self) -> str:
        """The name local clients see and may use: ``--name``, the Windows printer's name, the
        server's name for this printer, or the printer URL."""
        if self.settings.name:
            return self.settings.name
        if self.printer.scheme != "win32" and self.server_printer.get("name"):
            return str(self.server_printer["name"])
        return self.printer.display_name

    @property
    def printer_spec(self) -> PrinterSpec:
        """Paper and profile for rendering local documents (the server's settings once known)."""
        from agent.render import PrinterSpec

        return PrinterSpec(
            name=self.printer_name,
            paper_width=int(self.server_printer.get("paper_width") or 80),
            profile=self.settings.profile or self.server_printer.get("profile") or "",
            has_cutter=bool(self.server_printer.get("has_cutter", True)),
        )

    @property
    def queue_current(self) -> int:
        """Jobs waiting or printing, from the server and from local clients alike."""
        return len(self._jobs) + len(self._local)

    @property
    def queue_capacity(self) -> int:
        return self.settings.queue_capacity

    @property
    def is_printing(self) -> bool:
        return self._printer_lock.locked() or any(job.printing for job in self._local.values())

    def local_in_progress(self, source: str, client_ref: str) -> LocalJob | None:
        """A local job queued or printing here that a client sent under its own id ``client_ref``."""
        for job in self._local.values():
            if job.source == source and job.client_ref == client_ref and not job.cancelled:
                return job
        return None

    async def submit_local(self, job: LocalJob) -> int:
        """Queue a local job behind everything already queued; return the queue length.

        Raises QueueFull, or JournalError when the job cannot be recorded (then it is not queued:
        without its journal row it could print twice after a crash).
        """
        if self._stop.is_set():
            raise QueueFull(self.queue_current, self.queue_capacity)
        if self.queue_current >= self.queue_capacity:
            raise QueueFull(self.queue_current, self.queue_capacity)
        self._local[job.local_id] = job  # hold the place while the journal row is written
        try:
            await asyncio.to_thread(
                self.journal.local_add,
                local_id=job.local_id,
                printer=self.settings.printer,
                source=job.source,
                kind=job.kind,
                client_ref=job.client_ref[:200],
                origin=job.origin[:200],
                content=job.content[:LOCAL_CONTENT_LIMIT],
                byte_count=len(job.data),
                sha256=hashlib.sha256(job.data).hexdigest(),
            )
        except JournalError:
            self._local.pop(job.local_id, None)
            raise
        log.info(
            "local job %s: queued from %s%s (%s, %d bytes, queue %d/%d)",
            job.local_id[:8],
            job.source,
            f" {job.origin}" if job.origin else "",
            job.label or job.kind,
            len(job.data),
            self.queue_current,
            self.queue_capacity,
        )
        self._queue.put_nowait(job)
        return self.queue_current

    # --- lifecycle -----------------------------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Run until :meth:`stop`; never raises for network or printer trouble."""
        self._interrupted = await asyncio.to_thread(self.journal.recover)
        for job_id in self._interrupted:
            log.warning("job %s: interrupted (was printing when the agent stopped; not reprinting)", job_id)
        interrupted, dropped = await asyncio.to_thread(self.journal.local_recover, self.settings.printer)
        for local_id in interrupted:
            log.warning("local job %s: interrupted (was printing when the agent stopped; not reprinting)", local_id[:8])
        if dropped:
            log.warning("%d local job(s) were still queued when the agent stopped: not printed", len(dropped))
        try:
            pruned = await asyncio.to_thread(self.journal.prune)
        except JournalError as exc:  # a full or read-only disk must not stop the agent starting
            log.error("journal: cannot forget old jobs: %s", exc)
        else:
            if pruned:
                log.info("journal: forgot %d old finished jobs", pruned)
        await self._refresh_status()
        tasks = [
            asyncio.create_task(self._worker(), name="agent-worker"),
            asyncio.create_task(self._status_poller(), name="agent-status"),
        ]
        try:
            if self.settings.server:
                await self._connection_loop()
            else:  # a standalone local print server
                await self._stop.wait()
        finally:
            await self._finish_current_job()
            await self._drop_local_jobs("the agent is stopping; nothing was printed")
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _drop_local_jobs(self, reason: str) -> None:
        for job in list(self._local.values()):
            if job.printing:
                continue
            job.cancelled = True
            self._local.pop(job.local_id, None)
            with contextlib.suppress(JournalError):
                await asyncio.to_thread(self.journal.local_finish, job.local_id, FAILED, "agent_stopped", reason)
            await job.notify("failed", reason)

    async def _finish_current_job(self, timeout: float = 30.0) -> None:
        """On shutdown, let a job that is already printing finish (and be journaled)."""
        deadline = time.monotonic() + timeout
        while (
            any(job.printing for job in self._jobs.values()) or any(job.printing for job in self._local.values())
        ) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)

    async def _sleep_or_stop(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    # --- connection ----------------------------------------------------------------------

    async def _connection_loop(self) -> None:
        server = self.settings.server_display
        while not self._stop.is_set():
            started = time.monotonic()
            delay = None
            attempt = asyncio.create_task(self._connect_once())
            stopper = asyncio.create_task(self._stop.wait())
            await asyncio.wait({attempt, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not attempt.done():  # stopping: a live connection closes itself cleanly
                with contextlib.suppress(asyncio.TimeoutError, Exception):
                    await asyncio.wait_for(asyncio.shield(attempt), 40)
                attempt.cancel()
                with contextlib.suppress(BaseException):
                    await attempt
                break
            try:
                code, reason = attempt.result()
                delay = self._delay_for_close(code, reason)
            except ConnectionClosed as exc:
                delay = self._delay_for_close(exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else "")
            except InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    log.error(
                        "server %s refused the connection (HTTP %d): token rejected or printer disabled; "
                        "retrying in %.0f s",
                        server,
                        status,
                        self.slow_retry,
                    )
                    delay = self.slow_retry
                else:
                    log.error("server %s answered HTTP %d: is the URL right (.../ws/agent/)?", server, status)
            except InvalidURI:
                log.error("server URL %s is not a valid WebSocket URL", server)
                delay = self.slow_retry
            except (TimeoutError, OSError, InvalidHandshake) as exc:
                log.error("cannot reach server %s: %s", server, _describe(exc))
            except Exception as exc:  # a bug: say so, keep the agent alive
                log.error(
                    "connection failed unexpectedly: %s: %s",
                    type(exc).__name__,
                    exc,
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
            if self._stop.is_set():
                break
            if time.monotonic() - started >= STABLE_CONNECTION:
                self.backoff.reset()
            if delay is None:
                delay = self.backoff.next()
                log.info("reconnecting in %.1f s", delay)
            await self._sleep_or_stop(delay)

    def _delay_for_close(self, code: int | None, reason: str) -> float | None:
        """Log why the server closed the connection; return a special delay or None."""
        server = self.settings.server_display
        if code == CLOSE_UNAUTHORIZED:
            log.error(
                "token rejected by %s (close 4401): check --token / CANTINA_TOKEN "
                "(`manage.py printer_token` issues a new one); retrying in %.0f s",
                server,
                self.slow_retry,
            )
            return self.slow_retry
        if code == CLOSE_PRINTER_DISABLED:
            log.error("printer is disabled on %s (close 4403); retrying in %.0f s", server, self.slow_retry)
            return self.slow_retry
        if code == CLOSE_REPLACED:
            delay = self.slow_retry / 2
            log.error(
                "another agent connected with this printer's token and took over (close 4409); retrying in %.0f s",
                delay,
            )
            return delay
        if code == CLOSE_UNAVAILABLE:
            self.backoff.reset()  # the server answered: a failure after this starts the backoff afresh
            delay = random.uniform(*UNAVAILABLE_RETRY)
            log.warning(
                "server %s cannot reach its database or channel layer (close 4503); reconnecting in %.1f s",
                server,
                delay,
            )
            return delay
        if code in (CLOSE_TOO_BIG, CLOSE_FLOODING):
            log.error("server closed the connection (%d %s)", code, reason)
            return None
        detail = f"close {code} {reason}".strip() if code else "no close frame"
        log.warning("connection to %s lost (%s)", server, detail)
        return None

    async def _connect_once(self) -> tuple[int | None, str]:
        """One connection, until it closes; returns the close code and reason."""
        headers = {"Authorization": f"Token {self.settings.token}"} if self.settings.token else None
        server = self.settings.server
        assert server, "connects only with a server (config.require_connection)"
        tls = tls_context(self.settings) if server.startswith("wss:") else None
        async with connect(
            server,
            additional_headers=headers,
            open_timeout=10,
            ping_interval=20,
            ping_timeout=20,
            close_timeout=5,
            max_size=MAX_MESSAGE_SIZE,
            user_agent_header=f"cantina-agent/{__version__}",
            ssl=tls,
        ) as ws:
            self._ws = ws
            log.info("connected to %s", self.settings.server_display)
            heartbeat = asyncio.create_task(self._heartbeat())
            receiver = asyncio.create_task(self._receive(ws))
            stopper = asyncio.create_task(self._stop.wait())
            try:
                await self._send_printer_info()
                interrupted, self._interrupted = self._interrupted, []
                for job_id in interrupted:
                    await self._report_interrupted(job_id)
                self.connected.set()
                await self._report_local_backlog()
                await asyncio.wait({receiver, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if stopper.done():
                    # Start nothing new, but let a receipt being printed finish and be
                    # acknowledged while the connection is still up.
                    self._drop_queued_jobs()
                    await self._finish_current_job()
                    await ws.close(1000, "agent stopping")
                else:
                    receiver.result()  # raises ConnectionClosedError for abnormal closes
            finally:
                self.connected.clear()
                self._ws = None
                for task in (heartbeat, receiver, stopper):
                    task.cancel()
                self._drop_queued_jobs()
            return ws.close_code, ws.close_reason or ""

    async def _receive(self, ws: ClientConnection) -> None:
        async for raw in ws:
            await self._dispatch(raw)

    def _drop_queued_jobs(self) -> None:
        """Forget jobs not started yet: the server re-delivers them after the reconnect."""
        for job in list(self._jobs.values()):
            if not job.printing:
                job.cancelled = True
                del self._jobs[job.job_id]

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            await self._send({"type": "ping", "timestamp": now_iso()})

    async def _send(self, message: dict[str, Any]) -> bool:
        async with self._send_lock:  # one sender at a time keeps messages in order
            ws = self._ws
            if ws is None:
                return False
            await self._pacer.wait()
            if ws is not self._ws:
                return False
            try:
                await ws.send(json.dumps(message))
                return True
            except ConnectionClosed:
                return False

    # --- server messages -----------------------------------------------------------------

    async def _dispatch(self, raw: str | bytes) -> None:
        try:
            message = json.loads(raw)
            kind = message["type"]
        except (ValueError, TypeError, KeyError):
            log.warning("ignoring a malformed message from the server")
            return
        if kind == "new_order":
            await self._on_new_order(message.get("order"))
        elif kind == "ping":
            await self._send({"type": "pong", "timestamp": now_iso()})
        elif kind == "pong":
            pass
        elif kind == "cancel":
            self._on_cancel(message.get("job_id"))
        elif kind == "welcome":
            self.server_printer = message.get("printer") or {}
            name = self.server_printer.get("name")
            log.info("server welcomes printer %s", repr(name) if name else "(unnamed)")
        elif kind == "local_job_recorded":
            local_id, status = message.get("local_id"), message.get("status")
            if isinstance(local_id, str) and isinstance(status, str):
                with contextlib.suppress(JournalError):
                    await asyncio.to_thread(self.journal.local_mark_reported, local_id, _journal_state(status, message))
                log.debug("local job %s: recorded by the server as job %s", local_id[:8], message.get("job_id"))
        elif kind == "error":
            log.warning("server error %s: %s", message.get("code"), message.get("message"))
        else:
            log.debug("ignoring server message of type %r", kind)

    async def _on_new_order(self, order: Any) -> None:
        job_id = order.get("job_id") if isinstance(order, dict) else None
        if not isinstance(job_id, int) or isinstance(job_id, bool):
            log.warning("ignoring new_order without a job_id")
            return
        if job_id in self._jobs:
            log.debug("job %s: already queued or printing here", job_id)
            return
        if job_id in self._unjournaled_completions:
            log.info("job %s: completed (redelivered; printed, not printing again)", job_id)
            await self._send_status(job_id, "completed", "already printed (agent memory; journal not writable)")
            return
        entry = self.journal.get(job_id)
        if entry is not None and entry.state == COMPLETED:
            log.info("job %s: completed (redelivered; already printed, not printing again)", job_id)
            await self._send_status(job_id, "completed", "already printed (agent journal)")
            return
        if entry is not None:  # started or interrupted, and not in progress here
            if entry.state != INTERRUPTED:
                with contextlib.suppress(JournalError):  # a full disk: reported all the same
                    await asyncio.to_thread(self.journal.mark_interrupted, job_id)
            log.warning("job %s: failed (interrupted; it may have printed, not reprinting)", job_id)
            await self._report_interrupted(job_id)
            return
        profile = self.settings.profile or self.server_printer.get("profile")
        try:
            data = job_bytes(order, profile)
        except BadJob as exc:
            log.error("job %s: failed (bad_data: %s)", job_id, exc)
            await self._send_status(job_id, "failed", str(exc), "bad_data")
            return
        info = order.get("order_info") or {}
        job = Job(job_id, data, kind=str(order.get("type") or ""), order_number=info.get("number"))
        self._jobs[job_id] = job
        label = f" (order {job.order_number})" if job.order_number else ""
        log.info("job %s: received%s, %d bytes", job_id, label, len(data))
        await self._send_status(job_id, "received", "queued at the agent")
        self._queue.put_nowait(job)

    def _on_cancel(self, job_id: Any) -> None:
        job = self._jobs.get(job_id)
        if job is None:
            log.info("job %s: cancel received (not queued here)", job_id)
        elif job.printing:
            log.warning("job %s: cancel received too late, already printing", job_id)
        else:
            job.cancelled = True
            del self._jobs[job_id]
            log.info("job %s: cancelled", job_id)

    # --- printing ------------------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            self.worker_running = True
            job = await self._queue.get()
            if job.cancelled:
                continue
            if isinstance(job, LocalJob):
                try:
                    await self._print_local(job)
                except Exception:
                    log.exception("local job %s: unexpected error", job.local_id)
                    self._local.pop(job.local_id, None)
                    job.printing = False
                continue
            try:
                await self._print(job)
                # A job the journal could not take is printed (once) when the disk is back,
                # before any later job: order kept, nothing skipped.
                while job.blocked and await self._wait_for_journal(job):
                    job.blocked = False
                    await self._print(job)
                if job.blocked:  # dropped (disconnect, cancel) or stopping: the server re-sends it
                    job.blocked = False
                    if self._jobs.get(job.job_id) is job:
                        del self._jobs[job.job_id]
            except Exception:  # a bug must not stop the agent printing later jobs
                log.exception("job %s: unexpected error", job.job_id)
                self._jobs.pop(job.job_id, None)
                job.printing = False

    async def _print(self, job: Job) -> None:
        async with self._printer_lock:
            try:
                session = await asyncio.to_thread(self.printer.open)
            except PrinterUnavailable as exc:
                self.printer.last_error = str(exc)
                await self._set_printer_status(OFFLINE)
                await self._fail_retryable(job, OFFLINE, str(exc))
                return
            try:
                status = await asyncio.to_thread(session.read_status)
                await self._set_printer_status(status)
                if status in BLOCKING_STATUSES:
                    await self._fail_retryable(job, status, STATUS_MESSAGES[status])
                    return
                faults.crash_point("before_print")
                if job.cancelled:
                    return
                job.printing = True
                digest = hashlib.sha256(job.data).hexdigest()
                # Journal, then report "printing": a job the journal cannot take stays "sent" at
                # the server (still cancellable) while the agent waits for its disk.
                try:
                    await asyncio.to_thread(self.journal.mark_started, job.job_id, len(job.data), digest)
                except JournalUnwritable as exc:
                    # A full or read-only disk passes: keep the job, print nothing, say so, retry.
                    job.printing = False
                    job.blocked = True
                    await self._journal_unwritable(exc)
                    log.error("job %s: waiting, not printed: %s", job.job_id, exc)
                    return
                except JournalError as exc:
                    # Without a durable "started" we could print twice after a crash: don't print.
                    log.error("job %s: failed (agent_error: %s)", job.job_id, exc)
                    await self._send_status(job.job_id, "failed", f"agent journal error: {exc}", "agent_error")
                    return
                log.info("job %s: printing", job.job_id)
                await self._send_status(job.job_id, "printing", "sending to the printer")
                started = time.monotonic()
                try:
                    await asyncio.to_thread(_write, session, job.data)
                except PrinterWriteError as exc:
                    with contextlib.suppress(JournalError):  # "started" stays: interrupted after a restart too
                        await asyncio.to_thread(self.journal.mark_interrupted, job.job_id)
                    log.error(
                        "job %s: failed (interrupted: printer connection broke while printing: %s; "
                        "it may be partly printed, not reprinting)",
                        job.job_id,
                        exc,
                    )
                    await self._send_status(
                        job.job_id,
                        "failed",
                        f"printer connection broke while printing ({exc}); may be partly printed",
                        "interrupted",
                    )
                    self._status_wakeup.set()
                    return
                try:
                    await asyncio.to_thread(self.journal.mark_completed, job.job_id)
                except JournalError as exc:
                    # Remembered here and written once the disk takes it: a redelivery meanwhile
                    # is answered "completed", not "interrupted" or printed again.
                    self._unjournaled_completions.add(job.job_id)
                    log.error("job %s: printed, but the journal could not record it: %s", job.job_id, exc)
                faults.crash_point("after_print")
                log.info("job %s: completed in %.2f s", job.job_id, time.monotonic() - started)
                self.jobs_processed += 1
                # Journaled: a redelivery from now on is answered from the journal, not dropped as
                # "already queued here" (the server may re-send as soon as it reads "completed").
                job.printing = False
                self._jobs.pop(job.job_id, None)
                await self._send_status(job.job_id, "completed", "printed")
            finally:
                await asyncio.to_thread(session.close)
                job.printing = False
                if not job.blocked:
                    self._jobs.pop(job.job_id, None)

    async def _journal_unwritable(self, exc: JournalUnwritable) -> None:
        """Tell the server (printer_info ``error`` with the reason) that nothing can print."""
        problem = f"agent {REASON_TEXT.get(exc.reason, 'disk error')}: cannot write its journal, not printing"
        if problem != self.journal_problem:
            self.journal_problem = problem
            log.error("%s (%s)", problem, exc)
            await self._send_printer_info()

    async def _wait_for_journal(self, job: Job) -> bool:
        """Until the journal takes writes again (True), or the job is dropped or the agent stops."""
        while not self._stop.is_set() and not job.cancelled:
            try:
                await asyncio.to_thread(self.journal.probe)
            except JournalUnwritable as exc:
                await self._journal_unwritable(exc)
            except JournalError as exc:
                log.error("journal probe failed: %s", exc)
            else:
                await self._journal_writable()
                return True
            await self._sleep_or_stop(min(self.settings.status_interval, 2.0))
        return False

    async def _journal_writable(self) -> None:
        for job_id in sorted(self._unjournaled_completions):
            with contextlib.suppress(JournalError):
                await asyncio.to_thread(self.journal.mark_completed, job_id)
                self._unjournaled_completions.discard(job_id)
        if self.journal_problem:
            log.warning("journal writable again: printing resumes")
            self.journal_problem = ""
            await self._send_printer_info()

    async def _print_local(self, job: LocalJob) -> None:
        """Print one local job: wait (up to LOCAL_WAIT_SECONDS) while the printer cannot print,
        journal ``started`` before the first byte, tell the client and then the server."""
        try:
            await self._print_local_locked(job)
        finally:
            # Told once the printer is free again: a client asking for the printer's status right
            # after "printed" must not hear "printing".
            if job.outcome is not None and not job.cancelled:
                await self._finish_local(job, *job.outcome)

    async def _print_local_locked(self, job: LocalJob) -> None:
        state, error_code, detail = FAILED, "", ""
        session = None
        async with self._printer_lock:
            try:
                deadline = job.created_at + LOCAL_WAIT_SECONDS
                while True:
                    if self._stop.is_set():
                        error_code, detail = "agent_stopped", "the agent is stopping; nothing was printed"
                        return
                    if job.cancelled:
                        return
                    status, session = await self._open_ready()
                    if session is not None:
                        break
                    if time.monotonic() >= deadline:
                        error_code = status
                        detail = f"{STATUS_MESSAGES.get(status, status)}; nothing was printed"
                        log.error("local job %s: failed (%s)", job.local_id[:8], detail)
                        return
                    await self._sleep_or_stop(min(self.settings.status_interval, 1.0))
                faults.crash_point("before_print")
                job.printing = True
                try:
                    await asyncio.to_thread(self.journal.local_started, job.local_id)
                except JournalError as exc:
                    error_code, detail = "agent_error", f"agent journal error: {exc}; nothing was printed"
                    log.error("local job %s: failed (%s)", job.local_id[:8], detail)
                    return
                log.info("local job %s: printing", job.local_id[:8])
                await job.notify("printing", "printing")
                started = time.monotonic()
                try:
                    await asyncio.to_thread(_write, session, job.data)
                except PrinterWriteError as exc:
                    state, error_code = INTERRUPTED, "interrupted"
                    detail = f"printer connection broke while printing ({exc}); may be partly printed"
                    log.error("local job %s: failed (interrupted: %s; not reprinting)", job.local_id[:8], exc)
                    self._status_wakeup.set()
                    return
                state = COMPLETED
                log.info("local job %s: completed in %.2f s", job.local_id[:8], time.monotonic() - started)
            finally:
                if session is not None:
                    await asyncio.to_thread(session.close)
                job.printing = False
                self._local.pop(job.local_id, None)
                job.outcome = (state, error_code, detail)

    async def _open_ready(self) -> tuple[str, Session | None]:
        """(status, an open session) when the printer can print now, else (status, None)."""
        try:
            session = await asyncio.to_thread(self.printer.open)
        except PrinterUnavailable as exc:
            self.printer.last_error = str(exc)
            await self._set_printer_status(OFFLINE)
            return OFFLINE, None
        status = await asyncio.to_thread(session.read_status)
        await self._set_printer_status(status)
        if status in BLOCKING_STATUSES:
            await asyncio.to_thread(session.close)
            return status, None
        return status, session

    async def _finish_local(self, job: LocalJob, state: str, error_code: str, detail: str) -> None:
        try:
            await asyncio.to_thread(self.journal.local_finish, job.local_id, state, error_code, detail)
        except JournalError as exc:
            log.error("local job %s: the journal could not record %s: %s", job.local_id[:8], state, exc)
        if state == COMPLETED:
            self.jobs_processed += 1
            await job.notify("completed", "printed")
        else:
            self.jobs_failed += 1
            await job.notify("failed", detail)
        entry = await asyncio.to_thread(self.journal.local_get, job.local_id)
        if entry is not None:
            await self._report_local(entry)

    async def _report_local_backlog(self) -> None:
        """After (re)connecting: every finished local job the server has not confirmed yet."""
        after, reported = None, 0
        while True:
            try:
                entries = await asyncio.to_thread(self.journal.local_unreported, self.settings.printer, after=after)
            except JournalError as exc:
                log.error("cannot read local jobs to report: %s", exc)
                return
            if not entries:
                break
            if not reported:
                log.info("reporting local jobs printed or failed while the server was unreachable")
            for entry in entries:
                if not await self._report_local(entry):
                    return
                reported += 1
            after = entries[-1]
        if reported:
            log.info("reported %d local job(s) to the server", reported)

    async def _report_local(self, entry: LocalEntry) -> bool:
        return await self._send(local_job_message(entry))

    async def _fail_retryable(self, job: Job, code: str, detail: str) -> None:
        self._jobs.pop(job.job_id, None)
        log.warning(
            "job %s: failed (%s: %s); the server resends it when the printer is ready", job.job_id, code, detail
        )
        await self._send_status(job.job_id, "failed", detail, code)

    async def _report_interrupted(self, job_id: int) -> None:
        await self._send_status(
            job_id,
            "failed",
            "the agent stopped while printing this job; it may be partly printed (reprint it if needed)",
            "interrupted",
        )

    async def _send_status(self, job_id: int, status: str, message: str, error_code: str | None = None) -> None:
        payload = {
            "type": "print_status",
            "timestamp": now_iso(),
            "job_id": job_id,
            "status": status,
            "message": message,
        }
        if error_code:
            payload["error_code"] = error_code
        if not await self._send(payload):
            log.debug("job %s: not connected, '%s' will be sent again on redelivery", job_id, status)

    # --- printer status ------------------------------------------------------------------

    async def _status_poller(self) -> None:
        last_prune = time.monotonic()
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._status_wakeup.wait(), self.settings.status_interval)
            self._status_wakeup.clear()
            if time.monotonic() - last_prune > PRUNE_INTERVAL:
                last_prune = time.monotonic()
                with contextlib.suppress(JournalError):
                    await asyncio.to_thread(self.journal.prune)
            if any(job.printing for job in self._jobs.values()) or self._printer_lock.locked():
                continue
            await self._refresh_status()

    async def _refresh_status(self) -> None:
        async with self._printer_lock:
            status = await asyncio.to_thread(self.printer.probe_status)
        await self._set_printer_status(status)

    async def _set_printer_status(self, status: str) -> None:
        if status == self.printer_status:
            return
        previous, self.printer_status = self.printer_status, status
        line = f"printer {self.printer}: {status} (was {previous})"
        if status == OFFLINE and self.printer.last_error:
            line += ": " + self.printer.last_error
        if status in BLOCKING_STATUSES or status == "error":
            log.warning(line)
        else:
            log.info(line)
        await self._send_printer_info()

    async def _send_printer_info(self) -> None:
        await self._send(
            {
                "type": "printer_info",
                "timestamp": now_iso(),
                "printer": {
                    "name": self.settings.name or str(self.printer),
                    "model": self.settings.profile or self.server_printer.get("profile") or "unknown",
                    # A journal that cannot be written stops printing as surely as a jam.
                    "status": "error" if self.journal_problem else self.printer_status,
                    "message": self.journal_problem,
                    "agent_version": __version__,
                    "connection": self.printer.scheme,
                    "reads_status": self.printer.reads_status,
                },
            }
        )


def _write(session: Session, data: bytes) -> None:
    faults.hang_point("during_print")
    session.write(data)


def _iso(moment: float | None) -> str | None:
    return datetime.fromtimestamp(moment, UTC).isoformat() if moment else None


def _journal_state(status: str, message: dict[str, Any]) -> str:
    """The journal state a ``local_job_recorded`` confirms (failed + interrupted = interrupted)."""
    if status == "failed" and message.get("error_code") == "interrupted":
        return INTERRUPTED
    return status


def local_job_message(entry: LocalEntry) -> dict[str, Any]:
    """The ``local_job`` message (agent protocol v1 extension) for one finished local job."""
    status = "completed" if entry.state == COMPLETED else "failed"
    events = [{"status": "pending", "at": _iso(entry.created_at), "message": f"received from {entry.source}"}]
    if entry.started_at:
        events.append({"status": "printing", "at": _iso(entry.started_at), "message": "sending to the printer"})
    events.append({"status": status, "at": _iso(entry.finished_at), "message": entry.message or "printed"})
    return {
        "type": "local_job",
        "timestamp": now_iso(),
        "local_id": entry.local_id,
        "source": entry.source,
        "kind": entry.kind,
        "client": {"ref": entry.client_ref or None, "origin": entry.origin or None},
        "status": status,
        "error_code": entry.error_code or None,
        "message": entry.message,
        "content": entry.content[:LOCAL_CONTENT_LIMIT],
        "byte_count": entry.byte_count,
        "sha256": entry.sha256,
        "events": events,
    }


def tls_context(settings: Settings) -> ssl.SSLContext:
    """Certificates are verified; ``ca_file`` adds a private CA to the system's trusted ones."""
    context = ssl.create_default_context()
    if settings.ca_file:
        context.load_verify_locations(cafile=settings.ca_file)
    return context


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return text.replace("\n", " ")


__all__ = ["Agent", "Backoff", "LocalJob", "QueueFull", "job_bytes", "local_job_message", "redact_url", "tls_context"]
