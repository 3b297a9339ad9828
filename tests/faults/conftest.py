"""Fixtures of the fault suite: a rig whose processes die with the test, whatever happens."""

import shutil
import uuid

import pytest

from tests.faults.harness import Rig
from tools.processes import PostgresCluster, RedisServer


@pytest.fixture
def make_rig(tmp_path):
    rigs = []

    def make(**options):
        rig = Rig(tmp_path / f"rig{len(rigs)}", **options)
        rigs.append(rig)
        return rig

    yield make
    for rig in rigs:
        rig.close()


@pytest.fixture
def shared_postgres_url():
    """A fresh database on the machine's PostgreSQL cluster (never restarted by a scenario)."""
    cluster = PostgresCluster().start()
    name = f"cantina_faults_{uuid.uuid4().hex[:8]}"
    url = cluster.create_database(name)
    yield url
    cluster.drop_database(name)


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()
