"""Fault scenario r2-5: a printer that stalls mid-job (accepts the connection, then stops reading).

The fake printer is started with a tiny receive window; writing ``DIR/stall`` makes it stop
reading a few bytes into each new job, so the rest of the receipt backs up in the agent's
socket, as with a jammed or hung printer. The agent's printer URL carries ``?timeout=3``
(30 s by default). While orders flow:

- the agent gives up on the stalled job after its timeout and reports it ``failed`` /
  ``interrupted`` (it may be partly on paper), and never prints it again on its own;
- staff see it on the job's page and reprint it once the printer is back: the reprint prints
  exactly once;
- every other receipt prints once.
"""

import re

import pytest

from tools.processes import StaffBrowser, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(240)]

PRINTERS = {"Balcão": ("counter", "scheduled")}
PRINTER_TIMEOUT = 3


def interrupted_jobs(rig):
    return [job for job in rig.jobs() if job.status == "failed" and job.error_code == "interrupted"]


def test_a_printer_stalling_mid_job_gives_an_interrupted_job_that_staff_reprint_once(make_rig):
    rig = make_rig(printers=PRINTERS, fake_receive_buffer=1, printer_query=f"?timeout={PRINTER_TIMEOUT}").start()
    credentials = rig.daphnes[0].manage.create_staff("gerente", "gerente-pass-123")
    staff = StaffBrowser(rig.daphnes[0].http_url).login(*credentials)
    station = rig.stations["Balcão"]
    rig.start_driver(orders=40, batch=4, interval=0.5, items=12)

    wait_for(lambda: sum(job.status == "completed" for job in rig.jobs()) >= 8, 60, message="some receipts printed")
    stall_file = station.fake.out_dir / "stall"
    stall_file.write_text("120")
    rig.note("printer stalls", completed=sum(job.status == "completed" for job in rig.jobs()))
    stuck = wait_for(lambda: interrupted_jobs(rig), 60, interval=0.25, message="the agent to give up on a stalled job")
    stall_file.unlink()
    restored_at = rig.note("printer back", interrupted=[job.id for job in stuck])

    rig.wait_driver()
    assert rig.wait_quiet(timeout=120) is not None, rig.logs_tail()
    interrupted = interrupted_jobs(rig)
    # Staff see the failure on the job's page, and reprint it: the REIMPRESSÃO prints once.
    for job in interrupted:
        status, page = staff.get(f"/jobs/{job.id}/")
        # The agent's reason, shown in the staff page's language (pt-BR): "the printer stopped reading…".
        assert status == 200 and "a impressora parou de ler" in page, page[:2000]
        status, url, page = staff.post(f"/jobs/{job.id}/reprint/")
        assert status == 200 and re.search(r"/jobs/\d+/$", url), (url, page[:2000])
    rig.note("staff reprinted", jobs=[job.id for job in interrupted])
    agent_log = station.agent.log()

    report, result = rig.finish(
        "r2-5-stalled-printer",
        restored_at=restored_at,
        max_interrupted=len(interrupted),
        printer_timeout_seconds=PRINTER_TIMEOUT,
        stalled_jobs=[job.id for job in interrupted],
    )

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    counts = report.counts()
    assert counts["lost"] == 0 and counts["duplicated"] == 0 and counts["unexpected"] == 0
    assert 1 <= counts["interrupted"] == len(interrupted)
    assert counts["reprinted"] == len(interrupted)  # each reprint on paper exactly once
    assert report.expected == 40
    assert agent_log.count("stopped reading") >= 1
    # The agent never printed an interrupted job again on its own: one "printing" line each.
    for job in interrupted:
        assert agent_log.count(f"job {job.id}: printing") == 1, agent_log[-3000:]
