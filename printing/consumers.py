"""WebSocket consumers: printer agents (/ws/agent/) and staff pages (/ws/staff/).

Consumers decode, check and hand off to printing.services (changes) and printing.selectors
(reads); the messages themselves are built by printing.protocol; every database touch is one
``database_sync_to_async`` call that returns plain values. Channel-layer messages are only
wake-ups: what to send always comes from the database.
"""

import asyncio
import json
import logging
import time
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer, AsyncWebsocketConsumer
from django.conf import settings
from django.db import InterfaceError, OperationalError

from accounts import roles
from cantina.delivery_first import delivery_call
from printing import local_jobs, notify, selectors, services
from printing.groups import STAFF_GROUP, printer_group
from printing.models import Printer
from printing.protocol import (
    AGENT_REPORTED_STATUSES,
    CloseCode,
    cancel_message,
    error_message,
    local_job_recorded_message,
    new_order_message,
    ping_message,
    pong_message,
    welcome_message,
)

log = logging.getLogger("cantina.printing")

GROUP_REFRESH_SECONDS = 3600
# Pongs answering the server's pings are free of the flood limit; more than this many owed
# means the agent ignores pings, and its pongs are then unsolicited anyway.
MAX_PINGS_UNANSWERED = 3
INVALID_JSON = object()

# What a database that restarts raises (Django's wrappers of psycopg's and sqlite3's errors).
DATABASE_ERRORS = (OperationalError, InterfaceError)


# Jobs per sweep checked for a staff cancel the channel layer may have lost (most connections
# have a handful in flight; a burst is covered over a few sweeps).
CANCEL_CHECK_LIMIT = 500


def first_line(error):
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def query_param(scope, name):
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0].strip() if values else ""


