"""Fault scenario 1: the server is killed -9 twice while 300 orders are confirmed, and restarted.

The driver confirms orders from its own process (as another worker would), so with the
in-memory channel layer every job reaches its agent through the server's sweep. The first kill
lands while orders are still coming in; the second right after the last one, with a backlog
queued, so the recovery time is the time the restarted server takes to drain it.
"""

import time

import pytest

from tests.faults.harness import Rig

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(240)]

# Counter orders print at the counter and in the kitchen, scheduled ones at pick-up: 300 orders
# alternating between the channels make 450 receipts, 150 per printer.
PRINTERS = {"Balcão": ("counter",), "Cozinha": ("counter",), "Retirada": ("scheduled",)}


def kill_and_restart(rig: Rig, down_seconds=1.5):
    server = rig.daphnes[0]
    rig.note("server kill -9", backlog=rig.backlog())
    server.kill()
    time.sleep(down_seconds)
    server.start()
    return rig.note("server restarted", port=server.port)


def test_server_killed_twice_loses_and_duplicates_nothing(make_rig):
    rig = make_rig(printers=PRINTERS).start()
    rig.start_driver(orders=300, batch=10, interval=0.5)
    time.sleep(6)
    kill_and_restart(rig)
    rig.wait_driver()
    restored_at = kill_and_restart(rig)
    backlog = rig.backlog()

    report, result = rig.finish("1-server-kill", restored_at=restored_at, backlog_at_restore=backlog, kills=2)

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    assert report.counts()["lost"] == 0 and report.counts()["duplicated"] == 0
    assert report.expected == 450
