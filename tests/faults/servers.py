"""Servers the round-two scenarios break that nobody else may share: a private PostgreSQL and a
Redis primary with a replica and sentinels, all on loopback, all on free ports.

The machine's PostgreSQL cluster serves every engineer's tests, so the PostgreSQL restart scenario
never restarts it: :class:`PrivatePostgres` makes a throwaway cluster with ``initdb`` in the
test's directory (as the ``postgres`` user when run as root, which ``initdb`` refuses), and
restarting that one disturbs nobody.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tools.processes import free_port, port_open, wait_for

PG_VERSIONS = Path("/usr/lib/postgresql")


def postgres_bin(name):
    """The path of a PostgreSQL server program (initdb, pg_ctl), or None."""
    if not PG_VERSIONS.is_dir():
        return None
    for version in sorted(os.listdir(PG_VERSIONS), key=lambda v: int(v) if v.isdigit() else 0, reverse=True):
        path = PG_VERSIONS / version / "bin" / name
        if path.exists():
            return str(path)
    return None


def private_postgres_available():
    return (
        postgres_bin("initdb") is not None
        and postgres_bin("pg_ctl") is not None
        and (os.geteuid() != 0 or shutil.which("runuser") is not None)
    )


class PrivatePostgres:
    """A PostgreSQL cluster of this test alone: ``start``, ``restart(mode)``, ``stop``."""

    PASSWORD = "cantina"

    def __init__(self):
        # Not under pytest's tmp_path: every pytest session on the machine makes pytest-of-<user>
        # private again (0700), and the postgres user must keep reaching its data directory.
        self.workdir = Path(tempfile.mkdtemp(prefix="cantina-private-pg-"))
        self.data = self.workdir / "pgdata"
        self.port = free_port()
        self.log_path = self.workdir / "postgres.log"
        self.as_root = os.geteuid() == 0

    def _run(self, *args, timeout=120, check=True):
        command = [str(arg) for arg in args]
        if self.as_root:  # initdb and postgres refuse to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd="/")
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def start(self):
        if self.as_root:
            shutil.chown(self.workdir, "postgres")
        password_file = self.workdir / "pwfile"
        password_file.write_text(self.PASSWORD + "\n")
        if self.as_root:
            shutil.chown(password_file, "postgres")
        self._run(
            postgres_bin("initdb"),
            "-D",
            self.data,
            "-U",
            "cantina",
            "--pwfile",
            password_file,
            "-A",
            "scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C.UTF-8",
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.workdir}'\n"
                # Faster, and still safe when PostgreSQL crashes (the kernel keeps what it wrote);
                # never synchronous_commit = off: an immediate stop would then lose commits it
                # had acknowledged, which is the test rig losing orders, not the product.
                "fsync = off\nfull_page_writes = off\nmax_connections = 100\n"
            )
        self._pg_ctl("start")
        self._run(
            "/bin/sh",
            "-c",
            f"PGPASSWORD={self.PASSWORD} psql -h 127.0.0.1 -p {self.port} -U cantina "
            f"-d postgres -qc 'CREATE DATABASE cantina'",
        )
        return self

    def _pg_ctl(self, action, *options):
        self._run(postgres_bin("pg_ctl"), "-D", self.data, "-l", self.log_path, "-w", "-t", "60", action, *options)
        if action in ("start", "restart"):
            wait_for(lambda: port_open(self.port), 30, message="the private PostgreSQL to listen")

    @property
    def url(self):
        return f"postgres://cantina:{self.PASSWORD}@127.0.0.1:{self.port}/cantina"

    def restart(self, mode="fast"):
        """``pg_ctl restart -m fast`` (clients told to go) or ``-m immediate`` (a crash, recovery at start)."""
        self._pg_ctl("restart", "-m", mode)

    def down(self, mode):
        """Stop it (``-m fast``: clients told to go; ``-m immediate``: no goodbye, recovery at start)."""
        self._pg_ctl("stop", "-m", mode)

    def up(self):
        self._pg_ctl("start")

    def stop(self, mode="immediate"):
        """Stop it for good and remove its files."""
        if self.data.exists():
            self._run(postgres_bin("pg_ctl"), "-D", self.data, "-w", "-t", "30", "stop", "-m", mode, check=False)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class RedisSentinelGroup:
    """A Redis primary, one replica and ``sentinels`` sentinels (quorum ``quorum``) on loopback.

    Sentinels notice a dead primary after ``down_after_ms`` and promote the replica.
    """

    def __init__(self, workdir, master_name="cantina", sentinels=3, quorum=2, down_after_ms=1000):
        self.binary = shutil.which("redis-server")
        self.workdir = Path(workdir)
        self.master_name = master_name
        self.quorum = quorum
        self.down_after_ms = down_after_ms
        self.ports = {"primary": free_port(), "replica": free_port()}
        self.sentinel_ports = [free_port() for _ in range(sentinels)]
        self.processes = {}

    def _spawn(self, name, args):
        log = open(self.workdir / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen([self.binary, *map(str, args)], stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        for name in ("primary", "replica"):
            directory = self.workdir / name
            directory.mkdir(exist_ok=True)
            extra = ["--replicaof", "127.0.0.1", self.ports["primary"]] if name == "replica" else []
            self._spawn(name, ["--port", self.ports[name], "--dir", directory, *common, *extra])
            wait_for(lambda port=self.ports[name]: port_open(port), 10, message=f"redis {name} to listen")
        for index, port in enumerate(self.sentinel_ports):
            conf = self.workdir / f"sentinel{index}.conf"  # a sentinel rewrites its own file
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.workdir}\n"
                f"sentinel monitor {self.master_name} 127.0.0.1 {self.ports['primary']} {self.quorum}\n"
                f"sentinel down-after-milliseconds {self.master_name} {self.down_after_ms}\n"
                f"sentinel failover-timeout {self.master_name} 10000\n"
                f"sentinel parallel-syncs {self.master_name} 1\n"
            )
            self._spawn(f"sentinel{index}", [conf, "--sentinel"])
            wait_for(lambda port=port: port_open(port), 10, message="a sentinel to listen")
        wait_for(lambda: self.replica_in_sync(), 20, message="the replica to sync with the primary")
        return self

    @property
    def sentinels_setting(self):
        """The REDIS_SENTINELS value."""
        return ",".join(f"127.0.0.1:{port}" for port in self.sentinel_ports)

    def cli(self, port, *args):
        result = subprocess.run(
            ["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True, timeout=10
        )
        return result.stdout.strip()

    def replica_in_sync(self):
        return "master_link_status:up" in self.cli(self.ports["replica"], "INFO", "replication")

    def current_primary_port(self):
        """The primary's port as the first sentinel answers it."""
        answer = self.cli(self.sentinel_ports[0], "SENTINEL", "get-master-addr-by-name", self.master_name).split()
        return int(answer[1]) if len(answer) == 2 else None

    def kill_primary(self):
        process = self.processes["primary"]
        process.send_signal(signal.SIGKILL)
        process.wait(10)

    def wait_failover(self, timeout=30):
        """Wait until the sentinels name the replica as primary and it accepts writes; return when."""
        replica = self.ports["replica"]

        def promoted():
            return self.current_primary_port() == replica and "role:master" in self.cli(replica, "INFO", "replication")

        wait_for(promoted, timeout, interval=0.2, message="the sentinels to promote the replica")
        return time.monotonic()

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(10)
