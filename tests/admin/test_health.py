"""/health: 200 "ok" when the database and channel layer answer, 503 "degraded" otherwise."""

import asyncio
import shutil
import sqlite3
import subprocess
import time
from datetime import timedelta

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import connection
from django.utils import timezone

from printing import monitoring
from printing.models import Printer, PrintJob
from tools.processes import RedisServer

pytestmark = pytest.mark.django_db


class UnreachableChannelLayer(InMemoryChannelLayer):
    """What channels-redis does when Redis is down: the send raises."""

    async def send(self, channel, message):
        raise ConnectionRefusedError("Connect call failed ('127.0.0.1', 6379)")


class HangingChannelLayer(InMemoryChannelLayer):
    """A layer whose messages never come back (e.g. a Redis that accepts but never answers)."""

    async def receive(self, channel):
        await asyncio.Event().wait()


@pytest.fixture
def channel_layer_backend(settings):
    def use(cls):
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{cls.__module__}.{cls.__qualname__}"}}

    return use


def test_health_is_ok_with_queue_figures(client, make_printer, make_job):
    balcao = make_printer("Balcão")
    make_printer("Cozinha")
    make_printer("Velha", is_active=False)
    Printer.objects.filter(pk=balcao.pk).update(connected=True)
    job = make_job(balcao, "pending")
    PrintJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(seconds=90))
    make_job(make_printer("Bar"), "pending")

    response = client.get("/health")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] is True and body["channel_layer"] is True
    assert body["printers"] == {"total": 3, "connected": 1}
    assert body["jobs_pending"] == 2
    assert 90 <= body["oldest_pending_seconds"] < 150


def test_health_with_an_empty_queue_has_no_oldest_job(client):
    body = client.get("/health").json()

    assert (body["status"], body["jobs_pending"], body["oldest_pending_seconds"]) == ("ok", 0, None)


def test_health_answers_head_requests_and_refuses_posts(client):
    assert client.head("/health").status_code == 200
    assert client.post("/health").status_code == 405


def test_health_shows_no_secrets(client, settings):
    response = client.get("/health")

    body = response.content.decode()
    assert settings.SECRET_KEY not in body
    assert str(settings.DATABASES["default"]["NAME"]) not in body
    assert set(response.json()) == {
        "status",
        "database",
        "channel_layer",
        "channel_layer_backend",
        "printers",
        "jobs_pending",
        "oldest_pending_seconds",
        "printer_alarms",
    }


def test_the_channel_layer_probe_leaves_no_message_behind(client):
    for _ in range(3):
        assert client.get("/health").status_code == 200

    assert get_channel_layer().channels == {}


def test_health_is_degraded_when_the_channel_layer_is_unreachable(client, channel_layer_backend, caplog):
    channel_layer_backend(UnreachableChannelLayer)

    response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["channel_layer"]) == ("degraded", True, False)
    assert body["jobs_pending"] == 0, "queue figures still come from the database"
    assert "health check=channel_layer ok=false error=ConnectionRefusedError" in caplog.messages


def test_a_hanging_channel_layer_makes_health_degraded_within_the_timeout(client, channel_layer_backend, monkeypatch):
    channel_layer_backend(HangingChannelLayer)
    monkeypatch.setattr(monitoring, "CHANNEL_LAYER_TIMEOUT_SECONDS", 0.3)

    started = time.monotonic()
    response = client.get("/health")

    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.json()["channel_layer"] is False


def test_health_is_degraded_when_the_database_fails(client, monkeypatch, caplog):
    def broken_cursor(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "create_cursor", broken_cursor)
        response = client.get("/health")

    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["channel_layer"]) == ("degraded", False, True)
    assert (body["printers"], body["jobs_pending"], body["oldest_pending_seconds"]) == (None, None, None)
    assert "health check=database ok=false error=OperationalError" in caplog.messages


@pytest.mark.redis
@pytest.mark.skipif(not (shutil.which("redis-server") and shutil.which("redis-cli")), reason="redis not installed")
def test_health_follows_a_real_redis_and_leaves_no_key_behind(client, settings, tmp_path):
    redis = RedisServer(tmp_path).start()
    try:
        settings.CHANNEL_LAYERS = {
            "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [redis.url]}}
        }
        for _ in range(3):
            response = client.get("/health")
            assert (response.status_code, response.json()["channel_layer"]) == (200, True)
        keys = subprocess.run(
            ["redis-cli", "-p", str(redis.port), "--raw", "KEYS", "*"], capture_output=True, text=True, check=True
        ).stdout.split()
        assert keys == []

        redis.stop()
        started = time.monotonic()
        response = client.get("/health")
        assert time.monotonic() - started < settings.CANTINA_CHANNEL_LAYER_TIMEOUT + 1
        assert (response.status_code, response.json()["status"], response.json()["channel_layer"]) == (
            503,
            "degraded",
            False,
        )
    finally:
        redis.stop()
