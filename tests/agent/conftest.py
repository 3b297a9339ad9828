"""Fixtures for the printer agent's tests. No Django here: the agent must work without it."""

from __future__ import annotations

import asyncio

import pytest
import pytest_asyncio
from websockets.asyncio.server import serve

from agent.config import Settings
from tests.agent.agent_support import FakePrinter, FakeServer


@pytest_asyncio.fixture
async def fake_printer(tmp_path):
    printer = FakePrinter(tmp_path / "printer")
    printer.directory.mkdir()
    await printer.server.start()
    yield printer
    await printer.server.stop()


@pytest_asyncio.fixture
async def fake_server():
    server = FakeServer()
    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        server.port = ws_server.sockets[0].getsockname()[1]
        yield server


@pytest.fixture
def make_settings(tmp_path):
    def make(server: str, printer: str, **overrides) -> Settings:
        values = dict(
            server=server,
            token="secret-token-123",
            printer=printer,
            journal=str(tmp_path / "journal.sqlite3"),
            status_interval=0.1,
        )
        values.update(overrides)
        return Settings(**values)

    return make


@pytest_asyncio.fixture
async def run_agent(make_settings):
    """Start an in-process Agent against the given server and printer; stop it afterwards."""
    from agent.client import Agent, Backoff
    from agent.journal import Journal
    from agent.printers import open_printer

    running = []

    async def start(server_url: str, printer_url: str, printer=None, **overrides):
        settings = make_settings(server_url, printer_url, **overrides)
        journal = Journal(settings.journal, settings.journal_scope)
        agent = Agent(
            settings, printer or open_printer(printer_url), journal, backoff=Backoff(base=0.05, cap=0.5), slow_retry=0.5
        )
        task = asyncio.create_task(agent.run())
        running.append((agent, task, journal))
        return agent

    yield start
    for agent, task, journal in running:
        agent.stop()
        await asyncio.wait_for(task, 45)
        journal.close()
