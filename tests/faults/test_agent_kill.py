"""Fault scenario 2: agents are killed -9 at random moments while 300 orders come in, and restarted.

A kill can land anywhere: before a job reached the agent's journal (it must print once after
the restart), between ``started`` and ``completed`` (reported ``interrupted``: may be on paper,
never reprinted automatically; counted apart, at most one per kill), or after the print but
before the server heard of it (acknowledged from the journal, not printed again).

The kill times come from a seeded random generator; the seed is printed and saved with the
counts, and CANTINA_FAULT_SEED replays a run.
"""

import os
import random
import time

import pytest

from tests.faults.local_client import LocalTicketClient
from tools.processes import free_port

pytestmark = [pytest.mark.faults, pytest.mark.e2e, pytest.mark.timeout(240)]

PRINTERS = {"Balcão": ("counter",), "Cozinha": ("counter",), "Retirada": ("scheduled",)}
KILLS = 8
LOCAL_TICKETS = 40


def test_agents_killed_at_random_lose_and_duplicate_nothing(make_rig):
    seed = int(os.environ.get("CANTINA_FAULT_SEED") or time.time_ns() % 1_000_000)
    chance = random.Random(seed)
    listen_port = free_port()
    rig = make_rig(printers=PRINTERS, listen={"Balcão": listen_port}).start()
    rig.note("seed", seed=seed)
    rig.start_driver(orders=300, batch=10, interval=0.5)
    # The counter PC's own program prints through Balcão's local listener, retrying on disconnect.
    local = LocalTicketClient(listen_port).start(count=LOCAL_TICKETS, interval=0.5)

    restored_at = None
    # The kills spread over the confirming and the draining, while the agents print.
    moments = sorted(chance.uniform(2, 30) for _ in range(KILLS))
    started = time.monotonic()
    for moment in moments:
        time.sleep(max(0.0, started + moment - time.monotonic()))
        station = chance.choice(list(rig.stations.values()))
        if not station.agent.alive:
            continue
        rig.note("agent kill -9", printer=station.name)
        station.agent.kill()
        time.sleep(chance.uniform(0.2, 1.5))
        station.agent.start()
        restored_at = rig.note("agent restarted", printer=station.name)
    kills = sum(station.agent.kills for station in rig.stations.values())
    local.join()

    report, result = rig.finish("2-agent-kill", restored_at=restored_at, max_interrupted=kills, kills=kills, seed=seed)
    local_verdict, local_problems = local.verdict(rig.local_paper["Balcão"])
    rig.note("local listener", **local_verdict)

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    counts = report.counts()
    assert counts["lost"] == 0 and counts["duplicated"] == 0
    assert counts["interrupted"] <= kills
    # The local listener's tickets: each once on paper, or its client told it was interrupted.
    assert local_problems == [], local_problems
    assert local_verdict["expected"] == LOCAL_TICKETS
    assert local_verdict.get("interrupted", 0) <= rig.stations["Balcão"].agent.kills
    assert report.expected == 450
