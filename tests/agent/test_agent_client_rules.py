"""Agent rules that only a mutation run showed unguarded (tools/mutate.py, issue 22).

Each test fails when its rule alone is broken in agent/client.py; the mutant it kills is named.
Same setting as test_agent_client.py: a tiny fake server (real WebSocket), the real fake printer
(real TCP) or, where a printer failure is needed that TCP cannot stage on demand, a Printer whose
session fails the way a pulled cable does.
"""

import base64
import threading

import pytest

from agent.journal import Journal
from agent.printers import Printer, PrinterWriteError, Session
from tools.polling import wait_for_async

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(60)]

RECEIPT = b"\x1b@receipt\n\x1dV\x00"


class CableCutPrinter(Printer):
    """Ready when asked, but the connection breaks during the write (a cable pulled mid-print)."""

    scheme = "cut"
    reads_status = True

    def __init__(self):
        super().__init__("cut://")
        self.writes = 0
        self.hold_close = None  # a threading.Event the session's close waits for

    def open(self):
        printer = self

        class CutSession(Session):
            def read_status(self):
                return "ready"

            def write(self, data):
                printer.writes += 1
                raise PrinterWriteError("connection reset by peer")

            def close(self):
                if printer.hold_close is not None:
                    printer.hold_close.wait(30)

        return CutSession()

    def probe_status(self):
        return "offline" if self.writes else "ready"  # the cable stays out


async def test_a_job_cut_off_mid_print_is_answered_from_the_journal_when_sent_again(fake_server, run_agent):
    """Kills client.py Agent._print: ``self._jobs.pop`` in ``finally`` deleted (main at f7f8790).
    Without it the job stays "queued here" after the failure, and the server's next delivery of it
    (a person's retry, a reconnect) is silently dropped: the job sits in ``sent`` for ever. Held
    while the printer is released, it also found that the job was only forgotten after the
    release: a redelivery in between was dropped (fixed: forgotten before the report)."""
    printer = CableCutPrinter()
    printer.hold_close = threading.Event()  # the redelivery comes while the printer is released
    agent = await run_agent(fake_server.url, "cut://", printer=printer)
    try:
        await fake_server.send_job(31, RECEIPT)
        await fake_server.wait_status(31, "failed")
        assert fake_server.statuses(31) == [("received", None), ("printing", None), ("failed", "interrupted")]
        assert agent.journal.get(31).state == "interrupted"

        await fake_server.send_job(31, RECEIPT)
        await wait_for_async(
            lambda: len(fake_server.statuses(31)) == 4,
            message=f"an answer to the redelivery: {fake_server.statuses(31)}",
        )
    finally:
        printer.hold_close.set()

    assert fake_server.statuses(31)[-1] == ("failed", "interrupted")  # from the journal, not printed again
    assert printer.writes == 1
    assert 31 not in agent._jobs


@pytest.mark.parametrize("job_id", [None, "31", True, 3.0])
async def test_a_new_order_without_an_integer_job_id_is_ignored_not_printed(
    fake_server, fake_printer, run_agent, job_id
):
    """Kills Agent._on_new_order ``not isinstance(job_id, int) or isinstance(job_id, bool)`` →
    ``and``: a job the agent cannot report on would be printed (and acknowledged as job None)."""
    await run_agent(fake_server.url, fake_printer.url)

    bad = {"job_id": job_id, "type": "order_receipt", "content": "bad\n", "escpos": base64.b64encode(RECEIPT).decode()}
    await fake_server.send({"type": "new_order", "timestamp": "t", "order": bad})
    await fake_server.send_job(32, b"next\n")  # handled after the bad one: the bad one is settled
    await fake_server.wait_status(32, "completed")

    assert fake_printer.jobs() == [b"next\n"]
    reported = [m.get("job_id") for m in fake_server.received if m.get("type") == "print_status"]
    assert set(reported) == {32}


