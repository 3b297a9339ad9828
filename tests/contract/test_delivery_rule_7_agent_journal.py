"""DESIGN.md delivery rule 7, the agent's side: the durable journal (SQLite) keyed by job id.

The agent runs in-process against the fake server of tests/agent (real WebSocket); the printer
is a recording connector that reads the journal through its own SQLite connection at write
time, so it sees only what was durably committed before the first byte."""

import pytest

from agent.journal import Journal
from agent.printers import Printer, Session
from tools.polling import wait_for_async

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

RECEIPT = b"\x1b@receipt\n\x1dV\x00"


class JournalWitnessPrinter(Printer):
    """Records, for every write, the journal state of each job as another process would see it."""

    scheme = "witness"
    reads_status = True

    def __init__(self, journal_path, scope):
        super().__init__("witness://")
        self.journal_path = journal_path
        self.scope = scope
        self.writes = []  # (bytes, {job_id: state at write time})
        self.job_ids = []

    def open(self):
        printer = self

        class WitnessSession(Session):
            def read_status(self):
                return "ready"

            def write(self, data):
                witness = Journal(printer.journal_path, printer.scope)
                try:
                    states = {job_id: getattr(witness.get(job_id), "state", None) for job_id in printer.job_ids}
                finally:
                    witness.close()
                printer.writes.append((data, states))

        return WitnessSession()


async def test_started_is_journaled_before_any_byte_and_completed_after_the_write(
    fake_server, run_agent, make_settings
):
    settings = make_settings(fake_server.url, "witness://")
    printer = JournalWitnessPrinter(settings.journal, settings.journal_scope)
    printer.job_ids = [21]
    agent = await run_agent(fake_server.url, "witness://", printer=printer)

    await fake_server.send_job(21, RECEIPT)
    await fake_server.wait_status(21, "completed")

    assert printer.writes and all(data for data, _ in printer.writes)
    assert [states[21] for _, states in printer.writes] == ["started"] * len(printer.writes)
    assert b"".join(data for data, _ in printer.writes) == RECEIPT
    assert agent.journal.get(21).state == "completed"


async def test_a_redelivered_completed_job_is_acknowledged_again_without_printing(fake_server, fake_printer, run_agent):
    await run_agent(fake_server.url, fake_printer.url)
    await fake_server.send_job(22, RECEIPT)
    await fake_server.wait_status(22, "completed")

    await fake_server.send_job(22, RECEIPT)
    await wait_for_async(
        lambda: fake_server.statuses(22).count(("completed", None)) == 2, message="the second completed"
    )

    assert fake_printer.jobs() == [RECEIPT]


async def test_a_job_found_started_after_a_crash_is_reported_failed_interrupted_and_never_reprinted(
    fake_server, fake_printer, run_agent, make_settings
):
    settings = make_settings(fake_server.url, fake_printer.url)
    journal = Journal(settings.journal, settings.journal_scope)
    journal.mark_started(23, len(RECEIPT), "digest")  # the crash left it there
    journal.close()

    await run_agent(fake_server.url, fake_printer.url)
    await fake_server.wait_status(23, "failed")
    await fake_server.send_job(23, RECEIPT)  # the server re-delivers it (it was in flight)
    await wait_for_async(lambda: len(fake_server.statuses(23)) == 2, message="the second report")

    assert fake_server.statuses(23) == [("failed", "interrupted")] * 2
    assert fake_printer.jobs() == []


async def test_crash_recovery_keeps_its_scope_another_servers_or_printers_jobs_are_not_recovered(
    fake_server, fake_printer, run_agent, make_settings
):
    settings = make_settings(fake_server.url, fake_printer.url)
    other_server = make_settings("ws://elsewhere.example/ws/agent/", fake_printer.url)
    other_printer = make_settings(fake_server.url, "tcp://10.9.9.9:9100")
    for scope, job_id in (
        (settings.journal_scope, 31),
        (other_server.journal_scope, 32),
        (other_printer.journal_scope, 33),
    ):
        journal = Journal(settings.journal, scope)
        journal.mark_started(job_id, 1, "digest")
        journal.close()

    await run_agent(fake_server.url, fake_printer.url)
    await fake_server.wait_status(31, "failed")
    await fake_server.send({"type": "ping", "timestamp": "t"})
    await wait_for_async(lambda: any(m.get("type") == "pong" for m in fake_server.received), message="pong")

    reported = {m["job_id"] for m in fake_server.received if m.get("type") == "print_status"}
    assert reported == {31}
    for scope, job_id in ((other_server.journal_scope, 32), (other_printer.journal_scope, 33)):
        journal = Journal(settings.journal, scope)
        assert journal.get(job_id).state == "started"  # left for its own agent to recover
        journal.close()


async def test_journal_recover_returns_and_marks_only_its_own_scopes_jobs(tmp_path):
    path = tmp_path / "journal.sqlite3"
    mine, theirs = Journal(path, "ws://a|tcp://p"), Journal(path, "ws://b|tcp://p")
    mine.mark_started(1, 1, "x")
    theirs.mark_started(2, 1, "x")
    theirs.mark_started(1, 1, "x")  # the same job id under another server

    assert mine.recover() == [1]
    assert mine.get(1).state == "interrupted"
    assert [(e.job_id, e.state) for e in theirs.entries()] == [(1, "started"), (2, "started")]
    mine.close()
    theirs.close()
