"""Simulated printer agents: plain ``websockets`` clients that speak agent protocol v1.

They behave like ``agent.client`` minus the printer: connect with ``?token=``, send
``printer_info`` (ready) after the welcome, answer server pings, send a JSON ping every 8 s as the
real agent does (part of the load an idle fleet puts on a server), and acknowledge every ``new_order`` with ``print_status`` completed at once. The arrival time of
each ``new_order`` is taken on ``CLOCK_MONOTONIC``, which every process on the machine shares, so
it can be compared with the confirm time recorded inside the server process.
"""

import asyncio
import json
import random
import time
from datetime import UTC, datetime

import websockets

PING_INTERVAL = 8.0  # agent.client.PING_INTERVAL
CONNECT_TIMEOUT = 60


def now_iso():
    return datetime.now(UTC).isoformat()


class Agent:
    def __init__(self, fleet, url, token):
        self.fleet = fleet
        self.url = f"{url}?token={token}"
        self.welcomed = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code = None
        self.error = None
        self.task = None
        self.websocket = None

    async def run(self):
        try:
            async with websockets.connect(
                self.url,
                open_timeout=CONNECT_TIMEOUT,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=2,
                max_size=2**20,
            ) as websocket:
                self.websocket = websocket
                keepalive = asyncio.create_task(self.keepalive(websocket)) if self.fleet.keepalive else None
                try:
                    async for raw in websocket:
                        await self.on_message(websocket, raw)
                finally:
                    if keepalive:
                        keepalive.cancel()
                self.close_code = websocket.close_code
        except asyncio.CancelledError:
            raise
        except websockets.ConnectionClosed as closed:
            self.close_code = closed.rcvd.code if closed.rcvd else None
        except Exception as error:  # noqa: BLE001  (counted and reported, never raised)
            self.error = f"{type(error).__name__}: {error}"
        finally:
            self.closed.set()
            self.welcomed.set()  # never leave a waiter hanging

    async def keepalive(self, websocket):
        await asyncio.sleep(random.uniform(0, PING_INTERVAL))
        while True:
            await websocket.send(json.dumps({"type": "ping", "timestamp": now_iso()}))
            await asyncio.sleep(PING_INTERVAL)

    async def on_message(self, websocket, raw):
        arrived = time.monotonic_ns()
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "new_order":
            order = message["order"]
            self.fleet.on_new_order(order, arrived, len(raw))
            if self.fleet.ack:
                await websocket.send(
                    json.dumps(
                        {
                            "type": "print_status",
                            "timestamp": now_iso(),
                            "job_id": order["job_id"],
                            "status": "completed",
                            "message": "printed",
                        }
                    )
                )
                self.fleet.acks += 1
        elif kind == "welcome":
            await websocket.send(
                json.dumps(
                    {
                        "type": "printer_info",
                        "timestamp": now_iso(),
                        "printer": {"name": "bench", "model": "TM-T20III", "status": "ready", "agent_version": "bench"},
                    }
                )
            )
            self.welcomed.set()
        elif kind == "ping":
            await websocket.send(json.dumps({"type": "pong", "timestamp": now_iso()}))
        elif kind == "error":
            self.fleet.errors.append(message)


class Fleet:
    """Many agents in this process's event loop."""

    def __init__(self, *, ack=True, keepalive=True):
        self.ack = ack
        self.keepalive = keepalive
        self.agents = []
        self.arrivals = {}  # order_id → CLOCK_MONOTONIC ns of its new_order
        self.duplicates = 0
        self.acks = 0
        self.errors = []
        self.samples = []  # (size, new_order "order" object): the baseline sends one of median size
        self.payload_bytes = []

    def on_new_order(self, order, arrived, size):
        key = order.get("order_id")
        if key in self.arrivals:
            self.duplicates += 1
            return
        self.arrivals[key] = arrived
        if len(self.payload_bytes) < 1000:
            self.payload_bytes.append(size)
        if len(self.samples) < 101:
            self.samples.append((size, order))

    @property
    def sample(self):
        if not self.samples:
            return None
        return sorted(self.samples, key=lambda sample: sample[0])[len(self.samples) // 2][1]

    async def connect(self, targets, *, concurrency=64, timeout=180):
        """Connect one agent per (url, token) with ``concurrency`` handshakes in flight.

        Returns (seconds until every agent was welcomed or gave up, whether all did so before
        ``timeout``). Agents still connecting at the timeout keep trying until ``close()``.
        """
        started = time.monotonic()
        gate = asyncio.Semaphore(concurrency)

        async def one(url, token):
            async with gate:
                agent = Agent(self, url, token)
                self.agents.append(agent)
                agent.task = asyncio.create_task(agent.run())
                await agent.welcomed.wait()

        waiters = [asyncio.create_task(one(url, token)) for url, token in targets]
        _, late = await asyncio.wait(waiters, timeout=timeout)
        for waiter in late:
            waiter.cancel()
        return time.monotonic() - started, not late

    def open_count(self):
        return sum(1 for agent in self.agents if agent.welcomed.is_set() and not agent.closed.is_set())

    def failures(self):
        """Agents that closed or never connected, with the reason, grouped."""
        reasons = {}
        for agent in self.agents:
            if agent.closed.is_set():
                reason = agent.error or f"closed {agent.close_code}"
                reasons[reason] = reasons.get(reason, 0) + 1
        return reasons

    async def close(self):
        for agent in self.agents:
            if agent.task and not agent.task.done():
                agent.task.cancel()
        await asyncio.gather(*(agent.task for agent in self.agents if agent.task), return_exceptions=True)
        self.agents.clear()

    async def wait_arrivals(self, keys, timeout):
        """Wait until every key has arrived or ``timeout`` seconds pass; return how many are missing."""
        deadline = time.monotonic() + timeout
        keys = list(keys)
        while time.monotonic() < deadline:
            missing = sum(1 for key in keys if key not in self.arrivals)
            if not missing:
                return 0
            await asyncio.sleep(0.05)
        return sum(1 for key in keys if key not in self.arrivals)
