"""Fault scenario r2-6: a rolling restart of two daphnes behind a proxy while staff sell over HTTP.

Every HTTP request and every agent goes through a loopback round-robin TCP proxy
(tests/faults/netproxy.py) that skips a server refusing connections, as nginx's upstream retry
does. Each daphne in turn gets SIGTERM, exits, and starts again on its port, while a staff member
keeps selling at the counter through the proxy.

A request cut off by the dying server gets no answer. The seller (tests/faults/seller.py) then
waits until that server has exited (its transaction committed or rolled back by then), looks the
sale's client reference up in the database, and sells again only if it did not apply. So: no
request answered 5xx, every sale confirmed exactly once (no doubled order), and every receipt
printed once.
"""

import subprocess
import time

import pytest

from tests.faults.api_client import ApiClient, prepare_api_key
from tests.faults.netproxy import TcpProxy
from tests.faults.seller import HttpSeller, prepare_counter
from tools.processes import free_port, pg_ctlcluster_available

pytestmark = [
    pytest.mark.faults,
    pytest.mark.e2e,
    pytest.mark.redis,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not pg_ctlcluster_available(), reason="pg_ctlcluster is not installed (PostgreSQL 15)"),
]

PRINTERS = {"Balcão": ("counter",), "Cozinha": ("counter",)}
SALES = 80
API_ORDERS = 30


@pytest.fixture
def proxy():
    proxy = TcpProxy(target_ports=[free_port(), free_port()])
    yield proxy
    proxy.close()


def test_rolling_restart_behind_a_proxy_answers_no_5xx_and_loses_and_doubles_nothing(
    make_rig, shared_postgres_url, redis_server, proxy
):
    rig = make_rig(
        printers=PRINTERS,
        servers=2,
        database_url=shared_postgres_url,
        redis_url=redis_server.url,
        env={"CANTINA_SWEEP_INTERVAL": 3},
    )
    proxy.start()
    rig.start(agent_urls={name: proxy.url for name in PRINTERS}, server_ports=proxy.target_ports)
    # Before any sale: orders confirmed earlier would not be for it.
    cloud = rig.add_cloud_printer("Nuvem", ("counter",), proxy.http_url)
    credentials, product = prepare_counter(rig.daphnes[0].manage)
    seller = HttpSeller(proxy.http_url, credentials, product, rig.database)
    seller.start(count=SALES, interval=0.25)
    api = ApiClient(proxy.http_url, prepare_api_key(rig.daphnes[0].manage), rig.database)
    api.start(count=API_ORDERS, interval=0.6)
    rig.note("seller and API client started", sales=SALES, api_orders=API_ORDERS)

    time.sleep(3)
    exit_codes = []
    for daphne in rig.daphnes:
        seller.settled.clear()
        rig.note("SIGTERM", port=daphne.port, backlog=rig.backlog())
        daphne.process.terminate()
        try:
            daphne.process.wait(30)  # a loaded machine needs a few seconds to close every link
        except subprocess.TimeoutExpired:
            daphne.kill()
        seller.settled.set()  # it has exited: what it was doing committed or rolled back
        exit_codes.append(daphne.process.returncode)
        rig.note("exited", port=daphne.port, exit_code=daphne.process.returncode)
        daphne.start()
        restored_at = rig.note("restarted", port=daphne.port, backlog=rig.backlog())
        time.sleep(3)

    seller.join()
    api.join()
    report, result = rig.finish(
        "r2-6-rolling-restart",
        api=api.summary(),
        cloudprnt=cloud.summary(),
        restored_at=restored_at,
        servers=2,
        database="postgresql",
        http=seller.summary(),
        proxy_connect_retries=proxy.connect_failures,
        doubled_sales=seller.doubled_sales(),
        exit_codes_on_sigterm=exit_codes,
    )

    assert result["drained"], "the queue never drained"
    assert result["problems"] == []
    assert report.counts()["lost"] == 0 and report.counts()["duplicated"] == 0
    # Three printers print every counter sale: two agents, and a CloudPRNT printer polling.
    assert len(seller.refs_confirmed) == SALES and report.expected == 3 * SALES + 3 * API_ORDERS
    # Every API order retried blindly with its Idempotency-Key exists exactly once.
    assert len(api.keys_confirmed) == API_ORDERS, api.summary()
    assert set(api.orders_per_key().values()) == {1}, api.summary()
    assert result["entrances"]["print API"] == {"expected": 3 * API_ORDERS, "printed": 3 * API_ORDERS}
    assert result["printers"]["Nuvem"] == {"expected": SALES + API_ORDERS, "printed": SALES + API_ORDERS}
    assert seller.doubled_sales() == []
    # Exited on SIGTERM, not killed after 30 s: a server that cannot stop by itself makes every
    # restart wait for the supervisor's SIGKILL.
    assert exit_codes == [0, 0], "a daphne did not exit on SIGTERM by itself"
    assert [a for a in seller.attempts if a.outcome.startswith(("5xx", "4xx")) or a.outcome == "503"] == []
