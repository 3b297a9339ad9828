"""The bench's control line to its server processes: JSON commands on stdin, replies on stdout.

A server process (``bench.server`` or ``bench.baseline``) reads one JSON command per line and
answers with a line starting ``@@bench``; anything else it prints goes to its log. When its stdin
closes (the bench ended, was interrupted or killed) it stops by itself.
"""

import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
import time
import traceback

REPLY_PREFIX = "@@bench "


class ControlServer:
    """Child side: dispatches commands to coroutine handlers on ``loop``; calls ``on_eof`` at EOF."""

    def __init__(self, handlers, loop, on_eof):
        self.handlers = handlers
        self.loop = loop
        self.on_eof = on_eof
        # Replies get their own copy of stdout; everything else printed goes to stderr (the log).
        self.replies = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        self.lock = threading.Lock()

    def start(self):
        threading.Thread(target=self._read, name="bench-control", daemon=True).start()

    def _read(self):
        for line in sys.stdin:
            if line.strip():
                self.loop.call_soon_threadsafe(self._dispatch, line)
        self.loop.call_soon_threadsafe(self.on_eof)

    def _dispatch(self, line):
        asyncio.ensure_future(self._run(json.loads(line)), loop=self.loop)

    async def _run(self, message):
        reply = {"id": message.get("id")}
        try:
            handler = self.handlers[message["cmd"]]
            reply.update(ok=True, result=await handler(**message.get("args", {})))
        except Exception:  # noqa: BLE001  (sent back to the bench, which raises it)
            reply.update(ok=False, error=traceback.format_exc())
        with self.lock:
            self.replies.write(REPLY_PREFIX + json.dumps(reply) + "\n")


class Confirmations:
    """Confirmation schedules shared by the project server and the baseline.

    Subclasses provide ``confirm_one(order_id, printer_id)``, ``orders_create(count, seed)`` and
    ``jobs_done(first, last, expect, timeout)`` (orders first..last).
    """

    def __init__(self, max_in_flight=32):
        # Like a server's worker limit: more confirmations than this wait for a free slot.
        self.gate = asyncio.Semaphore(max_in_flight)
        self.errors = []

    def handlers(self):
        async def ping():
            return {"pid": os.getpid()}

        return {
            "ping": ping,
            "orders_create": self.orders_create,
            "confirm_at_rate": self.confirm_at_rate,
            "confirm_flat_out": self.confirm_flat_out,
            "jobs_done": self.jobs_done,
        }

    async def confirm(self, order_id, printer_id):
        async with self.gate:
            try:
                await self.confirm_one(order_id, printer_id)
            except Exception as error:  # noqa: BLE001  (counted; the bench reports it)
                self.errors.append(f"{type(error).__name__}: {error}")

    async def confirm_at_rate(self, pairs, rate):
        """Open loop: pair i is confirmed at start + i/rate, whatever happened before.

        Returns each confirmation's scheduled CLOCK_MONOTONIC time (ns): latency counts from
        there, so a server that falls behind is charged for the wait (no coordinated omission).
        """
        self.errors.clear()
        interval = 1e9 / rate
        start = time.monotonic_ns() + 50_000_000
        scheduled, tasks, behind = [], [], 0.0
        for index, (order_id, printer_id) in enumerate(pairs):
            at = start + int(index * interval)
            delay = (at - time.monotonic_ns()) / 1e9
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                behind = max(behind, -delay)
            scheduled.append(at)
            tasks.append(asyncio.ensure_future(self.confirm(order_id, printer_id)))
        await asyncio.gather(*tasks)
        return {
            "scheduled_ns": scheduled,
            "errors": self.errors[:5],
            "error_count": len(self.errors),
            "max_start_lag_ms": behind * 1000,
        }

    async def confirm_flat_out(self, pairs, concurrency, duration):
        """Closed loop: ``concurrency`` confirmations in flight until ``duration`` s or no pairs left."""
        self.errors.clear()
        started_wall, started = time.time(), time.monotonic()
        pending = iter(pairs)
        confirmed = 0

        async def worker():
            nonlocal confirmed
            for order_id, printer_id in pending:
                if time.monotonic() - started > duration:
                    return
                await self.confirm(order_id, printer_id)
                confirmed += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return {
            "started_at": started_wall,
            "confirm_seconds": time.monotonic() - started,
            "confirmed": confirmed - len(self.errors),
            "errors": self.errors[:5],
            "error_count": len(self.errors),
        }


class CommandFailed(RuntimeError):
    pass


class Controlled:
    """Parent side: one controlled child process."""

    def __init__(self, name, argv, *, env, cwd, log_path):
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.process = None
        self.replies = {}
        self.arrived = threading.Condition()
        self.ids = itertools.count(1)

    @property
    def pid(self):
        return self.process.pid

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                bufsize=1,
            )
        threading.Thread(target=self._read, name=f"bench-{self.name}", daemon=True).start()
        return self

    def _read(self):
        for line in self.process.stdout:
            if line.startswith(REPLY_PREFIX):
                reply = json.loads(line[len(REPLY_PREFIX) :])
                with self.arrived:
                    self.replies[reply["id"]] = reply
                    self.arrived.notify_all()
        with self.arrived:
            self.arrived.notify_all()

    def call(self, cmd, timeout=120, **args):
        message_id = next(self.ids)
        self.process.stdin.write(json.dumps({"id": message_id, "cmd": cmd, "args": args}) + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        with self.arrived:
            while message_id not in self.replies:
                left = deadline - time.monotonic()
                if self.process.poll() is not None:
                    raise CommandFailed(
                        f"{self.name} exited ({self.process.returncode}) during {cmd}; log: {self.log_path}"
                    )
                if left <= 0:
                    raise CommandFailed(f"{self.name}: {cmd} timed out after {timeout}s")
                self.arrived.wait(min(left, 0.5))
            reply = self.replies.pop(message_id)
        if not reply["ok"]:
            raise CommandFailed(f"{self.name}: {cmd} failed:\n{reply['error']}")
        return reply["result"]

    async def acall(self, cmd, timeout=120, **args):
        return await asyncio.to_thread(self.call, cmd, timeout, **args)

    def stop(self, timeout=10):
        if self.process is None or self.process.poll() is not None:
            return
        try:
            self.process.stdin.close()  # EOF: the child stops by itself
        except OSError:
            pass
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


class Reaper:
    """Everything the bench started, stopped in reverse order at the end (also on Ctrl-C)."""

    def __init__(self):
        self.stoppers = []

    def add(self, stop):
        self.stoppers.append(stop)
        return stop

    def stop_all(self):
        while self.stoppers:
            stop = self.stoppers.pop()
            try:
                stop()
            except Exception as error:  # noqa: BLE001  (keep stopping the others)
                print(f"bench: cleanup step failed: {error}", file=sys.stderr)
