"""Local jobs and the server: one queue per printer, the journal, and reports that survive outages.

A real daphne, a real agent process (Django unimportable in it) with ``--server`` and ``--listen``,
and a real printer socket.
"""

import asyncio
import itertools
import re
import socket
import sqlite3
import threading
import time
from contextlib import closing

import pytest

from tests.e2e.local_listener_support import Client, LocalAgent, connect, ticket
from tools.polling import wait_for
from tools.processes import DaphneServer, FakePrinterProcess, StaffBrowser, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def local_jobs(server):
    return server.manage.python("""
from printing.models import PrintJob
rows = PrintJob.objects.filter(kind="local").order_by("id").values(
    "id", "status", "error_code", "source", "local_id", "content", "printer__name")
events = {job: list(PrintJob.objects.get(pk=job).events.values_list("status", flat=True)) for job in
          PrintJob.objects.filter(kind="local").values_list("pk", flat=True)}
print(json.dumps([dict(row, events=events[row["id"]]) for row in rows]))
""")


@pytest.fixture
def rig(tmp_path):
    server = DaphneServer(tmp_path / "server").start()
    token = server.manage.add_printer("Balcão")
    printer = FakePrinterProcess(tmp_path / "printer-out").start()
    agents = []

    def start_agent(printer_url=None, env=None, port=None):
        agent = LocalAgent(
            tmp_path / "agent",
            printer_url or printer.url,
            "--server",
            server.agent_url,
            port=port,
            env={"CANTINA_TOKEN": token, **(env or {})},
        )
        agents.append(agent.start())
        return agent

    yield server, printer, start_agent
    for agent in agents:
        agent.stop(20)
    printer.stop()
    server.stop()


@pytest.mark.asyncio
async def test_a_local_job_printed_while_the_server_is_down_is_recorded_after_reconnect(rig):
    server, printer, start_agent = rig
    agent = start_agent()
    await asyncio.to_thread(wait_for, lambda: "connected to" in agent.log(), 30, message="agent connected")
    server.stop()
    async with connect(agent.url("/")) as ws:
        client = Client(ws)
        await client.send(
            {
                "number": "77",
                "customer": "Luís",
                "items": [{"nome": "Café com leite", "quantidade": 1, "preco": "3,50"}],
            }
        )
        assert (await client.recv())["status"] == "success"
    assert any("Café com leite" in text for text in printer.received())
    assert local_jobs(server) == []  # nothing reached the server (it is down)
    server.start()
    jobs = await asyncio.to_thread(wait_for, lambda: local_jobs(server), 60, 0.5, "the local job to reach the server")
    (job,) = jobs
    assert job["status"] == "completed" and job["printer__name"] == "Balcão"
    assert job["source"].startswith("cantina-virtual") and "Café com leite" in job["content"]
    assert job["events"] == ["pending", "printing", "completed"]
    # Managers see it in the admin, with its source.
    server.manage.python("""
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser("gerente", password="gerente-pass-123")
print(json.dumps(True))
""")
    browser = StaffBrowser(server.http_url).login("gerente", "gerente-pass-123")
    status, page = browser.get("/admin/printing/printjob/?kind__exact=local")
    assert status == 200 and f"/admin/printing/printjob/{job['id']}/change/" in page
    status, page = browser.get(f"/admin/printing/printjob/{job['id']}/change/")
    assert status == 200 and "cantina-virtual" in page and "Café com leite" in page
    # The server confirmed it: the journal will not report it again, after any reconnect.
    journal = agent.workdir / "journal.sqlite3"

    def reported():
        with closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
            return db.execute("SELECT reported FROM local_job").fetchall() == [(1,)]

    await asyncio.to_thread(wait_for, reported, 30, 0.2, "the journal to record the server's confirmation")
    assert "reported 1 local job(s) to the server" in agent.log()


@pytest.mark.asyncio
async def test_kill_9_during_a_local_job_is_reported_interrupted_and_never_reprinted(rig):
    server, printer, start_agent = rig
    agent = start_agent(env={"CANTINA_AGENT_HANG_AT": "during_print"})
    await asyncio.to_thread(wait_for, lambda: "connected to" in agent.log(), 30, message="agent connected")
    async with connect(agent.url("/ws")) as ws:
        client = Client(ws)
        await client.recv()
        await client.send(ticket("cut-short", "Interrompido"))
        assert (await client.recv())["tipo"] == "ack"
        await asyncio.to_thread(
            wait_for, lambda: "hanging at during_print" in agent.log(), 30, message="the agent to be printing"
        )
        agent.kill()  # a real kill -9, journal says "started"
    agent = start_agent(port=agent.port)
    jobs = await asyncio.to_thread(
        wait_for, lambda: local_jobs(server), 60, 0.5, "the interrupted local job at the server"
    )
    (job,) = jobs
    assert job["status"] == "failed" and job["error_code"] == "interrupted"
    assert job["events"] == ["pending", "printing", "failed"]
    # Nothing printed, then or after the restart.
    async with connect(agent.url("/ws")) as ws:
        client = Client(ws)
        await client.recv()
        await client.send(ticket("after", "Depois"))
        assert (await client.recv())["tipo"] == "ack"
        assert (await client.recv())["status"] == "success"
    texts = printer.received()
    assert len(texts) == 1 and "Depois" in texts[0] and "Interrompido" not in texts[0]
    assert "local job" in agent.log() and "interrupted" in agent.log()


