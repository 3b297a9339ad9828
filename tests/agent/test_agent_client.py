"""The agent against a tiny fake server (real WebSocket) and the real fake printer (real TCP)."""

import asyncio
import threading
import time

import pytest

from agent.journal import Journal
from agent.printers import Printer, Session
from tools.polling import wait_for_async

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

RECEIPT = b"\x1b@\x1bt\x02P\x83o de queijo\n\x1dV\x00"  # "Pão de queijo" in CP850, then a cut


async def test_new_order_prints_once_and_reports_received_printing_completed(fake_server, fake_printer, run_agent):
    await run_agent(fake_server.url, fake_printer.url)

    await fake_server.send_job(1, RECEIPT)
    statuses = await fake_server.wait_status(1, "completed")

    assert statuses == [("received", None), ("printing", None), ("completed", None)]
    assert fake_printer.jobs() == [RECEIPT]
    assert fake_server.authorizations == ["Token secret-token-123"]


async def test_agent_sends_printer_info_with_real_status_on_connect(fake_server, fake_printer, run_agent):
    await run_agent(fake_server.url, fake_printer.url)

    await wait_for_async(lambda: fake_server.printer_infos(), message="printer_info")
    info = next(m for m in fake_server.received if m["type"] == "printer_info")
    assert info["printer"]["status"] == "ready"
    assert info["printer"]["agent_version"]
    assert info["timestamp"]


async def test_jobs_print_one_at_a_time_in_order_received(fake_server, fake_printer, run_agent):
    await run_agent(fake_server.url, fake_printer.url)

    for job_id in (5, 3, 9):
        await fake_server.send_job(job_id, b"job %d\n" % job_id)
    for job_id in (5, 3, 9):
        await fake_server.wait_status(job_id, "completed")

    assert fake_printer.jobs() == [b"job 5\n", b"job 3\n", b"job 9\n"]
    completions = [
        m["job_id"] for m in fake_server.received if m.get("type") == "print_status" and m["status"] == "completed"
    ]
    assert completions == [5, 3, 9]


async def test_redelivered_completed_job_is_acknowledged_without_printing(fake_server, fake_printer, run_agent):
    await run_agent(fake_server.url, fake_printer.url)
    await fake_server.send_job(7, RECEIPT)
    await fake_server.wait_status(7, "completed")

    await fake_server.send_job(7, RECEIPT)
    await wait_for_async(lambda: fake_server.statuses(7).count(("completed", None)) == 2)

    assert fake_printer.jobs() == [RECEIPT]


async def test_started_job_in_journal_is_reported_interrupted_and_not_printed(
    fake_server, fake_printer, run_agent, make_settings
):
    settings = make_settings(fake_server.url, fake_printer.url)
    journal = Journal(settings.journal, settings.journal_scope)
    journal.mark_started(11, len(RECEIPT), "x")  # as a crash mid-print leaves it
    journal.close()

    await run_agent(fake_server.url, fake_printer.url)
    await fake_server.wait_status(11, "failed")  # reported once connected, unasked
    await fake_server.send_job(11, RECEIPT)  # and again when the server redelivers it
    await wait_for_async(lambda: len(fake_server.statuses(11)) == 2)

    assert fake_server.statuses(11) == [("failed", "interrupted"), ("failed", "interrupted")]
    assert fake_printer.jobs() == []


async def test_paper_out_fails_the_job_retryably_then_reports_ready_when_paper_returns(
    fake_server, fake_printer, run_agent
):
    fake_printer.set_state("paper_out")
    await run_agent(fake_server.url, fake_printer.url)
    await wait_for_async(lambda: fake_server.printer_infos() == ["paper_out"], message="printer_info paper_out")

    await fake_server.send_job(2, RECEIPT)
    statuses = await fake_server.wait_status(2, "failed")
    assert statuses == [("received", None), ("failed", "paper_out")]
    assert fake_printer.jobs() == []

    fake_printer.set_state("ready")
    await wait_for_async(lambda: fake_server.printer_infos()[-1:] == ["ready"], message="printer_info ready")
    await fake_server.send_job(2, RECEIPT)  # what the server does on "ready"
    await fake_server.wait_status(2, "completed")
    assert fake_printer.jobs() == [RECEIPT]


