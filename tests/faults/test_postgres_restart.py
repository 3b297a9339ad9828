"""Fault scenario r2-3: PostgreSQL stops (fast, then immediate) and comes back, mid-flow.

A PostgreSQL of this test alone (tests/faults/servers.py: never the machine's shared cluster) is
stopped twice for a few seconds, once with ``-m fast`` (clients are told to go) and once with
``-m immediate`` (no goodbye; crash recovery at start), while the ORM driver confirms orders and
a staff member sells over HTTP. During each outage:

- requests fail cleanly: a 503 with a message (never a 500, never a hang), and a sale answered
  503 left no order behind; tried again later, it goes through;
- acknowledgements agents send cannot be recorded: the server closes their link (4503), they
  reconnect, and the re-sent in-flight jobs are answered from their journals;
- afterwards everything catches up: nothing lost, nothing printed twice.
"""

import time

import pytest

from tests.faults.api_client import ApiClient, prepare_api_key
from tests.faults.seller import HttpSeller, prepare_counter
from tests.faults.servers import PrivatePostgres, private_postgres_available

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not private_postgres_available(), reason="PostgreSQL server programs (initdb) not installed"),
]

PRINTERS = {"Balcão": ("counter",), "Cozinha": ("counter",), "Retirada": ("scheduled",)}
OUTAGE_SECONDS = 4
API_ORDERS = 30


@pytest.fixture
def postgres():
    server = PrivatePostgres().start()
    yield server
    server.stop()


def outage(rig, postgres, mode, windows):
    rig.note(f"postgres stop -m {mode}", backlog=rig.backlog())
    start = time.monotonic()
    postgres.down(mode)
    time.sleep(OUTAGE_SECONDS)
    postgres.up()
    windows.append((start, time.monotonic()))
    return rig.note("postgres started", backlog=rig.backlog())


def test_postgres_stopped_fast_and_immediate_mid_flow_loses_and_duplicates_nothing(make_rig, postgres):
    rig = make_rig(printers=PRINTERS, database_url=postgres.url, env={"CANTINA_SWEEP_INTERVAL": 3}).start()
    credentials, product = prepare_counter(rig.daphnes[0].manage)
    seller = HttpSeller(rig.daphnes[0].http_url, credentials, product, rig.database)
    api = ApiClient(rig.daphnes[0].http_url, prepare_api_key(rig.daphnes[0].manage), rig.database)
    rig.start_driver(orders=160, batch=10, interval=0.5)
    seller.start(count=40, interval=0.5)
    api.start(count=API_ORDERS, interval=0.6)

    windows = []
    time.sleep(3)
    outage(rig, postgres, "fast", windows)
    time.sleep(5)
    restored_at = outage(rig, postgres, "immediate", windows)

    seller.join()
    api.join()
    closed_for_database = sum(s.agent.log().count("close 4503") for s in rig.stations.values())
    driver_done = rig.wait_driver()
    report, result = rig.finish(
        "r2-3-postgres-restart",
        restored_at=restored_at,
        driver_finished_after_fault=round(driver_done - restored_at, 2),
        database="postgresql (private)",
        outage_seconds=OUTAGE_SECONDS,
        http=seller.summary(),
        api=api.summary(),
        agent_links_closed_4503=closed_for_database,
    )

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    assert report.counts()["lost"] == 0 and report.counts()["duplicated"] == 0
    assert report.expected == 160 / 2 * 2 + 160 / 2 + 2 * len(seller.refs_confirmed) + 2 * API_ORDERS
    assert len(api.keys_confirmed) == API_ORDERS and set(api.orders_per_key().values()) == {1}, api.summary()
    # The API's answers to the outage are 503s to retry (they were 500s), never a half-made order.
    assert [a for a in api.attempts if a.outcome.startswith("5xx") and a.outcome != "5xx:503"] == [], api.summary()
    assert result["entrances"]["print API"] == {"expected": 2 * API_ORDERS, "printed": 2 * API_ORDERS}
    assert len(seller.refs_confirmed) == 40 and seller.bad_answers() == [], seller.summary()
    # Sales met the outage: each was answered 503 (nothing saved) or waited for the database (the
    # pool waits DATABASE_POOL_TIMEOUT) and went through; none got a 500 or a half-made order.
    met = [a for a in seller.attempts if any(a.overlaps(start, end) for start, end in windows)]
    assert met, "no sale met the outage: the scenario proved nothing"
    server_log = rig.daphnes[0].log()
    if any(a.outcome == "503" for a in seller.attempts):
        assert "event=database_unavailable" in server_log  # the 503s were the middleware's
    assert "Exception inside application" not in server_log, "a request or an agent link crashed on the outage"
