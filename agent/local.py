"""The agent as the counter PC's local print server (``--listen [HOST:]PORT``).

Web pages and apps on this PC talk to the agent over ``ws://localhost:PORT``. Every listener
speaks three dialects, recognised per message, so a client works whichever port it was given:

- **ticket-daemon** (seed 002): ``{"tipo": "ticket" | "status" | "ping" | "get_printers", ...}``;
  the ``info`` greeting is sent on connect only on path ``/ws``; ``GET /health`` as it answers it.
- **PrinterWebsocket** (seed 003): ``{"call": "printers.find" | "server.version" | "print" |
  "printerStatus", "uid": ...}``; raw data (TSPL, ESC/POS) goes to the printer byte for byte.
- **Cantina Virtual** (seed 000): an order JSON or a poster document, without any envelope,
  printed as the canteen receipt; one ``{"status": "success" | "error", "message"}`` reply.

Local jobs share the printer's one queue with the server's jobs (bytes never interleave, order
is kept, the capacity is bounded) and go through the journal like them (see client.Agent).

Security: listeners bind to loopback unless told otherwise (and then need ``--local-token``); a
browser's ``Origin`` must be in ``--allow-origin`` (clients that send none are native apps) or
the handshake is refused with 403 before anything can print; ``--local-token`` must be presented
(``auth_token`` in a ticket, ``token`` in a message, or ``?token=`` in the URL); messages are size-
and rate-limited, and a malformed one gets an error in the client's own dialect.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from agent import __version__
from agent.client import Agent, LocalJob, QueueFull
from agent.config import ConfigError, Settings, normalize_origin
from agent.journal import COMPLETED, FAILED, INTERRUPTED, JournalError
from agent.printers import BLOCKING_STATUSES, ERROR, PAPER_OUT, UNKNOWN, find_printers

log = logging.getLogger("agent.local")

TICKET_PATH = "/ws"
MAX_MESSAGE_BYTES = 2 * 2**20  # answered with an error in the client's dialect
HARD_MAX_MESSAGE_BYTES = 8 * 2**20  # beyond this the connection closes (1009)
MESSAGES_PER_SECOND, MESSAGE_BURST = 20.0, 60
JOBS_PER_SECOND, JOB_BURST = 1.0, 30  # like ticket-daemon's 30 jobs a minute, with a burst of 30
CLOSE_AFTER_REFUSED = 200  # messages refused in a row for flooding → close 1008

TICKET, CALL, CANTINA = "ticket-daemon", "printerwebsocket", "cantina-virtual"

# ticket-daemon's own texts: web POS pages compare against some of them.
QUEUE_FULL = "Queue full, please retry in a few seconds"
RATE_LIMITED = "Rate limit exceeded: please wait before submitting more jobs"
BAD_TOKEN = "Invalid or missing auth token"
MISSING_DATOS = "Field 'datos' is required for type 'ticket'"

# PrinterWebsocket status codes (its server's PRINTER_STATUS_CODES).
IDLE, PRINTING, OUT_OF_PAPER, CALL_ERROR = 0, 1, 2, 3


class Bucket:
    """Token bucket: ``rate`` per second on average, bursts of ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _omit_empty(message: dict[str, Any]) -> dict[str, Any]:
    """ticket-daemon leaves out empty and zero fields (Go ``omitempty``); so do we."""
    return {key: value for key, value in message.items() if value not in ("", 0, None) or key == "tipo"}


def raw_bytes(data: Any) -> bytes | None:
    """``params.data`` of a PrinterWebsocket ``print``: the strings, UTF-8, in order.

    One string (what its JavaScript client sends) goes to the printer exactly as given. A list of
    several strings is a list of command lines, as in its README's example: a line without its own
    line break gets CR LF. ``{"base64": "..."}`` items carry binary data.
    """
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list) or not data:
        return None
    chunks: list[bytes] = []
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("base64"), str):
            try:
                chunks.append(base64.b64decode(item["base64"], validate=True))
            except ValueError:
                return None
            continue
        if not isinstance(item, str):
            return None
        chunk = item.encode("utf-8")
        if len(data) > 1 and not chunk.endswith(b"\n"):
            chunk += b"\r\n"
        chunks.append(chunk)
    joined = b"".join(chunks)
    return joined or None


