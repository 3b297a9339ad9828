"""PostgreSQL connections are bounded per server process (DESIGN.md, "Runtime parts").

Django's native psycopg pool, sized by DATABASE_POOL_SIZE: N processes never hold more than
N × DATABASE_POOL_SIZE connections, however many confirmations arrive at once. Without it
every request thread kept its own connection, and two daphne under the bench opened connections
until PostgreSQL refused them.
"""

import shutil
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tools.polling import wait_for
from tools.processes import (
    DaphneServer,
    Database,
    PostgresCluster,
    StaffBrowser,
    pg_ctlcluster_available,
)

REPO = Path(__file__).resolve().parents[1]
POSTGRES = "postgres://cantina:cantina@127.0.0.1:5432/cantina_settings_only"


# The pool's settings (DATABASE_POOL_SIZE, DATABASE_POOL_TIMEOUT, and DATABASE_CONN_MAX_AGE=0
# with it) are tested in tests/test_settings.py; this file proves the bound under load.


POOL_MAX = 3
CONFIRMATIONS = 60
IN_FLIGHT = 16


@pytest.fixture
def postgres_url():
    if not pg_ctlcluster_available():
        pytest.skip("pg_ctlcluster is not installed (PostgreSQL 15)")
    cluster = PostgresCluster().start()
    name = f"cantina_pool_{uuid.uuid4().hex[:8]}"
    url = cluster.create_database(name)
    yield url, name
    cluster.drop_database(name)


@pytest.mark.e2e
@pytest.mark.redis
@pytest.mark.timeout(240)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_two_daphne_under_a_burst_of_confirmations_stay_within_the_pool_bound(tmp_path, postgres_url):
    from tools.processes import RedisServer

    url, name = postgres_url
    redis = RedisServer(tmp_path).start()
    env = {"DATABASE_URL": url, "REDIS_URL": redis.url, "DATABASE_POOL_SIZE": POOL_MAX, "DATABASE_CONN_MAX_AGE": 0}
    servers = [DaphneServer(tmp_path / "a", **env), DaphneServer(tmp_path / "b", migrate=False, **env)]
    try:
        for server in servers:
            server.start()
        manage = servers[0].manage
        manage.add_printer("Balcão")  # auto-prints counter orders: each confirmation renders a receipt
        order_ids = manage.create_pending_orders(CONFIRMATIONS)
        browsers = [
            StaffBrowser(servers[n % 2].http_url).login(*manage.create_staff(f"staff{n}")) for n in range(IN_FLIGHT)
        ]

        # The test's own reads are named, and not counted: only the servers' connections are.
        database = Database(f"{url}?application_name=cantina_test")
        count_sql = (
            f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' AND application_name <> 'cantina_test'"
        )
        peak = [0]
        done = threading.Event()

        def watch():
            while not done.is_set():
                peak[0] = max(peak[0], database.rows(count_sql)[0][0])

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()

        def confirm(n):
            status, _, _ = browsers[n % IN_FLIGHT].post(f"/orders/{order_ids[n]}/confirm/")
            return status

        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            statuses = list(pool.map(confirm, range(CONFIRMATIONS)))
        wait_for(lambda: len(database.jobs()) == CONFIRMATIONS, 60, interval=0.2, message="every receipt job")
        done.set()
        watcher.join(30)
    finally:
        for server in servers:
            server.stop()
        redis.stop()

    assert statuses == [200] * CONFIRMATIONS
    assert len(database.confirmed_orders()) == CONFIRMATIONS
    assert peak[0] >= 1, "the watcher saw no server connection at all"
    assert peak[0] <= 2 * POOL_MAX, f"{peak[0]} connections for 2 processes × pool of {POOL_MAX}"
    print(f"\npeak connections of 2 daphne (pool max {POOL_MAX}): {peak[0]}")
