"""A PostgreSQL database for the multi-process rows (several daphne processes need a shared database).

``BENCH_POSTGRES_URL`` (postgres://…) is used as is when set. Otherwise, as root, the machine's
local cluster is started if it is stopped (and stopped again at the end), and a role and a fresh
database ``cantina_bench`` are created on its loopback port. Anything that fails raises
``Unavailable`` with the reason, which the bench prints in the skipped row.
"""

import os
import secrets
import shutil
import subprocess

ROLE = DATABASE = "cantina_bench"


class Unavailable(RuntimeError):
    pass


def _run(argv, timeout=60):
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise Unavailable(f"{' '.join(argv[:3])}: {error}") from None
    if result.returncode != 0:
        raise Unavailable(f"{' '.join(argv[:3])} failed: {(result.stderr or result.stdout).strip()[:300]}")
    return result.stdout


def _psql(port, *statements):
    argv = ["runuser", "-u", "postgres", "--", "psql", "-p", str(port), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    for statement in statements:
        argv += ["-c", statement]
    return _run(argv)


def provide():
    """Return (database URL, cleanup callable)."""
    url = os.environ.get("BENCH_POSTGRES_URL", "").strip()
    if url:
        return url, lambda: None
    if shutil.which("pg_lsclusters") is None:
        raise Unavailable("PostgreSQL is not installed (no pg_lsclusters); set BENCH_POSTGRES_URL")
    if os.geteuid() != 0:
        raise Unavailable("starting the local PostgreSQL cluster needs root; set BENCH_POSTGRES_URL")
    clusters = [line.split() for line in _run(["pg_lsclusters", "--no-header"]).splitlines() if line.strip()]
    if not clusters:
        raise Unavailable("no PostgreSQL cluster on this machine (pg_createcluster)")
    version, name, port, status = clusters[0][:4]
    started = False
    if status != "online":
        _run(["pg_ctlcluster", version, name, "start"], timeout=90)
        started = True

    def cleanup():
        try:
            _psql(port, f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        finally:
            if started:
                _run(["pg_ctlcluster", version, name, "stop"], timeout=90)

    try:
        password = secrets.token_hex(16)
        _psql(
            port,
            f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN CREATE ROLE {ROLE} LOGIN; "
            f"END IF; END $$",
            f"ALTER ROLE {ROLE} WITH LOGIN PASSWORD '{password}'",
            f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
            f"CREATE DATABASE {DATABASE} OWNER {ROLE}",
        )
    except Unavailable:
        if started:
            _run(["pg_ctlcluster", version, name, "stop"], timeout=90)
        raise
    return f"postgres://{ROLE}:{password}@127.0.0.1:{port}/{DATABASE}", cleanup
