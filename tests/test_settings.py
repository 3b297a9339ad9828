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
        "--deploy",
        "--fail-level",
        "WARNING",
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
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode != 0
    assert "cantina.W001" in result.stderr and "cantina.W002" in result.stderr


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "x7#k2!pQ9z@L4m$W8v^R1n&T6b*Y3c(E5h)U0j-F_g+S=d{A}s[D]f;G:q'Z,x.C/v",
    "DJANGO_ALLOWED_HOSTS": "print.example.com",
    "DATABASE_URL": "postgres://cantina:cantina@127.0.0.1:5432/cantina",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def production_settings(tmp_path, **overrides):
    """The security settings as a production process sees them."""
    script = (
        "import json, django; from django.conf import settings; django.setup(); print(json.dumps({name: "
        "getattr(settings, name, None) for name in ('SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', "
        "'SECURE_HSTS_PRELOAD', 'SILENCED_SYSTEM_CHECKS', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE')}))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "cantina.settings",
        "CANTINA_VAR_DIR": str(tmp_path),
        **PRODUCTION,
        **overrides,
    }
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_hsts_is_on_for_a_day_without_subdomains_or_preload_by_default(tmp_path):
    import json

    result = production_settings(tmp_path)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert (values["SECURE_HSTS_SECONDS"], values["SECURE_HSTS_INCLUDE_SUBDOMAINS"], values["SECURE_HSTS_PRELOAD"]) == (
        86400,
        False,
        False,
    )
    assert values["SECURE_SSL_REDIRECT"] is True and values["SESSION_COOKIE_SECURE"] is True
    # Deliberately off: check --deploy must not nag about them (and still passes, see above).
    assert sorted(values["SILENCED_SYSTEM_CHECKS"]) == ["security.W005", "security.W021"]


def test_hsts_subdomains_and_preload_are_the_operators_choice(tmp_path):
    import json

    result = production_settings(
        tmp_path,
        DJANGO_SECURE_HSTS_SECONDS="63072000",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        DJANGO_SECURE_HSTS_PRELOAD="true",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert (values["SECURE_HSTS_SECONDS"], values["SECURE_HSTS_INCLUDE_SUBDOMAINS"], values["SECURE_HSTS_PRELOAD"]) == (
        63072000,
        True,
        True,
    )
    assert values["SILENCED_SYSTEM_CHECKS"] == []


@pytest.mark.parametrize(
    "overrides",
    [
        {"DJANGO_SECURE_HSTS_PRELOAD": "true"},
        {"DJANGO_SECURE_HSTS_PRELOAD": "true", "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "true"},
    ],
)
def test_preload_without_what_the_preload_list_requires_is_refused(tmp_path, overrides):
    result = production_settings(tmp_path, **overrides)
    assert result.returncode != 0
    assert "DJANGO_SECURE_HSTS_PRELOAD=true needs DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS=true" in result.stderr


def database_settings(tmp_path, **overrides):
    script = (
        "import json, django; from django.conf import settings; django.setup(); d = settings.DATABASES['default'];"
        "print(json.dumps({'CONN_MAX_AGE': d['CONN_MAX_AGE'], 'pool': d.get('OPTIONS', {}).get('pool'),"
        " 'health': d.get('CONN_HEALTH_CHECKS', False)}))"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "cantina.settings",
        "CANTINA_VAR_DIR": str(tmp_path),
        **overrides,
    }
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


def test_a_postgresql_pool_bounds_each_process_connections(tmp_path):
    import json

    default = database_settings(tmp_path, DATABASE_URL=PRODUCTION["DATABASE_URL"])
    assert default.returncode == 0, default.stderr
    assert json.loads(default.stdout) == {
        "CONN_MAX_AGE": 0,
        "pool": {"min_size": 1, "max_size": 10, "timeout": 10},
        "health": True,
    }
    sized = database_settings(
        tmp_path,
        DATABASE_URL=PRODUCTION["DATABASE_URL"],
        DATABASE_POOL_SIZE="8",
        DATABASE_CONN_MAX_AGE="0",
        DATABASE_POOL_TIMEOUT="3",
    )
    assert json.loads(sized.stdout) == {
        "CONN_MAX_AGE": 0,
        "pool": {"min_size": 1, "max_size": 8, "timeout": 3},
        "health": True,
    }
    without = database_settings(tmp_path, DATABASE_URL=PRODUCTION["DATABASE_URL"], DATABASE_POOL_SIZE="0")
    assert json.loads(without.stdout) == {"CONN_MAX_AGE": 60, "pool": None, "health": True}
    sqlite = database_settings(tmp_path)
    assert json.loads(sqlite.stdout)["pool"] is None


def test_sqlite_keeps_its_connections_by_default(tmp_path):
    """Not one connection opened and closed per database call (issue 16): the default deployment
    (no DATABASE_URL) and a sqlite:/// URL keep theirs 600 s, with a health check; HTTP requests
    close theirs when they end (tests/test_sqlite_connections.py)."""
    import json

    kept = {"CONN_MAX_AGE": 600, "pool": None, "health": True}
    no_url = database_settings(tmp_path)
    assert no_url.returncode == 0, no_url.stderr
    assert json.loads(no_url.stdout) == kept
    url = database_settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'other.sqlite3'}")
    assert json.loads(url.stdout) == kept
    for overrides in ({}, {"DATABASE_URL": f"sqlite:///{tmp_path / 'other.sqlite3'}"}):
        per_call = database_settings(tmp_path, DATABASE_CONN_MAX_AGE="0", **overrides)
        assert json.loads(per_call.stdout)["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({"DATABASE_POOL_SIZE": "8"}, "DATABASE_POOL_SIZE needs a PostgreSQL DATABASE_URL"),
        (
            {"DATABASE_POOL_SIZE": "8", "DATABASE_URL": "postgres://u:p@h/d", "DATABASE_CONN_MAX_AGE": "60"},
            "DATABASE_CONN_MAX_AGE keeps connections outside the pool",
        ),
        (
            {"DATABASE_URL": "postgres://u:p@h/d", "DATABASE_CONN_MAX_AGE": "60"},
            "or set DATABASE_POOL_SIZE=0 to do without the pool",
        ),
        (
            {"DATABASE_POOL_SIZE": "many", "DATABASE_URL": "postgres://u:p@h/d"},
            "DATABASE_POOL_SIZE must be a whole number",
        ),
    ],
)
def test_a_pool_that_cannot_work_is_refused_clearly(tmp_path, overrides, expected):
    result = database_settings(tmp_path, **overrides)
    assert result.returncode != 0
    assert expected in result.stderr
