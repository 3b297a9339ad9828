"""Fault scenario r2-4: the agent's disk fills up (its journal cannot be written), then space returns.

The agent's journal lives on a 4 MiB tmpfs made for the test (``mount -t tmpfs``, root only);
without mount privileges the agent gets an injected ENOSPC instead (``CANTINA_AGENT_JOURNAL_FAULT``,
agent/journal.py), which fails every journal write while a file exists. While orders flow the
disk is filled, the agent is killed -9 and restarted on the full disk, and then space returns:

- nothing prints while the journal cannot record ``started`` (delivery rule 7): the jobs stay
  ``sent`` with the agent, which keeps them (they are re-sent after a reconnect);
- the printer shows ``error`` with the reason ("agent disk full: …", shown as "agente com disco cheio: …") on the staff pages;
- once space returns each receipt prints exactly once, in order; nothing is lost.
"""

import os
import subprocess
import time

import pytest

from tools.processes import StaffBrowser, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(240)]

PRINTERS = {"Balcão": ("counter", "scheduled")}
FULL_SECONDS = 8


class JournalDisk:
    """Where the agent's journal lives, and a way to fill it and free it again."""

    def __init__(self, root):
        self.dir = root / "journal-disk"
        self.dir.mkdir()
        self.fault_file = root / "journal-fault"
        self.tmpfs = (
            not os.environ.get("CANTINA_FAULT_NO_TMPFS")  # forces the injected fault, to try that path
            and subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(self.dir)], capture_output=True, text=True
            ).returncode
            == 0
        )
        self.filler = self.dir / "filler"

    @property
    def agent_env(self):
        return {} if self.tmpfs else {"CANTINA_AGENT_JOURNAL_FAULT": self.fault_file}

    def fill(self):
        if not self.tmpfs:
            self.fault_file.write_text("ENOSPC")
            return
        with open(self.filler, "wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
            except OSError:
                pass
            try:  # the last few blocks too
                while True:
                    out.write(b"\0" * 512)
            except OSError:
                pass

    def free(self):
        self.filler.unlink(missing_ok=True)
        self.fault_file.unlink(missing_ok=True)

    def close(self):
        self.free()
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.dir)], capture_output=True)


@pytest.fixture
def journal_disk(tmp_path):
    disk = JournalDisk(tmp_path)
    yield disk
    disk.close()


def printer_state(rig):
    return rig.database.rows("SELECT status, status_message FROM printing_printer")[0]


def paper_count(station):
    return len(list(station.fake.out_dir.glob("*.bin")))


def test_a_full_journal_disk_prints_nothing_then_everything_once(make_rig, journal_disk):
    rig = make_rig(printers=PRINTERS, journal_dir=journal_disk.dir, agent_env=journal_disk.agent_env).start()
    rig.note("journal disk", tmpfs=journal_disk.tmpfs)
    credentials = rig.daphnes[0].manage.create_staff("gerente", "gerente-pass-123")
    staff = StaffBrowser(rig.daphnes[0].http_url).login(*credentials)
    station = rig.stations["Balcão"]
    rig.start_driver(orders=40, batch=4, interval=0.5)

    wait_for(lambda: sum(job.status == "completed" for job in rig.jobs()) >= 8, 60, message="some receipts printed")
    journal_disk.fill()
    rig.note("journal disk full", completed=sum(job.status == "completed" for job in rig.jobs()))
    status, message = wait_for(
        lambda: printer_state(rig) if printer_state(rig)[0] == "error" else None,
        30,
        interval=0.25,
        message="the printer to show the agent's disk error",
    )
    seen_at = rig.note("printer shows error", status=status, message=message)
    paper_when_seen = paper_count(station)
    _, page = staff.get("/printers/")
    shown_to_staff = "disco cheio" in page  # the agent's reason, in the page's language (pt-BR)
    time.sleep(FULL_SECONDS / 2)
    rig.note("agent kill -9 on the full disk")
    station.agent.kill()
    station.agent.start()
    rig.wait_connected()
    rig.note("agent restarted", backlog=rig.backlog())
    time.sleep(max(0.0, seen_at + FULL_SECONDS - time.monotonic()))
    paper_while_full = paper_count(station) - paper_when_seen
    still_error = printer_state(rig)[0] == "error"
    journal_disk.free()
    restored_at = rig.note("space back", backlog=rig.backlog(), paper_while_full=paper_while_full)
    wait_for(lambda: printer_state(rig)[0] == "ready", 30, interval=0.25, message="the printer ready again")

    report, result = rig.finish(
        "r2-4-agent-disk-full",
        restored_at=restored_at,
        journal_disk="tmpfs 4 MiB" if journal_disk.tmpfs else "injected ENOSPC",
        full_seconds=FULL_SECONDS,
        printer_status_while_full=[status, message],
        paper_while_full=paper_while_full,
    )

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    counts = report.counts()
    assert counts["lost"] == 0 and counts["duplicated"] == 0 and counts["interrupted"] == 0
    assert report.printed == report.expected == 40
    assert "disk full" in message and "not printing" in message
    assert shown_to_staff, "the printers page does not show the agent's disk error"
    assert still_error, "the printer stopped showing the error while the disk was still full"
    assert paper_while_full == 0, "something printed while the journal could not record it"
