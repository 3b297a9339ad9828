"""Agent rules that only a mutation run showed unguarded (tools/mutate.py, issue 22).

Each test fails when its rule alone is broken in agent/client.py; the mutant it kills is named.
Same setting as test_agent_client.py: a tiny fake server (real WebSocket), the real fake printer
(real TCP) or, where a printer failure is needed that TCP cannot stage on demand, a Printer whose
session fails the way a pulled cable does.
"""

import pytest

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

    def open(self):
        printer = self

        class CutSession(Session):
            def read_status(self):
                return "ready"

            def write(self, data):
                printer.writes += 1
                raise PrinterWriteError("connection reset by peer")

        return CutSession()

    def probe_status(self):
        return "ready"


async def test_a_job_cut_off_mid_print_is_answered_from_the_journal_when_sent_again(fake_server, run_agent):
    """Kills client.py Agent._print: ``self._jobs.pop`` in ``finally`` deleted. Without it the job
    stays "queued here" after the failure, and the server's next delivery of it (a person's retry,
    a reconnect) is silently dropped: the job sits in ``sent`` for ever."""
    printer = CableCutPrinter()
    agent = await run_agent(fake_server.url, "cut://", printer=printer)

    await fake_server.send_job(31, RECEIPT)
    await fake_server.wait_status(31, "failed")
    assert fake_server.statuses(31) == [("received", None), ("printing", None), ("failed", "interrupted")]
    assert agent.journal.get(31).state == "interrupted"

    await fake_server.send_job(31, RECEIPT)
    await wait_for_async(
        lambda: len(fake_server.statuses(31)) == 4, message=f"an answer to the redelivery: {fake_server.statuses(31)}"
    )

    assert fake_server.statuses(31)[-1] == ("failed", "interrupted")  # from the journal, not printed again
    assert printer.writes == 1
    assert 31 not in agent._jobs
