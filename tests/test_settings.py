"""Settings come from the environment; bad values fail loudly; production passes --deploy."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def run_check(env_overrides, *args):
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "DJANGO_SETTINGS_MODULE": "cantina.settings"}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be true or false"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL must start with postgres:// or sqlite:///"),
        ("REDIS_URL", "http://localhost", "REDIS_URL must start with redis://"),
        ("CANTINA_SWEEP_INTERVAL", "soon", "CANTINA_SWEEP_INTERVAL must be a whole number"),
    ],
)
def test_bad_setting_gives_a_clear_error(tmp_path, name, value, expected):
    result = run_check({name: value, "CANTINA_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert expected in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_production_without_secret_key_refuses_to_start(tmp_path):
    result = run_check({"DJANGO_DEBUG": "false", "CANTINA_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_settings_pass_the_deploy_checks(tmp_path):
    result = run_check(
        {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "x7#k2!pQ9z@L4m$W8v^R1n&T6b*Y3c(E5h)U0j-F_g+S=d{A}s[D]f;G:q'Z,x.C/v",
            "DJANGO_ALLOWED_HOSTS": "print.example.com",
            "DATABASE_URL": "postgres://cantina:cantina@127.0.0.1:5432/cantina",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "CANTINA_VAR_DIR": str(tmp_path),
        },
        "--deploy", "--fail-level", "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_on_sqlite_and_in_memory_layer_is_warned_about(tmp_path):
    result = run_check(
        {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "x7#k2!pQ9z@L4m$W8v^R1n&T6b*Y3c(E5h)U0j-F_g+S=d{A}s[D]f;G:q'Z,x.C/v",
            "DJANGO_ALLOWED_HOSTS": "print.example.com",
            "CANTINA_VAR_DIR": str(tmp_path),
        },
        "--deploy", "--fail-level", "WARNING",
    )
    assert result.returncode != 0
    assert "cantina.W001" in result.stderr and "cantina.W002" in result.stderr
