"""REDIS_URL, REDIS_SENTINELS + REDIS_SENTINEL_MASTER and CANTINA_CHANNEL_LAYER_TIMEOUT."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

SHOW = """
import django, json
django.setup()
from django.conf import settings
from channels.layers import get_channel_layer
from channels_redis.utils import create_pool
layer = get_channel_layer()
print(json.dumps({"config": settings.CHANNEL_LAYERS["default"]["CONFIG"],
                  "pool": type(create_pool(layer.hosts[0])).__name__}, default=list))
"""


def settings_with(tmp_path, **env):
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "cantina.settings",
        "CANTINA_VAR_DIR": str(tmp_path),
    }
    return subprocess.run(
        [sys.executable, "-c", SHOW], cwd=REPO, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_sentinels_configure_channels_redis_to_follow_the_primary(tmp_path):
    result = settings_with(
        tmp_path,
        REDIS_SENTINELS="10.0.0.5:26379, sentinel-b:26380",
        REDIS_SENTINEL_MASTER="cantina",
        CANTINA_CHANNEL_LAYER_TIMEOUT="2",
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["pool"] == "SentinelConnectionPool"
    (host,) = shown["config"]["hosts"]
    assert host["sentinels"] == [["10.0.0.5", 26379], ["sentinel-b", 26380]]
    assert host["master_name"] == "cantina"
    assert host["sentinel_kwargs"] == {"socket_timeout": 2, "socket_connect_timeout": 2}
    assert (host["socket_timeout"], host["socket_connect_timeout"]) == (7, 2)


def test_redis_url_connections_time_out_instead_of_hanging(tmp_path):
    result = settings_with(tmp_path, REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stderr
    (host,) = json.loads(result.stdout)["config"]["hosts"]
    assert host == {"address": "redis://127.0.0.1:6379/0", "socket_timeout": 8, "socket_connect_timeout": 3}


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"REDIS_SENTINELS": "10.0.0.5", "REDIS_SENTINEL_MASTER": "m"}, "REDIS_SENTINELS must be host:port entries"),
        ({"REDIS_SENTINELS": "10.0.0.5:26379"}, "REDIS_SENTINEL_MASTER must name the monitored primary"),
        ({"REDIS_SENTINELS": "a:1", "REDIS_SENTINEL_MASTER": "m", "REDIS_URL": "redis://x/0"}, "not both"),
        ({"CANTINA_CHANNEL_LAYER_TIMEOUT": "0"}, "CANTINA_CHANNEL_LAYER_TIMEOUT must be at least 1"),
    ],
)
def test_bad_redis_settings_give_a_clear_error(tmp_path, env, expected):
    result = settings_with(tmp_path, **env)
    assert result.returncode != 0
    assert expected in result.stderr and "ImproperlyConfigured" in result.stderr