def raw_text(data: bytes) -> str:
    """A readable rendering of raw data for the server's history (control bytes dropped)."""
    text = data.decode("utf-8", errors="replace")
    return "".join(char for char in text if char in "\n" or char.isprintable())


class LocalServer:
    """All the ``--listen`` listeners of one agent."""

    def __init__(self, agent: Agent, settings: Settings) -> None:
        # Ticket ids being rendered and queued right now: the same id sent again meanwhile (a
        # client retrying on another connection) waits for it instead of printing it twice.
        self.admitting: set[str] = set()
        self.agent = agent
        self.settings = settings
        self.allowed_origins = set(settings.allow_origin)
        self.servers: list[Server] = []
        self.other_printers: list[dict[str, Any]] = []  # this machine's other printers (names, for listings)

    async def start(self) -> list[tuple[str, int]]:
        """Open every listener; raise ConfigError (nothing left open) if one cannot listen."""
        bound = []
        for host, port in self.settings.listen_addresses:
            try:
                server = await serve(
                    self._handle,
                    host,
                    port,
                    process_request=self._process_request,
                    max_size=HARD_MAX_MESSAGE_BYTES,
                    ping_interval=20,
                    ping_timeout=20,
                    server_header=f"cantina-agent/{__version__}",
                )
            except OSError as exc:
                await self.stop()
                raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
            self.servers.append(server)
            actual = server.sockets[0].getsockname()[1] if server.sockets else port
            bound.append((host, actual))
            log.info(
                "local print server listening on ws://%s:%d (ticket-daemon on /ws, PrinterWebsocket "
                "and Cantina Virtual on any path; GET /health)",
                host if ":" not in host else f"[{host}]",
                actual,
            )
        if self.allowed_origins:
            log.info("browser pages allowed from: %s", ", ".join(sorted(self.allowed_origins)))
        else:
            log.info("no --allow-origin: browser pages are refused; native clients (no Origin) may print")
        asyncio.get_running_loop().create_task(self._discover())
        return bound

    async def stop(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            with contextlib.suppress(Exception):
                await server.wait_closed()
        self.servers = []

    async def _discover(self) -> None:
        """This machine's printers, once (it may take a while: lpstat, USB, the spooler)."""
        try:
            found, _ = await asyncio.to_thread(find_printers)
        except Exception as exc:
            log.debug("printer discovery failed: %s", exc)
            return
        ours = self.agent.printer.url
        self.other_printers = [
            {
                "name": printer.extra.get("name") or printer.url,
                "url": printer.url,
                "description": printer.description,
                "is_default": bool(printer.extra.get("is_default")),
            }
            for printer in found
            if printer.url != ours
        ]

    # --- printers as clients see them -----------------------------------------------------

    def printer_names(self) -> list[str]:
        names = [self.agent.printer_name]
        names += [p["name"] for p in self.other_printers if p["name"] not in names]
        return names

    def refuse_printer(self, name: Any) -> str | None:
        """Why a job naming ``name`` cannot print here, or None. The agent drives one printer and
        any name prints on it (ticket-daemon documents name a model, not a queue), except the name
        of another printer this machine has: that job was meant for a different printer."""
        if not isinstance(name, str) or not name or name == self.agent.printer_name:
            return None
        if any(p["name"] == name for p in self.other_printers):
            return f"This agent prints only on {self.agent.printer_name!r}; {name!r} is another printer"
        return None

    def summary(self) -> dict[str, Any]:
        status = self.agent.printer_status
        state = (
            "ok"
            if status not in BLOCKING_STATUSES and status not in (ERROR, UNKNOWN)
            else ("warning" if status == UNKNOWN else "error")
        )
        return {
            "status": state,
            "detected_count": 1 + len(self.other_printers),
            "thermal_count": 1,
            "default_name": self.agent.printer_name,
        }

    def printer_details(self) -> list[dict[str, Any]]:
        ours = {
            "name": self.agent.printer_name,
            "port": self.agent.printer.scheme,
            "driver": "cantina-agent",
            "status": self.agent.printer_status,
            "is_default": True,
            "is_virtual": False,
            "printer_type": "thermal",
        }
        others = [
            {
                "name": p["name"],
                "port": p["url"].split(":", 1)[0],
                "driver": p["description"],
                "status": "unknown",
                "is_default": False,
                "is_virtual": False,
                "printer_type": "unknown",
            }
            for p in self.other_printers
        ]
        return [ours, *others]

    def health(self) -> dict[str, Any]:
        current, capacity = self.agent.queue_current, self.agent.queue_capacity
        printers = self.summary()
        return {
            "status": "degraded" if printers["status"] == "error" else "ok",
            "queue": {
                "current": current,
                "capacity": capacity,
                "utilization": round(current / capacity * 100, 1) if capacity else 0.0,
            },
            "worker": {
                "running": self.agent.worker_running,
                "jobs_processed": self.agent.jobs_processed,
                "jobs_failed": self.agent.jobs_failed,
            },
            "printers": printers,
            "printer": {"name": self.agent.printer_name, "status": self.agent.printer_status},
            "server": {"configured": bool(self.settings.server), "connected": self.agent.connected.is_set()},
            "build": {"env": "cantina-agent", "version": __version__},
            "uptime_seconds": int(time.monotonic() - self.agent.started_at),
        }

    # --- HTTP side of the handshake ---------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path == "/health":
            response = connection.respond(HTTPStatus.OK, json.dumps(self.health()) + "\n")
            del response.headers["Content-Type"]
            response.headers["Content-Type"] = "application/json"
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Cache-Control"] = "no-store"
            return response
        origin = request.headers.get("Origin")
        if origin is not None and not self.origin_allowed(origin):
            log.warning("refused a connection from origin %r (not in --allow-origin)", origin[:200])
            return connection.respond(
                HTTPStatus.FORBIDDEN,
                f"Origin {origin[:200]} is not allowed to print here: add it with --allow-origin.\n",
            )
        return None

    def origin_allowed(self, origin: str) -> bool:
        try:
            return normalize_origin(origin) in self.allowed_origins
        except ConfigError:
            return False

    async def _handle(self, ws: ServerConnection) -> None:
        await LocalConnection(self, ws).run()


class LocalConnection:
    """One local client's WebSocket."""

    def __init__(self, server: LocalServer, ws: ServerConnection) -> None:
        self.server = server
        self.agent = server.agent
        self.ws = ws
        request = ws.request
        assert request is not None, "handlers run after the opening handshake"
        url = urlsplit(request.path)
        self.path = url.path or "/"
        self.query_token = (parse_qs(url.query).get("token") or [""])[0]
        self.origin = request.headers.get("Origin") or ""
        self.messages = Bucket(MESSAGES_PER_SECOND, MESSAGE_BURST)
        self.jobs = Bucket(JOBS_PER_SECOND, JOB_BURST)
        self.refused_in_a_row = 0
        self.client = f"{ws.remote_address[0] if ws.remote_address else '?'}" + (
            f" {self.origin}" if self.origin else ""
        )

    @property
    def default_dialect(self) -> str:
        return TICKET if self.path == TICKET_PATH else CANTINA

    async def run(self) -> None:
        log.debug("local client connected: %s path %s", self.client, self.path)
        try:
            if self.path == TICKET_PATH:
                await self.send(
                    {
                        "tipo": "info",
                        "status": "connected",
                        "mensaje": f"Connected to Cantina Print agent {__version__} (ticket-daemon protocol)",
                    }
                )
            async for raw in self.ws:
                try:
                    await self.on_message(raw)
                except ConnectionClosed:
                    raise
                except Exception:  # a bug answering one message must not end the listener
                    log.exception("local client %s: unexpected error", self.client)
                    await self.error(self.default_dialect, {}, "Internal error in the agent; see its log")
        except ConnectionClosed:
            pass
        finally:
            log.debug("local client disconnected: %s", self.client)

    async def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.ws.send(json.dumps(message, ensure_ascii=False))

    # --- dispatch ---------------------------------------------------------------------------

    async def on_message(self, raw: str | bytes) -> None:
        if not self.messages.allow():
            self.refused_in_a_row += 1
            if self.refused_in_a_row > CLOSE_AFTER_REFUSED:
                log.warning("local client %s: flooding, closing", self.client)
                await self.ws.close(1008, "too many messages")
                return
            if self.refused_in_a_row == 1:
                await self.error(self.default_dialect, {}, RATE_LIMITED)
            return
        self.refused_in_a_row = 0
        size = len(raw)
        if size > MAX_MESSAGE_BYTES:
            await self.error(self.default_dialect, {}, f"Message too big ({size} bytes; at most {MAX_MESSAGE_BYTES})")
            return
        if isinstance(raw, bytes):
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError:
                await self.error(self.default_dialect, {}, "Send JSON text (UTF-8)")
                return
        try:
            message = json.loads(raw)
        except ValueError:
            await self.error(self.default_dialect, {}, "The message is not valid JSON")
            return
        if not isinstance(message, dict):
            await self.error(self.default_dialect, {}, "A message must be a JSON object")
            return
        if "tipo" in message:
            await self.on_ticket_daemon(message)
        elif "call" in message:
            await self.on_call(message)
        else:
            await self.on_cantina_virtual(message)

    async def error(self, dialect: str, message: dict[str, Any], text: str) -> None:
        if dialect == TICKET:
            ref = message.get("id") if isinstance(message.get("id"), str) else ""
            await self.send(_omit_empty({"tipo": "error", "id": ref, "status": "error", "mensaje": text}))
        elif dialect == CALL:
            await self.send({"uid": message.get("uid"), "status": "error", "message": text, "status_code": CALL_ERROR})
        else:
            reply = {"status": "error", "message": text}
            if "id" in message:
                reply["id"] = message["id"]
            await self.send(reply)

    def token_ok(self, message: dict[str, Any]) -> bool:
        expected = self.server.settings.local_token
        if not expected:
            return True
        for candidate in (message.get("auth_token"), message.get("token"), self.query_token):
            if isinstance(candidate, str) and candidate and hmac.compare_digest(candidate.encode(), expected.encode()):
                return True
        return False

    async def admit(self, dialect: str, message: dict[str, Any]) -> bool:
        """Checks every print request passes before anything is rendered or queued."""
        if not self.jobs.allow():
            log.warning("local client %s: job rate limit", self.client)
            await self.error(dialect, message, RATE_LIMITED)
            return False
        if not self.token_ok(message):
            log.warning("local client %s: job refused (invalid or missing local token)", self.client)
            await self.error(dialect, message, BAD_TOKEN)
            return False
        return True

    async def queue(self, job: LocalJob, dialect: str, message: dict[str, Any]) -> int | None:
        try:
            return await self.agent.submit_local(job)
        except QueueFull as full:
            log.warning("local job from %s refused: queue full (%d/%d)", self.client, full.current, full.capacity)
            await self.error(dialect, message, QUEUE_FULL)
        except JournalError as exc:
            log.error("local job from %s refused: %s", self.client, exc)
            await self.error(dialect, message, f"The agent cannot record the job ({exc}); nothing was printed")
        return None

    # --- ticket-daemon ----------------------------------------------------------------------

    async def on_ticket_daemon(self, message: dict[str, Any]) -> None:
        tipo = message.get("tipo")
        ref = message.get("id") if isinstance(message.get("id"), str) else ""
        if tipo == "ticket":
            await self.on_ticket(message, ref or str(uuid.uuid4()), client_id=bool(ref))
        elif tipo == "status":
            current, capacity = self.agent.queue_current, self.agent.queue_capacity
            await self.send(
                _omit_empty(
                    {
                        "tipo": "status",
                        "status": "ok",
                        "current": current,
                        "capacity": capacity,
                        "mensaje": f"Queue: {current}/{capacity}",
                    }
                )
            )
        elif tipo == "ping":
            await self.send(_omit_empty({"tipo": "pong", "id": ref, "status": "ok"}))
        elif tipo == "get_printers":
            await self.send(
                {
                    "tipo": "printers",
                    "status": "ok",
                    "printers": self.server.printer_details(),
                    "summary": self.server.summary(),
                }
            )
        else:
            await self.error(TICKET, message, f"Unknown message type: {tipo}")

    async def on_ticket(self, message: dict[str, Any], ref: str, client_id: bool = False) -> None:
        message = {**message, "id": ref}
        if not await self.admit(TICKET, message):
            return
        if client_id:
            deadline = time.monotonic() + 30
            while ref in self.server.admitting and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            self.server.admitting.add(ref)  # no await between the check and this
        try:
            await self.admit_ticket(message, ref, client_id)
        finally:
            if client_id:
                self.server.admitting.discard(ref)

    async def admit_ticket(self, message: dict[str, Any], ref: str, client_id: bool) -> None:
        datos = message.get("datos")
        if datos in (None, "", {}, []):
            await self.error(TICKET, message, MISSING_DATOS)
            return
        profile = datos.get("profile") if isinstance(datos, dict) else None
        model = profile.get("model") if isinstance(profile, dict) else None  # any JSON may come here
        refusal = self.server.refuse_printer(model)
        if refusal:
            await self.error(TICKET, message, refusal)
            return
        from agent.render import DocumentError, render_document

        try:
            rendered = await asyncio.to_thread(render_document, datos, self.agent.printer_spec)
        except DocumentError as exc:
            await self.error(TICKET, message, f"Invalid document: {exc}")
            return
        if client_id and await self.answer_repeated_ticket(ref, hashlib.sha256(rendered.data).hexdigest()):
            return
        acked = asyncio.Event()
        started = time.monotonic()

        async def on_event(event: str, detail: str) -> None:
            if event == "printing":
                return
            await acked.wait()
            if event == "completed":
                elapsed = round((time.monotonic() - started) * 1000)
                await self.send(
                    {"tipo": "result", "id": ref, "status": "success", "mensaje": f"Print completed in {elapsed}ms"}
                )
            else:
                await self.send({"tipo": "result", "id": ref, "status": "error", "mensaje": f"Print failed: {detail}"})

        job = LocalJob(
            rendered.data,
            TICKET,
            "document",
            content=rendered.text,
            client_ref=ref,
            origin=self.origin,
            label=f"ticket {ref}",
            on_event=on_event,
        )
        current = await self.queue(job, TICKET, message)
        if current is None:
            return
        await self.send(
            {
                "tipo": "ack",
                "id": ref,
                "status": "queued",
                "current": current,
                "capacity": self.agent.queue_capacity,
                "mensaje": "Job queued for printing",
            }
        )
        acked.set()

    async def answer_repeated_ticket(self, ref: str, digest: str) -> bool:
        """The same ticket (same id, same bytes) again: answer for it instead of printing it twice.

        A client that lost its connection (the agent restarting, say) before the ``result``
        sends the same ticket again; printing it again would print it twice. Queued or printing:
        the client hears this job's result. Printed: ``success`` at once. Cut off while printing
        (``interrupted``): an error, never a reprint (a new id prints it again). Failed without
        printing (the agent stopped first, the printer was out): printed now, as a new job. A
        client that reuses an id for another ticket (other bytes) gets it printed.
        """
        waiting = self.agent.local_in_progress(TICKET, ref)
        if waiting is not None and hashlib.sha256(waiting.data).hexdigest() == digest:

            async def follow(event: str, detail: str) -> None:
                if event == "completed":
                    await self.send({"tipo": "result", "id": ref, "status": "success", "mensaje": "Print completed"})
                elif event == "failed":
                    await self.send(
                        {"tipo": "result", "id": ref, "status": "error", "mensaje": f"Print failed: {detail}"}
                    )

            waiting.followers.append(follow)
            await self.send(
                {
                    "tipo": "ack",
                    "id": ref,
                    "status": "queued",
                    "current": self.agent.queue_current,
                    "capacity": self.agent.queue_capacity,
                    "mensaje": "Job already queued for printing (same id)",
                }
            )
            return True
        deadline = time.monotonic() + 10
        while True:
            try:
                entry = await asyncio.to_thread(self.agent.journal.local_find, self.agent.settings.printer, TICKET, ref)
            except JournalError:
                return False
            # Queued or started in the journal but no longer in the queue: it is finishing this
            # very moment (after a restart such rows are already failed or interrupted).
            if entry is None or entry.state in (COMPLETED, INTERRUPTED, FAILED) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        if entry is None or entry.state not in (COMPLETED, INTERRUPTED) or entry.sha256 != digest:
            return False
        log.info(
            "local ticket %s from %s: sent again, already %s; not printing it again", ref, self.client, entry.state
        )
        if entry.state == COMPLETED:
            await self.send({"tipo": "result", "id": ref, "status": "success", "mensaje": "Already printed (same id)"})
        else:
            await self.send(
                {
                    "tipo": "result",
                    "id": ref,
                    "status": "error",
                    "mensaje": "Print failed: the agent stopped while printing this ticket; it may be partly "
                    "printed, so it is not printed again (send it with a new id to print it again)",
                }
            )
        return True

    # --- PrinterWebsocket -------------------------------------------------------------------

    async def on_call(self, message: dict[str, Any]) -> None:
        call, uid = message.get("call"), message.get("uid")
        if call == "printers.find":
            await self.send({"uid": uid, "result": self.server.printer_names(), "status_code": IDLE})
        elif call == "server.version":
            await self.send({"uid": uid, "result": __version__, "info": "serverVersion", "status_code": IDLE})
        elif call == "print":
            await self.on_print(message, uid)
        elif call == "printerStatus":
            name = message.get("PrinterName")
            if not isinstance(name, str) or not name:
                await self.error(CALL, message, "PrinterName not provided")
                return
            await self.send(
                {
                    "uid": uid,
                    "status": "Printer status retrieved",
                    "PrinterName": name,
                    "status_code": self.call_status_code(name),
                }
            )
        else:
            await self.error(CALL, message, f"Unknown call {call!r}")

    def call_status_code(self, name: str) -> int:
        if name != self.agent.printer_name and self.server.refuse_printer(name):
            return CALL_ERROR  # not ours: we cannot say
        if self.agent.is_printing:
            return PRINTING
        status = self.agent.printer_status
        if status == PAPER_OUT:
            return OUT_OF_PAPER
        if status in BLOCKING_STATUSES or status == ERROR:
            return CALL_ERROR
        return IDLE

    async def on_print(self, message: dict[str, Any], uid: Any) -> None:
        params = message.get("params")
        if not isinstance(params, dict):
            params = {}
        printer = params.get("printer")
        if not isinstance(printer, dict):
            printer = {}
        name = printer.get("name")
        data = raw_bytes(params.get("data"))
        if not isinstance(name, str) or not name or data is None:
            await self.error(CALL, message, "Invalid printer or TSPL data")
            return
        if not await self.admit(CALL, message):
            return
        refusal = self.server.refuse_printer(name)
        if refusal:
            await self.error(CALL, message, refusal)
            return
        started_sent = asyncio.Event()

        async def on_event(event: str, detail: str) -> None:
            if event == "printing":
                return
            await started_sent.wait()
            if event == "completed":
                await self.send({"uid": uid, "status": "success", "message": f"Printed on {name}", "status_code": IDLE})
            else:
                await self.send({"uid": uid, "status": "error", "message": detail, "status_code": CALL_ERROR})

        job = LocalJob(
            data,
            CALL,
            "raw",
            content=raw_text(data),
            client_ref=str(uid or ""),
            origin=self.origin,
            label=f"raw print {uid}",
            on_event=on_event,
        )
        if await self.queue(job, CALL, message) is None:
            return
        await self.send({"uid": uid, "status": f"Printing job started on {name}", "status_code": PRINTING})
        started_sent.set()

    # --- Cantina Virtual --------------------------------------------------------------------

    async def on_cantina_virtual(self, message: dict[str, Any]) -> None:
        from agent.render import (
            DocumentError,
            OrderError,
            is_order,
            render_document,
            render_order,
        )

        if is_order(message):
            kind = "order"
        elif "commands" in message:
            kind = "document"
        else:
            text = (
                'Unknown message type: send {"tipo": ...}'
                if self.path == TICKET_PATH
                else 'Mensagem não reconhecida: envie um pedido (com "items"), um documento (com "commands"), '
                '{"tipo": ...} (ticket-daemon) ou {"call": ...} (PrinterWebsocket)'
            )
            await self.error(self.default_dialect, message, text)
            return
        if not await self.admit(CANTINA, message):
            return
        try:
            if kind == "order":
                rendered = await asyncio.to_thread(
                    render_order, message, self.agent.printer_spec, shop_name=self.server.settings.shop_name
                )
            else:
                rendered = await asyncio.to_thread(render_document, message, self.agent.printer_spec)
        except (OrderError, DocumentError) as exc:
            await self.error(CANTINA, message, f"Não impresso: {exc}")
            return
        reply_id = message.get("id")

        async def on_event(event: str, detail: str) -> None:
            if event == "printing":
                return
            if event == "completed":
                reply = {"status": "success", "message": f"{rendered.label.capitalize()} impresso."}
            else:
                reply = {"status": "error", "message": f"{rendered.label.capitalize()} não impresso: {detail}"}
            if reply_id is not None:
                reply["id"] = reply_id
            await self.send(reply)

        ref = str(reply_id if reply_id is not None else "")
        job = LocalJob(
            rendered.data,
            CANTINA,
            kind,
            content=rendered.text,
            client_ref=ref or rendered.label,
            origin=self.origin,
            label=rendered.label,
            on_event=on_event,
        )
        await self.queue(job, CANTINA, message)
