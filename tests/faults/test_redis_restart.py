"""Fault scenario 3: Redis restarts mid-run under two daphne processes on PostgreSQL.

The production stack: PostgreSQL (a fresh database for this test), Redis as the channel layer,
two daphne processes, agents spread over both, and the order driver sharing the same Redis,
so wake-ups normally cross processes through it. Redis is killed and started again (empty:
every group membership and queued wake-up is gone) while orders keep coming. Jobs whose
wake-up died with it still print: each server process sweeps for pending jobs.
"""

import shutil
import time
import uuid

import pytest

from tools.processes import PostgresCluster, RedisServer, pg_ctlcluster_available

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.redis,
    pytest.mark.timeout(240),
    pytest.mark.skipif(not pg_ctlcluster_available(), reason="pg_ctlcluster is not installed (PostgreSQL 15)"),
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed"),
]

PRINTERS = {"Balcão": ("counter",), "Cozinha": ("counter",), "Retirada": ("scheduled",)}


@pytest.fixture
def postgres_url():
    cluster = PostgresCluster().start()
    name = f"cantina_faults_{uuid.uuid4().hex[:8]}"
    url = cluster.create_database(name)
    yield url
    cluster.drop_database(name)


@pytest.fixture
def redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def test_redis_restart_under_two_daphnes_loses_and_duplicates_nothing(make_rig, postgres_url, redis):
    # The production sweep interval: lost wake-ups are found within 3 s, not 1.
    rig = make_rig(
        printers=PRINTERS, servers=2, database_url=postgres_url, redis_url=redis.url, env={"CANTINA_SWEEP_INTERVAL": 3}
    ).start()
    rig.start_driver(orders=300, batch=10, interval=0.5)

    time.sleep(6)
    rig.note("redis kill -9", backlog=rig.backlog())
    redis.stop()
    time.sleep(2)
    redis.start()
    restored_at = rig.note("redis restarted", port=redis.port)

    report, result = rig.finish("3-redis-restart", restored_at=restored_at, servers=2, database="postgresql")

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    assert report.counts()["lost"] == 0 and report.counts()["duplicated"] == 0
    assert report.expected == 450
