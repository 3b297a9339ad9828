"""Helpers for the local print server tests: a real agent process that listens for local clients
(started with Django made unimportable, as on a canteen PC), and a small WebSocket client."""

import asyncio
import json
import os
from pathlib import Path

import websockets

from tools.polling import wait_for
from tools.processes import PYTHON, REPO, ChildProcess, free_port

# The agent runs with `import django` failing: it must never need the server's framework.
NO_DJANGO = "import sys; sys.modules['django'] = None; from agent.cli import main; sys.exit(main())"


def agent_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CANTINA_", "DJANGO_", "PYTEST"))}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    env.update({key: str(value) for key, value in extra.items()})
    return env


class LocalAgent(ChildProcess):
    """``python -m agent --printer URL --listen 127.0.0.1:PORT [args]`` with its own journal."""

    def __init__(self, workdir, printer_url, *args, port=None, env=None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.printer_url = printer_url
        super().__init__(
            [
                PYTHON,
                "-c",
                NO_DJANGO,
                "--printer",
                printer_url,
                "--listen",
                f"127.0.0.1:{self.port}",
                "--journal",
                self.workdir / "journal.sqlite3",
                "--status-interval",
                "0.2",
                *args,
            ],
            self.workdir / "agent.log",
            env=agent_env(HOME=self.workdir, **(env or {})),
        )

    def start(self, timeout=30):
        super().start()
        wait_for(
            lambda: "local print server listening" in self.log() or not self.alive,
            timeout,
            message="the agent's local listener",
        )
        if not self.alive:
            raise AssertionError(f"agent exited:\n{self.log()}")
        return self

    def url(self, path="/"):
        return f"ws://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(20)


class Client:
    """A WebSocket client that reads JSON messages with a deadline."""

    def __init__(self, ws):
        self.ws = ws

    async def send(self, message):
        await self.ws.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout=30):
        return json.loads(await asyncio.wait_for(self.ws.recv(), timeout))


def connect(url, **kwargs):
    return websockets.connect(url, open_timeout=10, **kwargs)


def ticket(ticket_id, *lines, model="80mm EC-PM-80250", auth_token=None):
    """A ticket-daemon ``ticket`` message with a poster document of text lines and a cut."""
    commands = [
        {
            "type": "text",
            "data": {"content": {"text": line, "align": "center", "content_style": {"bold": True, "size": "1x1"}}},
        }
        for line in lines
    ]
    commands.append({"type": "cut", "data": {"mode": "partial"}})
    message = {
        "tipo": "ticket",
        "id": ticket_id,
        "datos": {"version": "1.0", "profile": {"model": model, "paper_width": 80}, "commands": commands},
    }
    if auth_token is not None:
        message["auth_token"] = auth_token
    return message


def printed_texts(printer):
    return printer.received()


def printed_bytes(printer):
    return [path.read_bytes() for path in sorted(printer.out_dir.glob("*.bin"))]