async def test_a_job_without_an_order_is_printed(fake_server, fake_printer, run_agent):
    """DESIGN.md: ``order_id``/``order_info`` are null for jobs without an order (a test page, a
    document). Kills Agent._on_new_order ``order.get("order_info") or {}`` → ``and``."""
    await run_agent(fake_server.url, fake_printer.url)

    await fake_server.send_job(33, b"test page\n", type="test_page", order_id=None, order_info=None)
    statuses = await fake_server.wait_status(33, "completed")

    assert statuses == [("received", None), ("printing", None), ("completed", None)]
    assert fake_printer.jobs() == [b"test page\n"]


async def test_text_from_an_old_server_is_printed_with_the_profile_the_welcome_names(
    fake_server, fake_printer, run_agent
):
    """No escpos in the job (an old server): the agent renders ``content`` for the printer the
    server's welcome describes, here an impact printer without a cutter. Kills
    Agent._on_new_order ``self.settings.profile or server_printer["profile"]`` → ``and``."""
    from escpos.printer import Dummy

    fake_server.welcome_printer = fake_server.welcome_printer | {"profile": "TM-U220", "has_cutter": False}
    await run_agent(fake_server.url, fake_printer.url)

    await fake_server.send_job(34, content="Pão de queijo\n")
    await fake_server.wait_status(34, "completed")

    expected = Dummy(profile="TM-U220")
    expected.text("Pão de queijo\n")
    expected.cut()
    [printed] = fake_printer.jobs()
    assert printed == bytes(expected.output)
    assert b"\x1dV" not in printed  # no cut command for a printer without a cutter


async def test_a_started_job_met_again_is_recorded_interrupted_in_the_journal(fake_server, fake_printer, run_agent):
    """Delivery rule 7: a job found ``started`` (its print was cut off, here because the journal
    could not record ``completed``) is reported ``interrupted`` and *recorded* so, once: the next
    start of the agent does not report it again as a new crash. Kills Agent._on_new_order
    ``entry.state != INTERRUPTED`` → ``==`` and ``journal.mark_interrupted`` deleted."""
    agent = await run_agent(fake_server.url, fake_printer.url)
    await wait_for_async(lambda: agent.connected.is_set(), message="agent connected")
    agent.journal.mark_started(35, len(RECEIPT), "x")  # what a cut-off print leaves behind

    await fake_server.send_job(35, RECEIPT)
    await fake_server.wait_status(35, "failed")

    assert fake_server.statuses(35) == [("failed", "interrupted")]
    assert agent.journal.get(35).state == "interrupted"
    assert agent.journal.recover() == []  # nothing left for the next start to report
    assert fake_printer.jobs() == []


async def test_the_printer_status_read_for_a_job_is_reported_at_once(fake_server, fake_printer, run_agent):
    """The status the agent reads when it opens the printer for a job goes to the server then,
    not at the next poll (here the poll is 10 minutes away): otherwise the agent keeps believing
    the printer ready and never reports ``ready`` when the paper is back, so the server holds the
    printer's jobs for ever. Kills Agent._print ``await self._set_printer_status(status)`` deleted."""
    await run_agent(fake_server.url, fake_printer.url, status_interval=600)
    await wait_for_async(lambda: fake_server.printer_infos() == ["ready"], message="printer_info ready")

    fake_printer.set_state("paper_out")
    await fake_server.send_job(36, RECEIPT)
    await fake_server.wait_status(36, "failed")

    assert fake_server.statuses(36)[-1] == ("failed", "paper_out")
    assert fake_server.printer_infos() == ["ready", "paper_out"]


class RecordingPrinter(Printer):
    """A printer in a given state that records its sessions' writes and closes; ``hold_close``
    makes a session's close wait (a USB or spooler handle slow to let go)."""

    scheme = "recording"
    reads_status = True

    def __init__(self, state="ready"):
        super().__init__("recording://")
        self.state = state
        self.written = []
        self.opened = self.closed = 0
        self.hold_close = None  # a threading.Event the close waits for

    def open(self):
        printer = self
        printer.opened += 1

        class RecordingSession(Session):
            def read_status(self):
                return printer.state

            def write(self, data):
                printer.written.append(data)

            def close(self):
                if printer.hold_close is not None:
                    printer.hold_close.wait(30)
                printer.closed += 1

        return RecordingSession()

    def probe_status(self):
        return self.state