@pytest.mark.parametrize("state", ["cover_open", "offline"])
async def test_blocking_printer_state_is_reported_as_the_job_error_code(fake_server, fake_printer, run_agent, state):
    fake_printer.set_state(state)
    await run_agent(fake_server.url, fake_printer.url)

    await fake_server.send_job(4, RECEIPT)
    statuses = await fake_server.wait_status(4, "failed")

    assert statuses[-1] == ("failed", state)
    assert fake_printer.jobs() == []
    assert fake_server.printer_infos()[-1] == state


async def test_unreachable_printer_is_offline_and_job_fails_retryably(fake_server, run_agent, unused_tcp_port):
    await run_agent(fake_server.url, f"tcp://127.0.0.1:{unused_tcp_port}")
    await wait_for_async(lambda: fake_server.printer_infos(), message="printer_info")
    assert fake_server.printer_infos()[0] == "offline"

    await fake_server.send_job(3, RECEIPT)
    statuses = await fake_server.wait_status(3, "failed")
    assert statuses[-1] == ("failed", "offline")


async def test_cancel_before_printing_is_honoured(fake_server, fake_printer, run_agent):
    agent = await run_agent(fake_server.url, fake_printer.url)
    await wait_for_async(lambda: agent.connected.is_set())
    # Hold the printer so the first job waits in the queue behind a busy worker.
    await agent._printer_lock.acquire()
    try:
        await fake_server.send_job(20, b"first\n")
        await fake_server.send_job(21, b"second\n")
        await fake_server.wait_status(21, "received")
        await fake_server.send({"type": "cancel", "job_id": 21})
        await wait_for_async(lambda: 21 not in agent._jobs, message="job 21 dropped")
    finally:
        agent._printer_lock.release()
    await fake_server.wait_status(20, "completed")
    await fake_server.send_job(22, b"third\n")
    await fake_server.wait_status(22, "completed")

    assert fake_printer.jobs() == [b"first\n", b"third\n"]
    assert fake_server.statuses(21) == [("received", None)]


async def test_agent_answers_server_ping_with_pong_while_printing(fake_server, fake_printer, run_agent):
    agent = await run_agent(fake_server.url, fake_printer.url)
    await wait_for_async(lambda: agent.connected.is_set())
    await agent._printer_lock.acquire()  # a "long print" in progress
    try:
        await fake_server.send_job(30, RECEIPT)
        await fake_server.send({"type": "ping", "timestamp": "t"})
        await wait_for_async(lambda: any(m["type"] == "pong" for m in fake_server.received), message="pong")
    finally:
        agent._printer_lock.release()
    await fake_server.wait_status(30, "completed")


async def test_agent_sends_ping_at_least_every_ten_seconds(fake_server, fake_printer, run_agent):
    agent = await run_agent(fake_server.url, fake_printer.url)
    assert agent.ping_interval <= 10
    agent.ping_interval = 0.1  # the schedule, sped up
    # The heartbeat reads the interval on each round; reconnect so it starts with the fast one.
    await wait_for_async(lambda: agent.connected.is_set())
    await fake_server.ws.close()
    await wait_for_async(lambda: sum(m["type"] == "ping" for m in fake_server.received) >= 3, message="pings")


async def test_old_server_without_escpos_prints_content_as_text(fake_server, fake_printer, run_agent):
    await run_agent(fake_server.url, fake_printer.url)

    await fake_server.send_job(40, content="Coxinha x2\nTotal 9,00\n", copies=2)
    await fake_server.wait_status(40, "completed")

    [job] = fake_printer.jobs()
    assert job.count(b"Coxinha x2\nTotal 9,00\n") == 2
    assert job.count(b"\x1dV") == 2  # one cut per copy


