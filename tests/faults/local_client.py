"""A point-of-sale program on the counter PC printing through the agent's local listener (seed 002).

It speaks ticket-daemon: each ticket ``local-N`` is a poster document whose line ``LOCAL local-N``
the checker finds on paper. It waits for the ticket's ``result``; when the connection drops first
(the agent killed and restarting) it reconnects and sends the very same ticket again, as such a
client does, until some ``result`` comes. The agent must print each ticket once: a repeat is
answered from its journal (tests/e2e/test_local_listener.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field


def local_ticket(ref):
    return {
        "tipo": "ticket",
        "id": ref,
        "datos": {
            "version": "1.0",
            "profile": {"model": "80mm EC-PM-80250", "paper_width": 80},
            "commands": [
                {"type": "text", "data": {"content": {"text": f"LOCAL {ref}", "align": "left"}}},
                {"type": "cut", "data": {"mode": "partial"}},
            ],
        },
    }


@dataclass
class LocalTicketClient:
    port: int
    results: dict = field(default_factory=dict)  # ref -> (status, mensaje) of its final result
    sends: Counter = field(default_factory=Counter)  # ref -> times sent
    thread: threading.Thread | None = None
    error: BaseException | None = None

    async def _send_until_result(self, ref, deadline=120.0):
        import websockets

        give_up = time.monotonic() + deadline
        while time.monotonic() < give_up:
            try:
                async with websockets.connect(f"ws://127.0.0.1:{self.port}/ws", open_timeout=5) as ws:
                    json.loads(await asyncio.wait_for(ws.recv(), 10))  # info
                    self.sends[ref] += 1
                    await ws.send(json.dumps(local_ticket(ref)))
                    while True:
                        reply = json.loads(await asyncio.wait_for(ws.recv(), 60))
                        if reply.get("tipo") in ("result", "error") and reply.get("id") == ref:
                            return reply.get("status"), reply.get("mensaje", "")
            except (TimeoutError, OSError, websockets.exceptions.WebSocketException):
                await asyncio.sleep(0.3)  # the agent restarting: the same ticket again
        raise AssertionError(f"ticket {ref}: no result within {deadline:g} s")

    def start(self, count, interval=0.5):
        async def run():
            for number in range(count):
                started = time.monotonic()
                ref = f"local-{number}"
                self.results[ref] = await self._send_until_result(ref)
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

        def main():
            try:
                asyncio.run(run())
            except BaseException as error:  # reported by join()
                self.error = error

        self.thread = threading.Thread(target=main, name="local-ticket-client", daemon=True)
        self.thread.start()
        return self

    def join(self, timeout=180):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError(f"the local client is still printing after {timeout} s")
        if self.error is not None:
            raise AssertionError(f"the local client failed: {self.error!r}")

    def verdict(self, on_paper):
        """Each ticket against the paper (``on_paper``: every ``local-N`` read on the printer)."""
        copies = Counter(on_paper)
        verdict = Counter()
        problems = []
        for ref, (status, message) in sorted(self.results.items()):
            n = copies.get(ref, 0)
            if n > 1:
                verdict["duplicated"] += 1
                problems.append((ref, f"{n} copies", status, message))
            elif status == "success" and n == 1:
                verdict["printed"] += 1
            elif status == "success":
                verdict["lost"] += 1
                problems.append((ref, "success but not on paper", message))
            elif "partly printed" in message or "interrupted" in message:
                verdict["interrupted"] += 1  # the client was told: a person decides
            else:
                verdict["failed"] += 1
                problems.append((ref, f"{status}: {message}", f"{n} on paper"))
        unknown = sorted(set(copies) - set(self.results))
        if unknown:
            problems.append(("on paper but never sent", unknown))
        verdict["expected"] = len(self.results)
        verdict["resent"] = sum(1 for count in self.sends.values() if count > 1)
        return dict(verdict), problems