async def test_the_printer_is_released_after_every_attempt_even_one_that_printed_nothing(fake_server, run_agent):
    """A session left open holds the device (a USB or serial port, a spooler handle) and the next
    open fails. Kills Agent._print ``await asyncio.to_thread(session.close)`` deleted."""
    printer = RecordingPrinter(state="paper_out")
    await run_agent(fake_server.url, "recording://", printer=printer, status_interval=600)

    await fake_server.send_job(38, RECEIPT)
    await fake_server.wait_status(38, "failed")
    assert printer.written == []
    await wait_for_async(lambda: printer.closed == printer.opened, message="the session closed")

    printer.state = "ready"
    await fake_server.send_job(38, RECEIPT)  # what the server does on "ready"
    await fake_server.wait_status(38, "completed")
    assert printer.written == [RECEIPT]
    await wait_for_async(lambda: printer.closed == printer.opened, message="the session closed")


async def test_a_redelivery_while_the_printer_is_being_released_is_answered_from_the_journal(fake_server, run_agent):
    """The server may re-send a job as soon as it reads ``completed`` (a reconnect): the agent
    answers it from the journal even while it is still closing the printer after the print.
    Kills Agent._print's ``self._jobs.pop`` before ``completed`` is sent (deleted, the job looks
    "already queued here" until the close ends, and the redelivery is silently dropped)."""
    printer = RecordingPrinter()
    printer.hold_close = threading.Event()
    await run_agent(fake_server.url, "recording://", printer=printer, status_interval=600)
    try:
        await fake_server.send_job(39, RECEIPT)
        await fake_server.wait_status(39, "completed")
        assert printer.closed == 0  # still releasing the printer

        await fake_server.send_job(39, RECEIPT)
        await wait_for_async(
            lambda: fake_server.statuses(39).count(("completed", None)) == 2,
            message=f"the redelivery answered: {fake_server.statuses(39)}",
        )
        assert printer.closed == 0
    finally:
        printer.hold_close.set()
    assert printer.written == [RECEIPT]


async def test_a_printer_found_unreachable_for_a_job_is_reported_offline_at_once(fake_server, fake_printer, run_agent):
    """The next poll is 10 minutes away: only the job's attempt can tell the server the printer is
    offline (and, later, the poll that it is back). Kills Agent._print
    ``await self._set_printer_status(OFFLINE)`` deleted."""
    await run_agent(fake_server.url, fake_printer.url, status_interval=600)
    await wait_for_async(lambda: fake_server.printer_infos() == ["ready"], message="printer_info ready")
    await fake_printer.server.stop()

    await fake_server.send_job(40, RECEIPT)
    await fake_server.wait_status(40, "failed")

    assert fake_server.statuses(40)[-1] == ("failed", "offline")
    assert fake_server.printer_infos() == ["ready", "offline"]


async def test_the_health_count_of_printed_jobs_counts_each_print_once(fake_server, fake_printer, run_agent):
    """``worker.jobs_processed`` of the listener's ``GET /health`` (agent/README.md) is the number
    of jobs printed: one per print, none for a redelivery answered from the journal. Kills
    Agent._print ``self.jobs_processed += 1`` → ``+= 2``."""
    agent = await run_agent(fake_server.url, fake_printer.url)

    await fake_server.send_job(41, RECEIPT)
    await fake_server.wait_status(41, "completed")
    await fake_server.send_job(41, RECEIPT)
    await wait_for_async(lambda: fake_server.statuses(41).count(("completed", None)) == 2)
    await fake_server.send_job(42, RECEIPT)
    await fake_server.wait_status(42, "completed")

    assert len(fake_printer.jobs()) == 2
    assert agent.jobs_processed == 2


