"""PostgreSQL connections are bounded per server process (DESIGN.md, "Runtime parts").

Django's native psycopg pool, sized by DATABASE_POOL_MAX_SIZE: N processes never hold more than
N × DATABASE_POOL_MAX_SIZE connections, however many confirmations arrive at once. Without it
every request thread kept its own connection, and two daphne under the bench opened connections
until PostgreSQL refused them.
"""

import json
import shutil
import subprocess
import sys
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


def database_settings(tmp_path, **env):
    code = "import django, json; django.setup(); from django.conf import settings; " \
           "print(json.dumps(settings.DATABASES['default'], default=str))"
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, cwd=REPO, capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "DJANGO_SETTINGS_MODULE": "cantina.settings",
             "CANTINA_VAR_DIR": str(tmp_path), **env},
    )
    return result


def test_postgres_gets_a_bounded_pool_by_default(tmp_path):
    result = database_settings(tmp_path, DATABASE_URL=POSTGRES)
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 10, "timeout": 20}
    assert config["CONN_MAX_AGE"] == 0  # Django refuses persistent connections with a pool


def test_pool_size_comes_from_the_environment(tmp_path):
    result = database_settings(tmp_path, DATABASE_URL=POSTGRES, DATABASE_POOL_MAX_SIZE="4",
                               DATABASE_POOL_MIN_SIZE="1", DATABASE_POOL_TIMEOUT="5")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 5}


def test_pool_size_zero_turns_the_pool_off_for_an_external_pooler(tmp_path):
    result = database_settings(tmp_path, DATABASE_URL=POSTGRES, DATABASE_POOL_MAX_SIZE="0")
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert "pool" not in config["OPTIONS"]
    assert config["CONN_MAX_AGE"] == 60


def test_sqlite_has_no_pool(tmp_path):
    result = database_settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    assert result.returncode == 0, result.stderr
    assert "pool" not in json.loads(result.stdout)["OPTIONS"]


@pytest.mark.parametrize("env, expected", [
    ({"DATABASE_CONN_MAX_AGE": "60"}, "DATABASE_CONN_MAX_AGE must be 0 while the connection pool is on"),
    ({"DATABASE_POOL_MAX_SIZE": "many"}, "DATABASE_POOL_MAX_SIZE must be a whole number"),
    ({"DATABASE_POOL_MAX_SIZE": "2", "DATABASE_POOL_MIN_SIZE": "5"}, "DATABASE_POOL_MIN_SIZE (5) must not exceed"),
])
def test_bad_pool_settings_give_a_clear_error(tmp_path, env, expected):
    result = database_settings(tmp_path, DATABASE_URL=POSTGRES, **env)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "ImproperlyConfigured" in result.stderr


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
@pytest.mark.timeout(240)
@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
def test_two_daphne_under_a_burst_of_confirmations_stay_within_the_pool_bound(tmp_path, postgres_url):
    from tools.processes import RedisServer

    url, name = postgres_url
    redis = RedisServer(tmp_path).start()
    env = {"DATABASE_URL": url, "REDIS_URL": redis.url, "DATABASE_POOL_MAX_SIZE": POOL_MAX,
           "DATABASE_POOL_MIN_SIZE": 1, "DATABASE_CONN_MAX_AGE": 0}
    servers = [DaphneServer(tmp_path / "a", **env), DaphneServer(tmp_path / "b", migrate=False, **env)]
    try:
        for server in servers:
            server.start()
        manage = servers[0].manage
        manage.add_printer("Balcão")  # auto-prints counter orders: each confirmation renders a receipt
        order_ids = manage.create_pending_orders(CONFIRMATIONS)
        browsers = [StaffBrowser(servers[n % 2].http_url).login(*manage.create_staff(f"staff{n}"))
                    for n in range(IN_FLIGHT)]

        # The test's own reads are named, and not counted: only the servers' connections are.
        database = Database(f"{url}?application_name=cantina_test")
        count_sql = (f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{name}' "
                     "AND application_name <> 'cantina_test'")
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