async def test_bad_base64_is_reported_as_bad_data(fake_server, fake_printer, run_agent):
    await run_agent(fake_server.url, fake_printer.url)

    await fake_server.send_job(41, escpos="not base64!!")
    statuses = await fake_server.wait_status(41, "failed")

    assert statuses == [("failed", "bad_data")]
    assert fake_printer.jobs() == []


async def test_agent_reconnects_and_redelivered_job_prints_once(fake_server, fake_printer, run_agent):
    agent = await run_agent(fake_server.url, fake_printer.url)
    await fake_server.send_job(50, RECEIPT)
    await fake_server.wait_status(50, "completed")

    await fake_server.ws.close(1012, "restart")
    await wait_for_async(lambda: fake_server.connections == 2 and fake_server.ws is not None, message="reconnect")
    await fake_server.send_job(50, RECEIPT)  # the server re-delivers sent/printing jobs
    await fake_server.send_job(51, RECEIPT)
    await fake_server.wait_status(51, "completed")

    assert fake_printer.jobs() == [RECEIPT, RECEIPT]  # 50 once, 51 once
    assert fake_server.statuses(50)[-1] == ("completed", None)
    assert agent.connected.is_set()


async def test_unauthorized_close_backs_off_slowly(fake_server, fake_printer, run_agent, caplog):
    fake_server.close_with = 4401
    started = time.monotonic()
    await run_agent(fake_server.url, fake_printer.url)  # slow_retry is 0.5 s in tests
    await wait_for_async(lambda: fake_server.connections >= 2, message="second attempt")

    assert time.monotonic() - started >= 0.5
    rejected = [r for r in caplog.records if "token rejected" in r.getMessage()]
    assert rejected and "secret-token-123" not in caplog.text


async def test_job_printed_before_connection_loss_is_acknowledged_after_reconnect(fake_server, fake_printer, run_agent):
    agent = await run_agent(fake_server.url, fake_printer.url)
    await wait_for_async(lambda: agent.connected.is_set())
    await agent._printer_lock.acquire()
    try:
        await fake_server.send_job(60, RECEIPT)
        await fake_server.wait_status(60, "received")
        await fake_server.ws.close(1012, "restart")  # queued job is dropped on disconnect
        await wait_for_async(lambda: fake_server.connections == 2 and fake_server.ws is not None)
    finally:
        agent._printer_lock.release()
    await fake_server.send_job(60, RECEIPT)  # redelivery after reconnect
    await wait_for_async(lambda: ("completed", None) in fake_server.statuses(60))

    assert fake_printer.jobs() == [RECEIPT]


async def test_agent_never_floods_the_server_when_many_jobs_arrive_at_once(fake_server, fake_printer, run_agent):
    # The server closes agents that send more than 20 messages/s (burst 40) with 4429.
    await run_agent(fake_server.url, fake_printer.url)
    for job_id in range(100, 125):
        await fake_server.send_job(job_id, b"job %d\n" % job_id)
    await fake_server.wait_status(124, "completed", timeout=30)

    times = fake_server.received_at
    busiest = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert busiest <= 26  # burst 15 + 10/s
    assert len(fake_printer.jobs()) == 25


async def test_token_in_the_url_is_enough(fake_server, fake_printer, run_agent):
    agent = await run_agent(fake_server.url + "?token=abc123", fake_printer.url, token=None)
    await wait_for_async(lambda: agent.connected.is_set())
    assert fake_server.authorizations == [None]
    assert fake_server.paths == ["/ws/agent/?token=abc123"]


class SlowPrinter(Printer):
    """A printer whose write takes a while (the only fake here: a long print)."""

    scheme = "slow"
    reads_status = True

    def __init__(self):
        super().__init__("slow://")
        self.writing = threading.Event()
        self.printed = []

    def open(self):
        printer = self

        class SlowSession(Session):
            def read_status(self):
                return "ready"

            def write(self, data):
                printer.writing.set()
                time.sleep(0.5)
                printer.printed.append(data)

        return SlowSession()


