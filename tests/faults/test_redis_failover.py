"""Fault scenario r2-2: the Redis primary dies and Sentinel promotes its replica, mid-flow.

A primary, a replica and three sentinels (quorum 2, down after 1 s) on loopback; two daphnes and
the order driver find the primary through the sentinels (REDIS_SENTINELS, REDIS_SENTINEL_MASTER).
The primary is killed -9 while orders keep coming. The channel layer must follow the new
primary: /health's round trip (a write and a read) and the staff live link work again on both
servers without restarting anything; and nothing is lost or printed twice.

Every entrance (issue 19, item 7): an integrator places orders through the print API on the first
server, retrying blindly with the same Idempotency-Key, and a Star CloudPRNT printer polls the
second server for every counter receipt (the driver's and the API's) across the failover.
"""

import time

import pytest

from tests.faults import probes
from tests.faults.api_client import ApiClient, prepare_api_key
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
API_ORDERS = 30
COUNTER_ORDERS = 160 // 2  # the driver alternates counter and scheduled


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
    # Before any order: orders confirmed earlier would not be for it.
    cloud = rig.add_cloud_printer("Nuvem", ("counter",), rig.daphnes[1].http_url)
    first_primary = sentinel_group.current_primary_port()
    staff = rig.daphnes[1].manage.create_staff("staff", "staff-pass-123")
    cookies = {c.name: c.value for c in StaffBrowser(rig.daphnes[1].http_url).login(*staff).cookies}
    assert all(probes.health(d.http_url)[0] == 200 for d in rig.daphnes)
    api = ApiClient(rig.daphnes[0].http_url, prepare_api_key(rig.daphnes[0].manage), rig.database)
    rig.start_driver(orders=160, batch=10, interval=0.5)
    api.start(count=API_ORDERS, interval=0.6)

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

    api.join()
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
        api=api.summary(),
        cloudprnt=cloud.summary(),
    )

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    assert report.counts()["lost"] == 0 and report.counts()["duplicated"] == 0
    # Three printers print every counter receipt (two agents and the CloudPRNT printer), one the scheduled.
    assert report.expected == 3 * COUNTER_ORDERS + 160 / 2 + 3 * API_ORDERS
    # Every API order retried blindly with its Idempotency-Key exists exactly once.
    assert len(api.keys_confirmed) == API_ORDERS and set(api.orders_per_key().values()) == {1}, api.summary()
    assert result["entrances"]["print API"] == {"expected": 3 * API_ORDERS, "printed": 3 * API_ORDERS}
    cloud_expected = COUNTER_ORDERS + API_ORDERS
    assert result["printers"]["Nuvem"] == {"expected": cloud_expected, "printed": cloud_expected}, cloud.summary()
    assert sentinel_group.current_primary_port() != first_primary
    assert staff_after == "open"