class RecordingPrinter:
    """A slow network printer that notes when each connection opens and closes and what it got.

    It answers the agent's status queries (DLE EOT n) as a ready printer and takes its time to
    read each job, so two jobs sent at once would show overlapping connections.
    """

    def __init__(self):
        self.port = free_port()
        self.jobs = []  # (opened, closed, bytes)
        self.lock = threading.Lock()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self.serve, daemon=True).start()

    @property
    def url(self):
        return f"tcp://127.0.0.1:{self.port}"

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        opened, data = time.monotonic(), b""
        with conn:
            while chunk := conn.recv(4096):
                if chunk.startswith(b"\x10\x04") and len(chunk) == 3:
                    conn.sendall(b"\x12")
                    continue
                data += chunk
                time.sleep(0.05)
        if data:
            with self.lock:
                self.jobs.append((opened, time.monotonic(), data))

    def close(self):
        self.sock.close()


@pytest.mark.asyncio
async def test_local_and_server_jobs_share_one_queue_in_order_without_interleaving(rig):
    server, _, start_agent = rig
    slow = RecordingPrinter()
    try:
        agent = start_agent(printer_url=slow.url)
        await asyncio.to_thread(wait_for, lambda: "connected to" in agent.log(), 30, message="agent connected")
        confirmer = asyncio.create_task(asyncio.to_thread(server.manage.confirm_orders, 6))
        async with connect(agent.url("/ws")) as ws:
            client = Client(ws)
            await client.recv()
            for n in range(6):
                await client.send(ticket(f"local-{n}", f"LOCAL TICKET {n}"))
            replies = [await client.recv(timeout=90) for _ in range(12)]
        await confirmer
        assert sorted(r["tipo"] for r in replies) == ["ack"] * 6 + ["result"] * 6
        assert all(r["status"] == "success" for r in replies if r["tipo"] == "result")
        await asyncio.to_thread(wait_for, lambda: len(slow.jobs) == 12, 90, 0.2, "12 jobs at the printer")
        jobs = sorted(slow.jobs)
        # One job per connection, connections one after another: bytes never interleave.
        for (_, closed, _), (opened, _, _) in itertools.pairwise(jobs):
            assert opened >= closed
        texts = [data.decode("cp437", errors="replace") for _, _, data in jobs]
        local_order = [
            next(n for n in range(6) if f"LOCAL TICKET {n}" in text) for text in texts if "LOCAL TICKET" in text
        ]
        assert local_order == list(range(6))
        receipts = [text for text in texts if "PEDIDO" in text]
        assert len(receipts) == 6
        numbers = [int(re.search(r"PEDIDO #(\d+)", text).group(1)) for text in receipts]
        assert numbers == sorted(numbers) and len(set(numbers)) == 6
        assert all(text.count("\x1dV") == 1 for text in texts)  # one cut per job: each one whole
    finally:
        slow.close()


@pytest.mark.asyncio
async def test_local_job_messages_are_recorded_once_and_bad_ones_get_an_error(tmp_path):
    server = DaphneServer(tmp_path / "server").start()
    try:
        token = server.manage.add_printer("Caixa 2")
        report = {
            "type": "local_job",
            "timestamp": "2026-11-29T10:00:03+00:00",
            "local_id": "a1b2c3d4e5f6a7b8",
            "source": "printerwebsocket",
            "kind": "raw",
            "client": {"ref": "uid-9", "origin": None},
            "status": "failed",
            "error_code": "paper_out",
            "message": "printer is out of paper; nothing was printed",
            "content": "SIZE 40 mm",
            "byte_count": 10,
            "sha256": "0" * 64,
            "events": [
                {"status": "pending", "at": "2026-11-29T10:00:00+00:00"},
                {"status": "failed", "at": "2026-11-29T10:02:00+00:00", "message": "out of paper"},
            ],
        }
        async with connect(f"{server.agent_url}?token={token}") as ws:
            client = Client(ws)
            assert (await client.recv())["type"] == "welcome"
            await client.send(report)
            first = await client.recv()
            await client.send(report)  # reported again (e.g. the confirmation was lost)
            second = await client.recv()
            assert first["type"] == second["type"] == "local_job_recorded"
            assert first["job_id"] == second["job_id"] and first["status"] == "failed"
            assert first["error_code"] == "paper_out" and first["local_id"] == "a1b2c3d4e5f6a7b8"
            for bad in (
                {**report, "local_id": "no spaces allowed"},
                {**report, "status": "printing"},
                {**report, "events": [{"status": "exploded"}]},
                {k: v for k, v in report.items() if k != "source"},
            ):
                await client.send(bad)
                error = await client.recv()
                assert error["type"] == "error" and error["code"] == "bad_message", error
            await client.send({"type": "ping", "timestamp": "t"})
            assert (await client.recv())["type"] == "pong"
        (job,) = local_jobs(server)
        assert job["status"] == "failed" and job["error_code"] == "paper_out" and job["printer__name"] == "Caixa 2"
        assert job["source"] == "printerwebsocket · uid-9" and job["events"] == ["pending", "failed"]
    finally:
        server.stop()