async def test_a_job_the_journal_cannot_record_as_started_is_failed_not_printed(fake_server, run_agent):
    """Delivery rule 7: no byte goes out without a durable ``started``. When the journal refuses
    it (here the job was written there meanwhile, as a second agent sharing the journal would),
    the job is reported ``failed``/``agent_error`` and not printed; a redelivery while the printer
    is still being released is answered, not dropped. Kills Agent._print's
    ``_send_status(..., "failed", ..., "agent_error")`` deleted (the server would wait for ever)
    and its ``self._forget(job)`` deleted."""
    printer = RecordingPrinter()
    printer.hold_close = threading.Event()
    agent = await run_agent(fake_server.url, "recording://", printer=printer, status_interval=600)
    await wait_for_async(lambda: agent.connected.is_set(), message="agent connected")
    try:
        await agent._printer_lock.acquire()  # the job waits in the queue
        try:
            await fake_server.send_job(43, RECEIPT)
            await fake_server.wait_status(43, "received")
            agent.journal.mark_started(43, len(RECEIPT), "written elsewhere")
        finally:
            agent._printer_lock.release()

        await fake_server.wait_status(43, "failed")
        statuses = fake_server.statuses(43)
        assert statuses[0] == ("received", None) and statuses[-1] == ("failed", "agent_error")
        assert ("completed", None) not in statuses

        await fake_server.send_job(43, RECEIPT)  # answered from the journal: it may have printed
        await wait_for_async(
            lambda: fake_server.statuses(43)[-1] == ("failed", "interrupted"),
            message=f"an answer to the redelivery: {fake_server.statuses(43)}",
        )
    finally:
        printer.hold_close.set()
    assert printer.written == []


async def test_after_a_print_broke_off_the_printer_status_is_read_again_at_once(fake_server, run_agent):
    """A write that fails (cable pulled) says the printer changed: the agent reads its status again
    right away and tells the server, not at the next poll (10 minutes away here). Kills Agent._print
    ``self._status_wakeup.set()`` deleted; it found a bug too: the poller woken while the print
    still held the printer skipped the read, so the wake-up was always lost."""
    printer = CableCutPrinter()
    await run_agent(fake_server.url, "cut://", printer=printer, status_interval=600)
    await wait_for_async(lambda: fake_server.printer_infos() == ["ready"], message="printer_info ready")

    await fake_server.send_job(44, RECEIPT)
    await fake_server.wait_status(44, "failed")

    await wait_for_async(
        lambda: fake_server.printer_infos() == ["ready", "offline"],
        message=f"printer_info offline after the cut: {fake_server.printer_infos()}",
    )


async def test_a_local_job_the_server_recorded_is_not_reported_again(
    fake_server, fake_printer, run_agent, make_settings
):
    """Local jobs printed while the server was unreachable are reported on connect until the
    server answers ``local_job_recorded``; then never again. Kills Agent._dispatch
    ``kind == "local_job_recorded"`` → ``!=`` (every reconnect would report them all again)."""
    settings = make_settings(fake_server.url, fake_printer.url)
    journal = Journal(settings.journal, settings.journal_scope)
    journal.local_add(
        local_id="a1b2c3d4-local",
        printer=settings.printer,
        source="pos",
        kind="order",
        client_ref="ref-1",
        origin="http://127.0.0.1",
        content="receipt",
        byte_count=7,
        sha256="0" * 64,
    )
    journal.local_finish("a1b2c3d4-local", "completed")
    journal.close()

    agent = await run_agent(fake_server.url, fake_printer.url)
    await wait_for_async(lambda: [m for m in fake_server.received if m.get("type") == "local_job"])
    await fake_server.send(
        {"type": "local_job_recorded", "local_id": "a1b2c3d4-local", "job_id": 90, "status": "completed"}
    )

    await wait_for_async(
        lambda: agent.journal.local_unreported(settings.printer) == [], message="the local job marked reported"
    )


async def test_a_malformed_local_job_recorded_is_ignored_without_dropping_the_connection(
    fake_server, fake_printer, run_agent
):
    """Kills Agent._dispatch ``isinstance(local_id, str) and isinstance(status, str)`` → ``or``:
    a ``local_job_recorded`` whose ``local_id`` is not a string would end the connection."""
    await run_agent(fake_server.url, fake_printer.url)

    await fake_server.send({"type": "local_job_recorded", "local_id": 5, "job_id": 90, "status": "completed"})
    await fake_server.send_job(45, RECEIPT)
    await fake_server.wait_status(45, "completed")

    assert fake_server.connections == 1
