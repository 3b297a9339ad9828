"""Fault scenario 5: the process confirming orders is killed -9 at random moments.

Whatever confirms orders (a daphne worker serving the staff pages, the admin, an importer) can
die between committing an order ``confirmed`` and creating its receipts, which happens after
that commit. Here the order driver is that process: started, killed at a random moment,
started again, twenty times. Every order the database holds as confirmed must print exactly once:
the servers' sweep recreates the receipts of confirmations cut short
(tests/faults/test_lost_confirmations.py).
"""

import os
import random
import time

import pytest

from tools.polling import wait_for

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(240)]

PRINTERS = {"Balcão": ("counter",), "Retirada": ("scheduled",)}
KILLS = 20


def test_order_confirmations_killed_at_random_lose_and_duplicate_nothing(make_rig):
    seed = int(os.environ.get("CANTINA_FAULT_SEED") or time.time_ns() % 1_000_000)
    chance = random.Random(seed)
    rig = make_rig(printers=PRINTERS).start()
    rig.note("seed", seed=seed)

    restored_at = None
    for _ in range(KILLS):
        recorded = rig.orders_file.stat().st_size if rig.orders_file.exists() else 0
        # No pause between orders, and the kill lands while they flow: after the first one.
        rig.start_driver(orders=30, batch=1, interval=0)
        wait_for(
            lambda recorded=recorded: rig.orders_file.exists() and rig.orders_file.stat().st_size > recorded,
            20,
            interval=0.01,
            message="the driver's first order",
        )
        time.sleep(chance.uniform(0, 0.3))
        rig.note("driver kill -9", backlog=rig.backlog())
        rig.driver.kill()
        restored_at = rig.note("driver killed")
    rig.driver = None  # nothing left to wait for: the database says which orders are confirmed

    report, result = rig.finish("5-confirmation-kill", restored_at=restored_at, kills=KILLS, seed=seed)
    recovered = rig.daphnes[0].log().count("event=receipts_recovered")
    print(f"confirmations cut short and repaired by the sweep: {recovered}")

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    assert report.counts()["lost"] == 0 and report.counts()["duplicated"] == 0
    assert report.expected > 0