async def test_stopping_the_agent_lets_the_current_job_finish_and_be_acknowledged(fake_server, run_agent, tmp_path):
    printer = SlowPrinter()
    agent = await run_agent(fake_server.url, "fake://unused", printer=printer)
    await fake_server.send_job(70, RECEIPT)
    await fake_server.send_job(71, RECEIPT)
    await asyncio.to_thread(printer.writing.wait, 10)
    await fake_server.wait_status(71, "received")

    agent.stop()
    await wait_for_async(lambda: fake_server.ws is None, message="agent to disconnect")

    assert printer.printed == [RECEIPT]  # job 71 was not started
    assert fake_server.statuses(70)[-1] == ("completed", None)
    assert fake_server.statuses(71) == [("received", None)]
    assert agent.journal.get(70).state == "completed"
    assert agent.journal.get(71) is None


@pytest.mark.parametrize(
    "code, needle",
    [
        (4403, "printer is disabled"),
        (4409, "another agent connected with this printer's token and took over"),
    ],
)
async def test_server_close_codes_are_explained_in_one_log_line(
    fake_server, fake_printer, run_agent, caplog, code, needle
):
    fake_server.close_with = code
    await run_agent(fake_server.url, fake_printer.url)
    await wait_for_async(lambda: any(needle in r.getMessage() for r in caplog.records), message=needle)
    assert "Traceback" not in caplog.text


async def test_power_cycled_printer_goes_offline_then_prints_when_back(fake_server, fake_printer, run_agent):
    await run_agent(fake_server.url, fake_printer.url)
    await wait_for_async(lambda: fake_server.printer_infos() == ["ready"], message="ready")
    port = fake_printer.server.port

    await fake_printer.server.stop()  # switched off
    await wait_for_async(lambda: fake_server.printer_infos()[-1:] == ["offline"], message="offline")
    await fake_server.send_job(80, RECEIPT)
    assert (await fake_server.wait_status(80, "failed"))[-1] == ("failed", "offline")

    fake_printer.server.port = port
    await fake_printer.server.start()  # switched on again, same address
    await wait_for_async(lambda: fake_server.printer_infos()[-1:] == ["ready"], message="ready again")
    await fake_server.send_job(80, RECEIPT)
    await fake_server.wait_status(80, "completed")
    assert fake_printer.jobs() == [RECEIPT]


async def test_close_4503_reconnects_in_about_two_seconds_not_after_the_backoff(
    fake_server, fake_printer, make_settings, caplog
):
    """4503 = the server's database or channel layer is down for a moment: come back soon, with
    jitter, whatever the backoff has grown to (an agent used to wait out its exponential backoff)."""
    from agent.client import Agent, Backoff
    from agent.printers import open_printer

    fake_server.close_with = 4503
    settings = make_settings(fake_server.url, fake_printer.url)
    journal = Journal(settings.journal, settings.journal_scope)
    backoff = Backoff(base=600.0, cap=600.0)  # any reconnect through the backoff would take minutes
    backoff.attempt = 5
    agent = Agent(settings, open_printer(fake_printer.url), journal, backoff=backoff, slow_retry=600.0)
    task = asyncio.create_task(agent.run())
    try:
        await wait_for_async(lambda: fake_server.connections >= 3, 30, message="three connections after 4503")
        fake_server.close_with = None
        await wait_for_async(lambda: fake_server.ws is not None, 30, message="a connection once the server is back")
    finally:
        agent.stop()
        await asyncio.wait_for(task, 45)
        journal.close()
    assert backoff.attempt == 0  # reset by the server's answer, not advanced
    lines = [r.getMessage() for r in caplog.records if "4503" in r.getMessage()]
    assert lines and all("reconnecting in" in line for line in lines)
    delays = [float(line.rsplit("reconnecting in ", 1)[1].split()[0]) for line in lines]
    assert all(1.5 <= delay <= 2.5 for delay in delays)


