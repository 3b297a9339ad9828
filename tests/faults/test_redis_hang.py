"""Fault scenario r2-1: Redis hangs (SIGSTOP for 20 s, then SIGCONT) under two daphnes.

A stopped Redis is worse than a dead one: connections open, commands go out, and no answer ever
comes back, so any channel-layer call without a timeout waits forever. While it hangs, orders
keep coming (the ORM driver, and a staff member selling over HTTP: each confirmation sends
wake-ups after commit), and:

- nothing blocks: every sale gets its answer, agents stay connected (or reconnect);
- the sweep keeps delivering from the database: receipts print during the hang;
- /health says ``degraded`` and the staff pages' live link is refused (the page shows its
  "live updates are disconnected" banner);
- after SIGCONT everything catches up: nothing lost, nothing printed twice.
"""

import signal
import time

import pytest

from tests.faults import probes
from tests.faults.api_client import ApiClient, prepare_api_key
from tests.faults.seller import HttpSeller, prepare_counter
from tools.processes import pg_ctlcluster_available, wait_for

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.redis,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not pg_ctlcluster_available(), reason="pg_ctlcluster is not installed (PostgreSQL 15)"),
]

PRINTERS = {"Balcão": ("counter",), "Cozinha": ("counter",), "Retirada": ("scheduled",)}
HANG_SECONDS = 20
API_ORDERS = 30


def test_redis_hanging_for_20_seconds_blocks_nothing_and_loses_nothing(make_rig, shared_postgres_url, redis_server):
    rig = make_rig(
        printers=PRINTERS,
        servers=2,
        database_url=shared_postgres_url,
        redis_url=redis_server.url,
        env={"CANTINA_SWEEP_INTERVAL": 3, "CANTINA_CHANNEL_LAYER_TIMEOUT": 3},
    ).start()
    credentials, product = prepare_counter(rig.daphnes[0].manage)
    seller = HttpSeller(rig.daphnes[1].http_url, credentials, product, rig.database)
    assert probes.staff_link(rig.daphnes[1].http_url, seller.cookies) == "open"
    api = ApiClient(rig.daphnes[0].http_url, prepare_api_key(rig.daphnes[0].manage), rig.database)
    rig.start_driver(orders=160, batch=10, interval=0.5)
    seller.start(count=40, interval=0.75)
    api.start(count=API_ORDERS, interval=0.8)

    time.sleep(4)
    completed_before = probes.completed_jobs(rig.database)
    stopped_at = rig.note("redis SIGSTOP", backlog=rig.backlog(), completed=completed_before)
    redis_server.process.send_signal(signal.SIGSTOP)
    try:

        def degraded():
            answer = probes.health(rig.daphnes[0].http_url)
            return answer if answer[0] == 503 else None

        status, body = wait_for(degraded, timeout=HANG_SECONDS - 5, interval=0.5, message="/health to say degraded")
        rig.note("health degraded", status=status, channel_layer=body["channel_layer"], database=body["database"])
        staff_during = probes.staff_link(rig.daphnes[1].http_url, seller.cookies)
        rig.note("staff live link during the hang", state=staff_during)
        time.sleep(max(0.0, HANG_SECONDS - (time.monotonic() - stopped_at)))
        completed_during = probes.completed_jobs(rig.database) - completed_before
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    restored_at = rig.note("redis SIGCONT", backlog=rig.backlog(), completed_during_hang=completed_during)

    seller.join()
    api.join()
    rig.wait_connected()
    health_after = wait_for(
        lambda: all(probes.health(d.http_url)[0] == 200 for d in rig.daphnes),
        30,
        interval=0.5,
        message="/health to say ok again on both servers",
    )
    staff_after = probes.staff_link(rig.daphnes[1].http_url, seller.cookies)
    reconnects = {name: s.agent.log().count("connected to ") - 1 for name, s in rig.stations.items()}
    driver_done = rig.wait_driver()
    report, result = rig.finish(
        "r2-1-redis-hang",
        restored_at=restored_at,
        driver_finished_after_fault=round(driver_done - restored_at, 2),
        servers=2,
        database="postgresql",
        hang_seconds=HANG_SECONDS,
        completed_during_hang=completed_during,
        staff_link_during_hang=staff_during,
        staff_link_after=staff_after,
        agent_reconnects=reconnects,
        http=seller.summary(),
        api=api.summary(),
    )

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    assert report.counts()["lost"] == 0 and report.counts()["duplicated"] == 0
    assert report.expected == 160 / 2 * 2 + 160 / 2 + 2 * len(seller.refs_confirmed) + 2 * API_ORDERS
    assert len(api.keys_confirmed) == API_ORDERS and set(api.orders_per_key().values()) == {1}, api.summary()
    assert result["entrances"]["print API"] == {"expected": 2 * API_ORDERS, "printed": 2 * API_ORDERS}
    assert len(seller.refs_confirmed) == 40 and seller.bad_answers() == [], seller.summary()
    # Liveness, not speed: without a timeout a sale confirmed during the hang waits for SIGCONT.
    assert seller.summary()["slowest_request_seconds"] < HANG_SECONDS, seller.summary()
    assert completed_during > 0, "nothing printed while Redis hung: the sweep did not deliver"
    assert staff_during.startswith("refused") and staff_after == "open"
    assert health_after