def token_from_scope(scope):
    """The agent token from ``Authorization: Token …`` or ``?token=…`` (cookies are ignored)."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() in {"token", "bearer"} and credentials.strip():
                return credentials.strip()
    return query_param(scope, "token")


class RateLimiter:
    """Token bucket: ``rate`` messages per second on average, bursts up to 8 seconds' worth.

    The burst is for a link that stalls and resumes: everything a well-behaved (paced) agent
    sent meanwhile arrives at once, and that is not a flood (tests/faults/test_network_cut.py).
    """

    BURST_SECONDS = 8

    def __init__(self, rate):
        self.rate = rate
        self.capacity = rate * self.BURST_SECONDS
        self.tokens = float(self.capacity)
        self.updated = time.monotonic()

    def allow(self):
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class AgentRegistry:
    """The agent connections of this process, swept periodically by one task.

    One sweep costs a couple of queries whatever the number of agents: it finds printers whose
    pending jobs lost their wake-up (dropped by the channel layer, or created by a process
    sharing no channel layer with this one), closes connections whose token was revoked, whose
    printer was disabled or taken over by a newer connection, refreshes ``last_seen_at`` and
    pings agents (a client that never pings still gets its jobs within the sweep interval).
    Work that is not about this process's connections (receipt repair, expiry, stale printers)
    is printing.maintenance's, which runs in every process, agents or not.
    """

    def __init__(self):
        self.consumers = {}
        self.task = None
        self.rejoin_needed = False  # the channel layer failed: groups may be gone

    def add(self, consumer):
        self.consumers[consumer.channel_name] = consumer
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self.run())

    def remove(self, consumer):
        self.consumers.pop(consumer.channel_name, None)

    async def run(self):
        while self.consumers:
            await asyncio.sleep(settings.CANTINA_SWEEP_INTERVAL)
            try:
                await self.sweep()
            except Exception:
                log.exception("event=sweep_failed retry_in=%ss", settings.CANTINA_SWEEP_INTERVAL)

    async def sweep(self):
        consumers = [c for c in self.consumers.values() if c.printer_id is not None]
        if not consumers:
            return
        printer_ids = sorted({c.printer_id for c in consumers})
        # Jobs sent on these connections and not printing yet: a staff cancel of one of them
        # travels by the channel layer only, so a Redis outage would lose it; the database says.
        waiting = {job_id: c for c in consumers for job_id in c.cancellable_in_flight()}
        auth, pending, cancelled = await database_sync_to_async(self._state)(
            printer_ids, sorted(waiting)[:CANCEL_CHECK_LIMIT]
        )
        for job_id in cancelled:
            await waiting[job_id].send_cancel(job_id)
        now = time.monotonic()
        for consumer in consumers:
            if consumer.closing:
                continue
            try:
                await self.sweep_one(consumer, auth, pending, now)
            except Exception as error:
                # One connection that went away meanwhile ("Attempt to send on a closed
                # protocol") must not cost every other agent its pings and lost wake-ups.
                log.warning(
                    "printer=%s event=sweep_skipped_connection error=%s",
                    consumer.printer_id,
                    str(error) or type(error).__name__,
                )
        if self.rejoin_needed:
            # A restarted Redis has forgotten every group: without joining again, wake-ups fall
            # back on this sweep and a staff cancel, which has no fallback, never arrives. One
            # receive failing says so for the whole process (they share one Redis read).
            self.rejoin_needed = False
            for consumer in consumers:
                if not consumer.closing and not await consumer.join_group():
                    self.rejoin_needed = True  # still down: again at the next sweep
                    break

    @staticmethod
    async def sweep_one(consumer, auth, pending, now):
        verdict = consumer.verdict(auth.get(consumer.printer_id))
        if verdict is not None:
            await consumer.close(code=verdict)
            return
        if consumer.printer_id in pending:
            await consumer.deliver()
        if now - consumer.group_joined_at >= GROUP_REFRESH_SECONDS:
            await consumer.join_group()
        # An agent heard from within the interval (it pings by itself, as the real one does) is
        # alive: pinging it too would only double an idle fleet's messages.
        interval = settings.CANTINA_AGENT_PING_INTERVAL
        if now - consumer.last_ping_sent >= interval and now - consumer.last_heard >= interval:
            consumer.last_ping_sent = now
            await consumer.send_ping()

    @staticmethod
    def _state(printer_ids, in_flight_ids=()):
        auth = selectors.printers_auth_state(printer_ids)
        services.printers_touch(printer_ids)
        cancelled = selectors.jobs_cancelled(in_flight_ids) if in_flight_ids else []
        return auth, selectors.printers_with_pending_jobs(printer_ids), cancelled


registry = AgentRegistry()


def resilient(receive):
    """Wrap a channel-layer receive so an outage (Redis restarting) is waited out, not fatal.

    Not a public Channels hook (it replaces ``channel_receive``), kept on purpose: Channels has
    none for this, and without it a Redis restart ends the consumer and drops every agent
    (commit f4d250d; covered by tests/e2e/test_redis_outage_e2e.py and tests/faults/test_redis_restart.py).
    """

    async def receive_or_wait():
        delay = 0.5
        while True:
            try:
                return await receive()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("event=channel_layer_receive_failed retry_in=%.1fs error=%r", delay, str(error))
                registry.rejoin_needed = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    return receive_or_wait


class DirectDispatch:
    """Dispatch without channels' ``close_old_connections`` before every message.

    Overrides ``dispatch`` (not a public hook), kept on purpose because it was measured: Channels
    (4.2+) runs it through ``sync_to_async`` for each message, so every agent ping, acknowledgement
    and wake-up waited its turn on the one database thread, behind other agents' queries. Every
    database touch here goes through ``database_sync_to_async``, which already closes stale
    connections. Bench (bench/, one daphne, 100 agents, commit 7d62b01): confirm → new_order p99
    at 20 jobs/s 169 ms → 25 ms, saturation 32 → 55 jobs/s.
    """

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class AgentConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """One printer agent: authenticates by token, receives its printer's jobs, reports status."""

    printer_id = None

    @property
    def channel_receive(self):
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive):
        # Channels sets this when the consumer starts; the database keeps delivery going meanwhile.
        self._channel_receive = resilient(receive)

    async def connect(self):
        # Accept first: a close code only reaches a client after the handshake.
        await self.accept()
        self.limiter = RateLimiter(settings.CANTINA_AGENT_MAX_MESSAGES_PER_SECOND)
        # Replies the server asked for never count toward the flood limit (DESIGN.md, protocol
        # v1): the statuses still owed for each job sent on this connection, and unanswered pings.
        self.owed_statuses = {}
        self.cancels_sent = set()  # job ids this connection was told are cancelled
        self.pings_unanswered = 0
        self.delivery_lock = asyncio.Lock()
        self.last_ping_sent = self.last_heard = time.monotonic()
        self.closing = False
        try:
            await self.start_session()
        except DATABASE_ERRORS as error:
            await self.database_unavailable("connect", error)

    async def start_session(self):
        # One database call authenticates and (for a live agent) marks the printer connected, and
        # one more after joining the group sends what is in flight and claims what is pending:
        # a restart brings every agent back at once, and each hop waits on the one database thread.
        check = query_param(self.scope, "mode") == "check"
        printer = await database_sync_to_async(services.agent_session_start)(
            token=token_from_scope(self.scope), channel_name=self.channel_name, check=check
        )
        if printer is None:
            log.info("event=agent_rejected reason=invalid_token code=%s", CloseCode.UNAUTHORIZED)
            await self.close(code=CloseCode.UNAUTHORIZED)
            return
        if not printer["is_active"]:
            log.info(
                "printer=%s event=agent_rejected reason=printer_disabled code=%s",
                printer["id"],
                CloseCode.PRINTER_DISABLED,
            )
            await self.close(code=CloseCode.PRINTER_DISABLED)
            return
        self.printer = printer
        if check:
            # `python -m agent --check`: prove the token works without replacing the live agent.
            await self.send_json(welcome_message(self.printer) | {"mode": "check"})
            await self.close(code=1000)
            return
        self.printer_id = printer["id"]
        self.token_hash = printer["token_hash"]
        self.group = printer_group(self.printer_id)
        # Joined after the printer is marked connected and before the claim below: a job created
        # meanwhile is either claimed below or wakes this connection up.
        await self.join_group()
        # Older connections of this printer, in this process or another, close with 4409 (the
        # sweep closes them too, from the database, should this message be lost).
        await self.layer_call(
            self.channel_layer.group_send, self.group, {"type": "agent.replaced", "channel": self.channel_name}
        )
        registry.add(self)
        await self.send_json(welcome_message(self.printer))
        await self.deliver(resend_in_flight=True)

    async def disconnect(self, code):
        if self.printer_id is None:
            return
        registry.remove(self)
        await self.layer_call(self.channel_layer.group_discard, self.group, self.channel_name)
        try:
            await database_sync_to_async(services.printer_disconnected)(
                printer_id=self.printer_id, channel_name=self.channel_name
            )
        except DATABASE_ERRORS as error:  # printers_mark_stale marks it offline later
            log.warning(
                "printer=%s event=agent_disconnected database=unavailable error=%s", self.printer_id, first_line(error)
            )

    async def database_unavailable(self, handling, error):
        """The database failed while handling an agent message (PostgreSQL restarting).

        An acknowledgement the server could not record must not be lost: closing makes the
        agent reconnect, the server then re-sends its in-flight jobs, and the agent answers each
        from its journal (printed → ``completed`` again). A delivery cut off the same way may
        have claimed jobs (committed ``sent``) it never sent: the reconnect re-sends those too.
        """
        log.warning(
            "printer=%s event=agent_closed reason=database_unavailable handling=%s code=%s error=%s",
            self.printer_id,
            handling,
            CloseCode.UNAVAILABLE,
            first_line(error),
        )
        await self.close(code=CloseCode.UNAVAILABLE)

    async def close(self, code=None, reason=None):
        if self.closing:
            return
        self.closing = True
        await super().close(code=code)

    async def join_group(self):
        # Group membership expires in channels-redis (group_expiry, 1 day by default), and
        # agents stay connected for weeks: the sweep calls this again every hour.
        self.group_joined_at = time.monotonic()
        return await self.layer_call(self.channel_layer.group_add, self.group, self.channel_name)

    async def layer_call(self, method, *args):
        """A channel-layer call that may fail or hang (Redis restarting, stopped) without failing
        or stalling the agent: wake-ups are only a shortcut, the sweep delivers from the database."""
        try:
            await notify.layer_call(method, *args)
        except Exception as error:
            log.warning(
                "printer=%s event=channel_layer_unavailable error=%s",
                self.printer_id,
                str(error) or type(error).__name__,
            )
            return False
        return True

    def verdict(self, auth_state):
        """The close code this connection deserves now, or None if it may stay."""
        if auth_state is None:
            return CloseCode.UNAUTHORIZED
        token_hash, is_active, connection_channel = auth_state
        if token_hash != self.token_hash:
            return CloseCode.UNAUTHORIZED
        if not is_active:
            return CloseCode.PRINTER_DISABLED
        if connection_channel and connection_channel != self.channel_name:
            return CloseCode.REPLACED
        return None

    # --- delivery ---------------------------------------------------------------------------

    async def deliver(self, resend_in_flight=False):
        try:
            await self._deliver(resend_in_flight)
        except DATABASE_ERRORS as error:
            await self.database_unavailable("deliver", error)

    async def _deliver(self, resend_in_flight=False):
        """Send this printer's deliverable jobs; after a (re)connect also re-send in-flight ones."""
        if self.printer_id is None or self.closing:
            return
        async with self.delivery_lock:
            if resend_in_flight:
                in_flight, claimed = await delivery_call(services.agent_delivery_start)(
                    printer_id=self.printer_id, channel_name=self.channel_name
                )
                for payload in in_flight + claimed:
                    await self.send_new_order(payload)
                if len(claimed) < services.DELIVERY_BATCH:
                    return
            while not self.closing:
                payloads = await delivery_call(services.jobs_claim)(
                    printer_id=self.printer_id, channel_name=self.channel_name
                )
                for payload in payloads:
                    await self.send_new_order(payload)
                if len(payloads) < services.DELIVERY_BATCH:
                    break

    async def send_new_order(self, payload):
        self.owed_statuses.setdefault(payload["job_id"], set(AGENT_REPORTED_STATUSES))
        await self.send_json(new_order_message(payload))

    async def send_ping(self):
        self.pings_unanswered = min(self.pings_unanswered + 1, MAX_PINGS_UNANSWERED)
        await self.send_json(ping_message())

    def solicited(self, content):
        """Whether ``content`` answers something this connection was sent (free of the limit).

        A ``print_status`` for a job sent here, each status at most once per job (a finished job
        owes nothing more), and a ``pong`` for each ping sent. Anything else is unsolicited.
        """
        if not isinstance(content, dict):
            return False
        kind = content.get("type")
        if kind == "pong":
            if self.pings_unanswered > 0:
                self.pings_unanswered -= 1
                return True
            return False
        if kind != "print_status":
            return False
        job_id, status = content.get("job_id"), content.get("status")
        owed = self.owed_statuses.get(job_id) if isinstance(job_id, int) and not isinstance(job_id, bool) else None
        if owed is None or status not in owed:
            return False
        if status in {"completed", "failed"}:
            # A retryable failure sends the job again later, and owes a fresh set then.
            del self.owed_statuses[job_id]
        else:
            owed.discard(status)
        return True

    # --- messages from the agent ------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.printer_id is None or self.closing:
            return
        self.last_heard = time.monotonic()
        size = len(bytes_data) if bytes_data is not None else len(text_data or "")
        if text_data is not None and size * 4 > settings.CANTINA_AGENT_MAX_MESSAGE_BYTES:
            size = len(text_data.encode("utf-8"))
        if size > settings.CANTINA_AGENT_MAX_MESSAGE_BYTES:
            log.warning(
                "printer=%s event=agent_closed reason=message_too_big bytes=%s code=%s",
                self.printer_id,
                size,
                CloseCode.MESSAGE_TOO_BIG,
            )
            await self.close(code=CloseCode.MESSAGE_TOO_BIG)
            return
        content = None
        if text_data is not None:
            try:
                content = json.loads(text_data)
            except ValueError:
                content = INVALID_JSON
        if not self.solicited(content) and not self.limiter.allow():
            log.warning(
                "printer=%s event=agent_closed reason=too_many_messages code=%s",
                self.printer_id,
                CloseCode.TOO_MANY_MESSAGES,
            )
            await self.close(code=CloseCode.TOO_MANY_MESSAGES)
            return
        if text_data is None:
            await self.send_error("bad_message", "Send JSON text frames, not binary frames.")
            return
        if content is INVALID_JSON:
            await self.send_error("bad_message", "The message is not valid JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            await self.send_error("bad_message", 'A message must be a JSON object with a "type".')
            return
        kind = content.get("type")
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            await self.send_error(
                "unknown_type", f"Unknown message type {kind!r}.", ref=kind if isinstance(kind, str) else None
            )
            return
        try:
            await handler(self, content)
        except DATABASE_ERRORS as error:
            await self.database_unavailable(kind, error)

    async def send_error(self, code, message, ref=None):
        await self.send_json(error_message(code, message, ref))

    async def on_ping(self, content):
        # No database query: idle agents cost the same whatever their ping rate. A job whose
        # wake-up was lost is the sweep's (AgentRegistry), within CANTINA_SWEEP_INTERVAL.
        await self.send_json(pong_message())

    async def on_pong(self, content):
        pass

    async def on_printer_info(self, content):
        info = content.get("printer")
        if not isinstance(info, dict):
            await self.send_error("bad_message", 'printer_info needs a "printer" object.')
            return
        status = info.get("status", Printer.Status.UNKNOWN)
        if not isinstance(status, str) or status not in Printer.Status.values:
            await self.send_error(
                "bad_message",
                f"Unknown printer status {status!r}; use one of {', '.join(Printer.Status.values)}.",
            )
            return
        fields = {key: info.get(key) for key in ("model", "agent_version", "message")}
        if any(value is not None and not isinstance(value, str) for value in fields.values()):
            await self.send_error(
                "bad_message", "printer_info fields model, agent_version and message must be strings."
            )
            return
        previous, current = await database_sync_to_async(services.printer_report)(
            printer_id=self.printer_id, status=status, **{k: v or "" for k, v in fields.items()}
        )
        if previous != current and current not in Printer.BLOCKING_STATUSES:
            await self.deliver()

    async def on_print_status(self, content):
        job_id = content.get("job_id")
        status = content.get("status")
        if isinstance(job_id, bool) or not isinstance(job_id, int):
            await self.send_error("bad_message", 'print_status needs an integer "job_id".', ref=job_id)
            return
        if status not in AGENT_REPORTED_STATUSES:
            await self.send_error(
                "bad_message", 'print_status "status" must be received, printing, completed or failed.', ref=job_id
            )
            return
        error_code = content.get("error_code") or ""
        message = content.get("message") or ""
        if not isinstance(error_code, str) or not isinstance(message, str):
            await self.send_error("bad_message", '"error_code" and "message" must be strings.', ref=job_id)
            return
        # One database call records the report and, after a finished job, claims the next ones;
        # the delivery lock keeps those in order with any other delivery of this connection.
        async with self.delivery_lock:
            outcome, payloads = await delivery_call(services.job_report)(
                job_id=job_id,
                printer_id=self.printer_id,
                channel_name=self.channel_name,
                status=status,
                error_code=error_code,
                message=message,
            )
            for payload in payloads:
                if self.closing:
                    break
                await self.send_new_order(payload)
        if not outcome.ok:
            await self.send_error(outcome.error, outcome.message, ref=job_id)
            return
        if len(payloads) >= services.DELIVERY_BATCH:
            await self.deliver()  # a full batch: there may be more

    async def on_local_job(self, content):
        """A job the agent printed for a client on its own PC (agent --listen): record it once."""
        try:
            report = local_jobs.local_job_parse(content)
        except local_jobs.LocalJobError as error:
            ref = content.get("local_id")
            await self.send_error("bad_message", str(error), ref=ref if isinstance(ref, str) else None)
            return
        job_id, status, error_code = await database_sync_to_async(local_jobs.local_job_record)(
            printer_id=self.printer_id, report=report
        )
        await self.send_json(
            local_job_recorded_message(local_id=report.local_id, job_id=job_id, status=status, error_code=error_code)
        )

    handlers = {
        "ping": on_ping,
        "pong": on_pong,
        "printer_info": on_printer_info,
        "print_status": on_print_status,
        "local_job": on_local_job,
    }

    # --- channel-layer events ---------------------------------------------------------------

    async def job_wakeup(self, event):
        # A wake-up for a job this connection has already sent (an earlier claim took it in its
        # batch) has nothing new for it: its claim would only queue a database call ahead of the
        # agent's reports, one per job of a burst (issue 16). Nothing is lost by skipping it: that
        # job is in flight here, and every other pending job has a wake-up of its own, the
        # follow-up claim of a finished job, or the sweep.
        if event.get("job_id") in self.owed_statuses:
            return
        await self.deliver()  # a database error closes the link with 4503 (deliver)

    async def agent_job_cancelled(self, event):
        await self.send_cancel(event["job_id"])

    def cancellable_in_flight(self):
        """Jobs sent on this connection whose agent has not said "printing" (nor been told of a cancel)."""
        return [
            job_id
            for job_id, owed in self.owed_statuses.items()
            if "printing" in owed and job_id not in self.cancels_sent
        ]

    async def send_cancel(self, job_id):
        """Tell the agent once, whether the channel layer or the sweep (the database) says so first."""
        if job_id in self.cancels_sent:
            return
        self.cancels_sent.add(job_id)
        await self.send_json(cancel_message(job_id))

    async def agent_replaced(self, event):
        if event.get("channel") != self.channel_name:
            log.info("printer=%s event=agent_replaced code=%s", self.printer_id, CloseCode.REPLACED)
            await self.close(code=CloseCode.REPLACED)

    async def agent_recheck(self, event):
        auth = await database_sync_to_async(selectors.printers_auth_state)([self.printer_id])
        verdict = self.verdict(auth.get(self.printer_id))
        if verdict is not None:
            await self.close(code=verdict)


class StaffConsumer(DirectDispatch, AsyncJsonWebsocketConsumer):
    """Live job and printer updates for logged-in staff (session auth, origin checked in routing).

    Each event goes only to accounts that may see it on the pages: ``job.updated`` needs
    ``printing.view_printjob``, ``printer.updated`` ``printing.view_printer`` (the permissions are
    read when the socket opens; pages reconnect on every load).

    Without a working channel layer the page would silently stop updating, so the link is
    refused (or closed, if it fails later) instead: the page then shows its "live updates are
    disconnected" banner, reconnects, and catches up once the layer answers again.
    """

    may_see_jobs = may_see_printers = False

    @property
    def channel_receive(self):
        return self._channel_receive

    @channel_receive.setter
    def channel_receive(self, receive):
        # Channels sets this when the consumer starts (no public hook for a failing receive).
        async def receive_or_close():
            try:
                return await receive()
            except Exception as error:
                log.warning(
                    "event=staff_link_closed reason=channel_layer_unavailable error=%s",
                    str(error) or type(error).__name__,
                )
                await self.close(code=CloseCode.UNAVAILABLE)
                await asyncio.Event().wait()  # until the client's disconnect ends this consumer

        self._channel_receive = receive_or_close

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_staff:
            await self.close(code=CloseCode.UNAUTHORIZED)
            return
        self.may_see_jobs, self.may_see_printers = await database_sync_to_async(staff_may_see)(user)
        if not (self.may_see_jobs or self.may_see_printers):
            await self.close(code=CloseCode.FORBIDDEN)
            return
        try:
            await notify.layer_call(self.channel_layer.group_add, STAFF_GROUP, self.channel_name)
        except Exception as error:
            log.warning(
                "event=staff_link_refused reason=channel_layer_unavailable error=%s", str(error) or type(error).__name__
            )
            await self.close(code=CloseCode.UNAVAILABLE)
            return
        self.joined = True
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "joined", False):
            try:
                await notify.layer_call(self.channel_layer.group_discard, STAFF_GROUP, self.channel_name)
            except Exception as error:  # the membership expires by itself
                log.warning("event=channel_layer_unavailable error=%s", str(error) or type(error).__name__)

    async def receive(self, text_data=None, bytes_data=None):
        # Staff pages only listen; answer pings so clients can check the link.
        if text_data and len(text_data) < 1024:
            try:
                message = json.loads(text_data)
            except ValueError:
                return
            if isinstance(message, dict) and message.get("type") == "ping":
                await self.send_json(pong_message())

    async def job_updated(self, event):
        if self.may_see_jobs:
            await self.send_json({"type": "job.updated", "job": event["job"]})

    async def printer_updated(self, event):
        if self.may_see_printers:
            await self.send_json({"type": "printer.updated", "printer": event["printer"]})

    async def order_updated(self, event):
        # Order numbers and states, as the order pages show them: for whoever may see print jobs.
        if self.may_see_jobs:
            await self.send_json({"type": "order.updated", "order": event["order"]})


def staff_may_see(user):
    return user.has_perm(roles.VIEW_PRINTJOB), user.has_perm(roles.VIEW_PRINTER)


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """A WebSocket to a path the server does not serve: refused (HTTP 403), with one log line."""

    async def connect(self):
        log.info("event=websocket_refused reason=unknown_path path=%r", (self.scope.get("path") or "")[:200])
        await self.close()
