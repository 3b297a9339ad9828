"""Fault scenario r2-2: the Redis primary dies and Sentinel promotes its replica, mid-flow.

A primary, a replica and three sentinels (quorum 2, down after 1 s) on loopback; two daphnes and
the order driver find the primary through the sentinels (REDIS_SENTINELS, REDIS_SENTINEL_MASTER).
The primary is killed -9 while orders keep coming. The channel layer must follow the new
primary: /health's round trip (a write and a read) and the staff live link work again on both
servers without restarting anything; and nothing is lost or printed twice.
"""

import time

import pytest

from tests.faults import probes
from tests.faults.servers import RedisSentinelGroup
from tools.processes import StaffBrowser, pg_ctlcluster_available, wait_for

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.redis,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not pg_ctlcluster_available(), reason="pg_ctlcluster is not installed (PostgreSQL 15)"),
]

PRINTERS = {"Balcão": ("counter",), "Cozinha": ("counter",), "Retirada": ("scheduled",)}


@pytest.fixture
def sentinel_group(tmp_path):
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    group = RedisSentinelGroup(tmp_path / "redis").start()
    yield group
    group.stop()


def test_redis_primary_killed_and_replaced_by_sentinel_loses_and_duplicates_nothing(
    make_rig, shared_postgres_url, sentinel_group
):
    rig = make_rig(
        printers=PRINTERS,
        servers=2,
        database_url=shared_postgres_url,
        env={
            "REDIS_SENTINELS": sentinel_group.sentinels_setting,
            "REDIS_SENTINEL_MASTER": sentinel_group.master_name,
            "CANTINA_SWEEP_INTERVAL": 3,
        },
    ).start()
    first_primary = sentinel_group.current_primary_port()
    staff = rig.daphnes[1].manage.create_staff("staff", "staff-pass-123")
    cookies = {c.name: c.value for c in StaffBrowser(rig.daphnes[1].http_url).login(*staff).cookies}
    assert all(probes.health(d.http_url)[0] == 200 for d in rig.daphnes)
    rig.start_driver(orders=160, batch=10, interval=0.5)

    time.sleep(4)
    rig.note("redis primary kill -9", port=first_primary, backlog=rig.backlog())
    sentinel_group.kill_primary()
    sentinel_group.wait_failover()
    restored_at = rig.note(
        "sentinels promoted the replica", port=sentinel_group.current_primary_port(), backlog=rig.backlog()
    )
    followed_at = wait_for(
        lambda: all(probes.health(d.http_url, timeout=10)[0] == 200 for d in rig.daphnes) and time.monotonic(),
        60,
        interval=0.5,
        message="/health to pass on both servers through the new primary",
    )
    rig.note("both servers use the new primary", after_failover_seconds=round(followed_at - restored_at, 2))
    staff_after = probes.staff_link(rig.daphnes[1].http_url, cookies)

    driver_done = rig.wait_driver()
    report, result = rig.finish(
        "r2-2-redis-failover",
        restored_at=restored_at,
        driver_finished_after_fault=round(driver_done - restored_at, 2),
        servers=2,
        database="postgresql",
        old_primary=first_primary,
        new_primary=sentinel_group.current_primary_port(),
        layer_followed_seconds=round(followed_at - restored_at, 2),
        staff_link_after=staff_after,
    )

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    assert report.counts()["lost"] == 0 and report.counts()["duplicated"] == 0
    assert report.expected == 160 / 2 * 2 + 160 / 2
    assert sentinel_group.current_primary_port() != first_primary
    assert staff_after == "open"