async def test_a_full_journal_disk_prints_nothing_says_so_and_prints_once_when_space_returns(
    fake_server, fake_printer, run_agent, tmp_path, monkeypatch
):
    """Delivery rule 7 on a full disk: no byte without a durable "started". The job stays with
    the agent (``sent`` at the server: no "printing", no failure), the printer shows ``error``
    with the reason, later jobs wait behind it in order, and each prints once when space returns."""
    from agent.journal import FAULT_FILE_ENV

    fault = tmp_path / "journal-fault"
    monkeypatch.setenv(FAULT_FILE_ENV, str(fault))
    await run_agent(fake_server.url, fake_printer.url)
    await wait_for_async(lambda: fake_server.printer_infos() == ["ready"], message="ready")

    fault.write_text("ENOSPC")
    await fake_server.send_job(90, RECEIPT)
    await fake_server.send_job(91, b"second\n")
    await wait_for_async(lambda: fake_server.printer_infos()[-1:] == ["error"], message="printer_info error")
    info = [m for m in fake_server.received if m.get("type") == "printer_info"][-1]["printer"]
    assert "disk full" in info["message"] and "not printing" in info["message"]
    await asyncio.sleep(1.0)  # several probes fail meanwhile; nothing may come out
    assert fake_printer.jobs() == []
    assert fake_server.statuses(90) == [("received", None)]
    assert fake_server.statuses(91) == [("received", None)]

    fault.unlink()
    await fake_server.wait_status(90, "completed")
    await fake_server.wait_status(91, "completed")
    assert fake_printer.jobs() == [RECEIPT, b"second\n"]
    assert fake_server.statuses(90) == [("received", None), ("printing", None), ("completed", None)]
    await wait_for_async(lambda: fake_server.printer_infos()[-1:] == ["ready"], message="ready again")

    await fake_server.send_job(90, RECEIPT)  # a redelivery is answered from the journal
    await wait_for_async(lambda: fake_server.statuses(90).count(("completed", None)) == 2)
    assert fake_printer.jobs() == [RECEIPT, b"second\n"]


async def test_an_agent_started_on_a_read_only_disk_runs_and_a_waiting_job_can_be_cancelled(
    fake_server, fake_printer, run_agent, tmp_path, monkeypatch
):
    from agent.journal import FAULT_FILE_ENV

    fault = tmp_path / "journal-fault"
    fault.write_text("EROFS")  # from the start: an agent starting on a read-only disk used to crash
    monkeypatch.setenv(FAULT_FILE_ENV, str(fault))
    await run_agent(fake_server.url, fake_printer.url)
    await fake_server.send_job(95, RECEIPT)
    await wait_for_async(lambda: fake_server.printer_infos()[-1:] == ["error"], message="printer_info error")
    info = [m for m in fake_server.received if m.get("type") == "printer_info"][-1]["printer"]
    assert "read-only" in info["message"]

    await fake_server.send({"type": "cancel", "job_id": 95})
    fault.unlink()
    await fake_server.send_job(96, b"after\n")
    await fake_server.wait_status(96, "completed")
    assert fake_printer.jobs() == [b"after\n"]
    assert fake_server.statuses(95) == [("received", None)]


async def test_printed_but_completion_not_journaled_is_not_printed_again_on_redelivery(
    fake_server, fake_printer, run_agent, tmp_path, monkeypatch
):
    """The disk filled between the print and its "completed": a redelivery (say after a
    reconnect) is answered "completed" from memory, never printed again or called interrupted."""
    from agent import journal as journal_module

    agent = await run_agent(fake_server.url, fake_printer.url)
    real_mark_completed = agent.journal.mark_completed

    def full_disk(job_id):
        raise journal_module.JournalUnwritable("cannot write the journal: disk full", "disk_full")

    agent.journal.mark_completed = full_disk
    await fake_server.send_job(97, RECEIPT)
    await fake_server.wait_status(97, "completed")
    await fake_server.send_job(97, RECEIPT)
    await wait_for_async(lambda: fake_server.statuses(97).count(("completed", None)) == 2)
    assert fake_printer.jobs() == [RECEIPT]
    assert ("failed", "interrupted") not in fake_server.statuses(97)

    agent.journal.mark_completed = real_mark_completed
    await agent._journal_writable()  # what the next successful probe does
    assert agent.journal.get(97).state == "completed"
