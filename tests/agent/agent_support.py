"""Helpers for the agent tests: a real fake printer and a tiny fake server (waiting: tools.polling)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from agent.fakeprinter import FakePrinterServer, JobStore
from tools.polling import wait_for_async

REPO = Path(__file__).resolve().parents[2]


class FakePrinter:
    """The real fake printer (agent.fakeprinter) on a free port of this test's event loop."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.store = JobStore(directory, echo=False)
        self.server = FakePrinterServer(self.store, "127.0.0.1", 0)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.server.port}"

    def set_state(self, state: str) -> None:
        (self.directory / "state").write_text(state)

    def jobs(self) -> list[bytes]:
        return [path.read_bytes() for path in self.store.jobs()]


class FakeServer:
    """Plays the Cantina server's side of protocol v1 for one agent at a time."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.received_at: list[float] = []
        self.paths: list[str] = []
        self.authorizations: list[str | None] = []
        self.connections = 0
        self.ws = None
        self.close_with: int | None = None  # close every new connection with this code
        self.port = 0
        self.send_pings = False
        # The printer the welcome describes (its profile is the agent's unless its config names one).
        self.welcome_printer = {"id": 1, "name": "Balcão", "paper_width": 80, "profile": "TM-T88V", "has_cutter": True}

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/agent/"

    async def handler(self, ws) -> None:
        self.authorizations.append(ws.request.headers.get("Authorization"))
        self.paths.append(ws.request.path)
        self.connections += 1
        if self.close_with:
            await ws.close(self.close_with, "test close")
            return
        self.ws = ws
        await ws.send(
            json.dumps(
                {
                    "type": "welcome",
                    "message": "hi",
                    "timestamp": "t",
                    "printer": self.welcome_printer,
                }
            )
        )
        try:
            async for raw in ws:
                self.received.append(json.loads(raw))
                self.received_at.append(time.monotonic())
        finally:
            if self.ws is ws:
                self.ws = None

    async def send(self, message: dict) -> None:
        ws = await wait_for_async(lambda: self.ws, message="an agent connection")
        await ws.send(json.dumps(message))

    async def send_job(self, job_id: int, data: bytes = b"", *, copies: int = 1, **extra) -> None:
        import base64

        order = {
            "job_id": job_id,
            "order_id": 1000 + job_id,
            "type": "order_receipt",
            "content": f"receipt {job_id}\n",
            "copies": copies,
            "priority": 1,
            "order_info": {
                "id": 1000 + job_id,
                "number": f"A-{job_id:04d}",
                "status": "confirmed",
                "total_amount": "1.00",
                "customer_name": "Ana",
            },
            "printer_config": {"paper_width": 80, "printer_type": "thermal"},
        }
        if data:
            order["escpos"] = base64.b64encode(data).decode()
        order.update(extra)
        await self.send({"type": "new_order", "timestamp": "t", "order": order})

    def statuses(self, job_id: int) -> list[tuple[str, str | None]]:
        return [
            (m["status"], m.get("error_code"))
            for m in self.received
            if m.get("type") == "print_status" and m.get("job_id") == job_id
        ]

    def printer_infos(self) -> list[str]:
        return [m["printer"]["status"] for m in self.received if m.get("type") == "printer_info"]

    async def wait_status(self, job_id: int, status: str, timeout: float = 10.0) -> list:
        await wait_for_async(
            lambda: any(s == status for s, _ in self.statuses(job_id)),
            timeout,
            message=f"job {job_id} {status}; got {self.statuses(job_id)}",
        )
        return self.statuses(job_id)


def agent_env(tmp_path: Path, **extra) -> dict:
    """Environment for an agent subprocess, isolated from the user's config and state."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANTINA_")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "home" / ".config"),
        XDG_STATE_HOME=str(tmp_path / "home" / ".state"),
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


PYTHON = sys.executable
