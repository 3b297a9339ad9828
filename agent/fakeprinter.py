"""A fake network receipt printer for development and tests.

    python -m agent.fakeprinter --port 9100 --out DIR [--host 127.0.0.1] [--state ready]

It listens like a real printer's raw port (9100). Every connection that sends job data becomes
one file ``DIR/<timestamp>-<seq>.bin`` holding exactly the bytes received (minus the status
queries), with a readable ``.txt`` rendering beside it, which is also printed to the console.

It answers the real-time status queries ``DLE EOT n`` (n = 1..4) and ``GS r n`` the way an
Epson printer does. Its state is ``ready``, ``paper_low``, ``paper_out``, ``cover_open`` or
``offline``: the ``--state`` flag, overridden by the file ``DIR/state`` when present (re-read
on every query, so a test can pull the paper out by writing that file). While ``offline`` it
drops job data, as a printer that is switched off would. Job data that arrives in
``paper_out`` or ``cover_open`` is stored anyway (a real printer buffers it and prints when
the paper is back), so a client that ignores the status is caught.

A file ``DIR/stall`` holding a number K makes it hang mid-job: each new connection stops reading
after K bytes of job data (with a small receive buffer, so the rest backs up to the sender) until
the file is removed; then it reads on, as a printer whose jam was cleared.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path
from typing import cast

from agent.escpos_parser import StreamParser, render_text

log = logging.getLogger("agent.fakeprinter")

STATES = ("ready", "paper_low", "paper_out", "cover_open", "offline")

# Answers to DLE EOT 1 (printer), 2 (offline cause), 3 (error cause), 4 (roll paper sensor).
# Every answer has the fixed bits 0b0xx1xx10 = 0x12.
_DLE_EOT_ANSWERS = {
    "ready": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12},
    "paper_low": {1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12 | 0x0C},
    "paper_out": {1: 0x12 | 0x08, 2: 0x12 | 0x20, 3: 0x12, 4: 0x12 | 0x60},
    "cover_open": {1: 0x12 | 0x08, 2: 0x12 | 0x04, 3: 0x12, 4: 0x12},
    "offline": {1: 0x12 | 0x08, 2: 0x12, 3: 0x12, 4: 0x12},
}
# GS r 1 (paper sensor): bits 0-1 near end, bits 2-3 paper end.
_GS_R_PAPER = {"paper_low": 0x03, "paper_out": 0x0F}


def status_answer(state: str, query: tuple[str, int]) -> bytes:
    """The byte a printer in ``state`` sends back for a status query token value."""
    command, n = query
    if command == "DLE EOT":
        return bytes([_DLE_EOT_ANSWERS[state].get(n, 0x12)])
    if command == "GS r" and n in (1, 49):
        return bytes([_GS_R_PAPER.get(state, 0x00)])
    if command == "GS r" and n in (2, 50):
        return b"\x00"
    return b""


class JobStore:
    """The fake printer's output directory: one ``.bin`` + ``.txt`` pair per job."""

    _lock = threading.Lock()

    def __init__(
        self, directory: Path, default_state: str = "ready", profile: str = "default", echo: bool = True
    ) -> None:
        self.directory = Path(directory)
        self.default_state = default_state
        self.profile = profile
        self.echo = echo

    def state(self) -> str:
        try:
            text = (self.directory / "state").read_text().strip().lower()
        except OSError:
            return self.default_state
        return text if text in STATES else self.default_state

    def stall_after(self) -> int | None:
        """``DIR/stall`` holding a number K: a new connection stops reading after K bytes of job data
        (a printer that hangs mid-job) until the file is removed."""
        try:
            return max(0, int((self.directory / "stall").read_text().strip() or 0))
        except (OSError, ValueError):
            return None

    def jobs(self) -> list[Path]:
        return sorted(self.directory.glob("*.bin"))

    def _next_seq(self) -> int:
        seqs = [int(m.group(1)) for p in self.directory.glob("*.bin") if (m := re.search(r"-(\d+)\.bin$", p.name))]
        return max(seqs, default=0) + 1

    def save(self, data: bytes) -> Path:
        """Store one job; the ``.bin`` appears (atomically) only once it is complete."""
        self.directory.mkdir(parents=True, exist_ok=True)
        text = render_text(data, self.profile)
        with self._lock:
            now = time.time()
            stamp = time.strftime("%Y%m%dT%H%M%S", time.localtime(now)) + f"_{int(now * 1e6) % 1_000_000:06d}"
            base = f"{stamp}-{self._next_seq():04d}"
            (self.directory / f"{base}.txt").write_text(text + "\n", encoding="utf-8")
            partial = self.directory / f"{base}.bin.part"
            with open(partial, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            path = self.directory / f"{base}.bin"
            os.replace(partial, path)
        if self.echo:
            log.info("printed %s (%d bytes):\n%s", path.name, len(data), _boxed(text))
        return path


def _boxed(text: str) -> str:
    lines = text.rstrip("\n").split("\n") or [""]
    width = max(32, *(len(line) for line in lines))
    rule = "+" + "-" * (width + 2) + "+"
    return "\n".join([rule, *(f"| {line.ljust(width)} |" for line in lines), rule])


class FakePrinterServer:
    """The asyncio TCP server behind ``python -m agent.fakeprinter``."""

    def __init__(self, store: JobStore, host: str = "127.0.0.1", port: int = 9100, receive_buffer: int = 0) -> None:
        self.store = store
        self.host, self.port = host, port
        # A small SO_RCVBUF (set before listening, so the connection's window is small from the
        # start) makes a stalled job back up to the sender, as a real printer's few KiB do.
        self.receive_buffer = receive_buffer
        self._server: asyncio.base_events.Server | None = None

    async def start(self) -> int:
        if self.receive_buffer:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
            sock.bind((self.host, self.port))
            self._server = await asyncio.start_server(self._handle, sock=sock, limit=2048)
        else:
            self._server = await asyncio.start_server(self._handle, self.host, self.port, limit=2048)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            await self._server.wait_closed()

    async def serve_forever(self) -> None:
        if self._server is None:
            raise RuntimeError("start() the fake printer first")
        await self._server.serve_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = StreamParser()
        job = bytearray()
        dropped = 0
        stall_after = self.store.stall_after()
        try:
            while True:
                if stall_after is not None and len(job) >= stall_after:
                    log.warning("stalled after %d bytes of job data (remove DIR/stall to resume)", len(job))
                    # A socket transport reads too: pause it, or asyncio would buffer for us.
                    transport = cast(asyncio.ReadTransport, writer.transport)
                    transport.pause_reading()
                    while self.store.stall_after() is not None:
                        await asyncio.sleep(0.1)
                    transport.resume_reading()
                    stall_after = None
                try:
                    chunk = await reader.read(65536 if stall_after is None else max(1, stall_after - len(job)))
                except ConnectionError:
                    break  # reset by the peer: keep what arrived, as a printer would
                if not chunk:
                    break
                state = self.store.state()
                for token in parser.feed(chunk):
                    if token.kind == "status_query":
                        answer = status_answer(self.store.state(), token.value)
                        if answer:
                            writer.write(answer)
                    elif state == "offline":
                        dropped += len(token.raw)
                    else:
                        job += token.raw
                await writer.drain()
            job += parser.pending()  # a command cut short: keep the bytes anyway
            if dropped:
                log.warning("offline: dropped %d bytes of job data", dropped)
            if job:
                if self.store.state() in ("paper_out", "cover_open"):
                    log.warning("job data received while %s (a real printer would hold it)", self.store.state())
                await asyncio.to_thread(self.store.save, bytes(job))
        except ConnectionError:
            pass
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.fakeprinter", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=9100, help="TCP port (default 9100; 0 picks a free one)")
    parser.add_argument("--out", required=True, help="directory for the received jobs")
    parser.add_argument(
        "--state", choices=STATES, default="ready", help="printer state unless DIR/state says otherwise (default ready)"
    )
    parser.add_argument("--profile", default="default", help="python-escpos profile for decoding text")
    parser.add_argument("--quiet", action="store_true", help="do not print receipts to the console")
    parser.add_argument(
        "--receive-buffer",
        type=int,
        default=0,
        metavar="BYTES",
        help="socket receive buffer (SO_RCVBUF); small, a stalled job (DIR/stall) backs up to the sender",
    )
    args = parser.parse_args(argv)
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s fakeprinter %(levelname)s %(message)s", stream=sys.stdout
    )
    store = JobStore(Path(args.out), args.state, args.profile, echo=not args.quiet)
    render_text(b"", args.profile)  # load python-escpos's code page tables now, not on the first job
    server = FakePrinterServer(store, args.host, args.port, args.receive_buffer)

    async def run() -> None:
        try:
            port = await server.start()
        except OSError as exc:
            log.error("cannot listen on %s:%s: %s", args.host, args.port, exc)
            raise SystemExit(2) from None
        Path(args.out).mkdir(parents=True, exist_ok=True)
        log.info(
            "fake printer listening on %s:%d, writing jobs to %s (state: %s)", args.host, port, args.out, store.state()
        )
        sys.stdout.flush()
        await server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
