"""Real processes for end-to-end tests and the benchmark: daphne on a free port, manage.py, Redis,
PostgreSQL, the fake printer.

Everything runs on loopback. Each server gets its own SQLite file (or the DATABASE_URL given)
and its own var/ directory, so tests never share state.
"""

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

from tools.polling import wait_for

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


def base_env(var_dir, **overrides):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "CANTINA_", "PYTEST"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "cantina.settings",
            "DJANGO_DEBUG": "true",
            "CANTINA_VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{Path(var_dir).resolve() / 'db.sqlite3'}",
            "CANTINA_SWEEP_INTERVAL": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update({key: str(value) for key, value in overrides.items() if value is not None})
    return env


class Manage:
    """Runs manage.py commands and small ORM scripts against one environment."""

    def __init__(self, env):
        self.env = env

    def __call__(self, *args, check=True, timeout=60):
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def python(self, code, timeout=120):
        """Run code with Django set up; whatever it prints as its last line is parsed as JSON."""
        script = "import django, json\ndjango.setup()\n" + code
        result = subprocess.run(
            [PYTHON, "-c", script], cwd=REPO, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise AssertionError(f"script failed:\n{result.stderr}")
        lines = [line for line in result.stdout.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else None

    def add_printer(self, name, *options):
        return self("printer_add", name, *options).stdout.strip().splitlines()[-1]

    def confirm_orders(
        self, count=1, channel="counter", items=(("Pão de queijo", 2, "4.50"), ("Suco de laranja", 1, "6.00"))
    ):
        """Confirm ``count`` orders in a separate process; return their ids."""
        return self.python(
            f"""
from decimal import Decimal
from orders.models import Order, OrderItem
ids = []
for n in range({int(count)}):
    order = Order.objects.create(customer_name=f"Cliente {{n}}", channel={channel!r}, status="pending")
    for name, quantity, price in {list(items)!r}:
        OrderItem.objects.create(order=order, name=name, quantity=quantity, unit_price=Decimal(price))
    order.status = "confirmed"
    order.save()
    ids.append(order.pk)
print(json.dumps(ids))
"""
        )

    def create_staff(self, username="staff", password="staff-pass-123", role="Gerente"):
        """A staff user in group ``role`` (Gerente: all the staff pages); returns (username, password)."""
        self.python(
            f"""
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
user = get_user_model().objects.create_user({username!r}, password={password!r}, is_staff=True)
if {role!r}:
    user.groups.add(Group.objects.get(name={role!r}))
print(json.dumps(True))
"""
        )
        return username, password

    def create_pending_orders(self, count=1, channel="counter"):
        """Orders with items, not confirmed yet (nothing prints); returns their ids."""
        return self.python(
            f"""
from decimal import Decimal
from orders.models import Order, OrderItem
ids = []
for n in range({int(count)}):
    order = Order.objects.create(customer_name=f"Cliente {{n}}", channel={channel!r}, status="pending")
    OrderItem.objects.create(order=order, name="Pão de queijo", quantity=2, unit_price=Decimal("4.50"))
    ids.append(order.pk)
print(json.dumps(ids))
"""
        )

    def jobs(self):
        """All jobs as dicts (id, order_id, printer name, status, attempts, error_code)."""
        return self.python(
            """
from printing.models import PrintJob
rows = PrintJob.objects.order_by("id").values("id", "order_id", "printer__name", "status", "attempts", "error_code", "kind")
print(json.dumps(list(rows)))
"""
        )


class DaphneServer:
    """One daphne process serving cantina.asgi:application on a free loopback port."""

    def __init__(self, var_dir, port=None, migrate=True, **env):
        self.var_dir = Path(var_dir)
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.env = base_env(self.var_dir, **env)
        self.manage = Manage(self.env)
        self.process = None
        self.log_path = self.var_dir / f"daphne-{self.port}.log"
        if migrate:
            self.manage("migrate", "--noinput")

    @property
    def http_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def agent_url(self):
        return f"ws://127.0.0.1:{self.port}/ws/agent/"

    def start(self, timeout=30):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "daphne",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
                "--websocket_timeout",
                "-1",
                "cantina.asgi:application",
            ],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(lambda: self.healthy() or self.process.poll() is not None, timeout, message="daphne to start")
        if self.process.poll() is not None:
            raise AssertionError(f"daphne exited with {self.process.returncode}:\n{self.log()}")
        return self

    def healthy(self):
        """The server is up: /health answers and its database and channel layer work.

        A 503 that only names printer alarms (a printer whose agent is not connected yet, say)
        still means the server itself is ready.
        """
        try:
            with urllib.request.urlopen(f"{self.http_url}/health", timeout=1) as response:
                return response.status == 200
        except urllib.error.HTTPError as error:
            if error.code != 503:
                return False
            try:
                body = json.loads(error.read() or b"{}")
            except ValueError:
                return False
            return bool(body.get("database")) and bool(body.get("channel_layer"))
        except (urllib.error.URLError, OSError):
            return False

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self):
        """kill -9: no goodbye to anyone."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self):
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class RedisServer:
    """A private redis-server on a free port (no persistence), restartable mid-test."""

    def __init__(self, workdir):
        self.binary = shutil.which("redis-server")
        self.port = free_port()
        self.workdir = Path(workdir)
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        if self.binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), 10, message="redis-server to listen")
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self):
        self.stop()
        return self.start()


def stop_process(process, timeout=10, kill=False):
    """End a child process (SIGTERM, or SIGKILL when ``kill``) and reap it; escalate if it hangs."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


class ChildProcess:
    """A restartable child process with its output appended to one log file."""

    def __init__(self, args, log_path, env=None, cwd=REPO):
        self.args = [str(arg) for arg in args]
        self.log_path = Path(log_path)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.env = env
        self.cwd = cwd
        self.process = None
        self.kills = 0

    @property
    def alive(self):
        return self.process is not None and self.process.poll() is None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.args, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def kill(self):
        """kill -9: no cleanup, no flush, no goodbye."""
        if self.alive:
            self.kills += 1
        stop_process(self.process, kill=True)

    def stop(self, timeout=10):
        stop_process(self.process, timeout)

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class FakePrinterProcess(ChildProcess):
    """``python -m agent.fakeprinter`` on a free port, writing what it receives to ``out_dir``."""

    def __init__(self, out_dir, port=None, log_path=None, receive_buffer=0):
        self.out_dir = Path(out_dir)
        self.port = port or free_port()
        extra = ["--receive-buffer", receive_buffer] if receive_buffer else []
        super().__init__(
            [PYTHON, "-m", "agent.fakeprinter", "--port", self.port, "--out", self.out_dir, "--quiet", *extra],
            log_path or self.out_dir.parent / f"{self.out_dir.name}-fakeprinter.log",
            env=base_env(self.out_dir.parent),
        )

    @property
    def url(self):
        return f"tcp://127.0.0.1:{self.port}"

    def start(self, timeout=15):
        super().start()
        wait_for(lambda: port_open(self.port) or not self.alive, timeout, message="the fake printer to listen")
        if not self.alive:
            raise AssertionError(f"fake printer exited:\n{self.log()}")
        return self

    def received(self):
        """The decoded text of every job received so far, oldest first."""
        return [path.with_suffix(".txt").read_text(errors="replace") for path in sorted(self.out_dir.glob("*.bin"))]


class AgentProcess(ChildProcess):
    """A real printer agent: ``CANTINA_TOKEN=… python -m agent --server … --printer … --journal …``.

    The token goes through the environment, as the README says to run it: never on a command line.
    """

    def __init__(self, server_url, token, printer_url, journal, log_path, extra_args=(), **env):
        agent_env = base_env(Path(journal).parent, **env)
        agent_env["CANTINA_TOKEN"] = token
        super().__init__(
            [
                PYTHON,
                "-m",
                "agent",
                "--server",
                server_url,
                "--printer",
                printer_url,
                "--journal",
                journal,
                *extra_args,
            ],
            log_path,
            env=agent_env,
        )


def pg_ctlcluster_available():
    return shutil.which("pg_ctlcluster") is not None


class PostgresCluster:
    """The machine's PostgreSQL cluster, started the way ./dev does, with the cantina role.

    Each test gets a database of its own (``create_database``), dropped afterwards.
    """

    ADMIN_URL = "postgres://cantina:cantina@127.0.0.1:5432/postgres"

    def __init__(self):
        versions = (
            sorted(os.listdir("/usr/lib/postgresql"), key=lambda v: int(v) if v.isdigit() else 0)
            if os.path.isdir("/usr/lib/postgresql")
            else []
        )
        self.version = versions[-1] if versions else "15"

    @staticmethod
    def _as_root(args):
        if os.geteuid() != 0:
            args = ["sudo", "-n", *args]
        return subprocess.run(args, capture_output=True, text=True, timeout=60)

    def start(self):
        started = self._as_root(["pg_ctlcluster", self.version, "main", "start"])
        if started.returncode != 0:
            status = self._as_root(["pg_ctlcluster", self.version, "main", "status"])
            if status.returncode != 0:
                raise AssertionError(f"PostgreSQL {self.version} could not be started:\n{started.stderr}")
        wait_for(lambda: port_open(5432), 30, message="PostgreSQL to listen on 5432")
        create_role = (
            "psql -qtc \"SELECT 1 FROM pg_roles WHERE rolname='cantina'\" | grep -q 1 || "
            "psql -qc \"CREATE ROLE cantina LOGIN SUPERUSER PASSWORD 'cantina'\""
        )
        role = self._as_root(["su", "postgres", "-c", create_role])
        if role.returncode != 0:
            raise AssertionError(f"could not create the cantina role:\n{role.stderr}")
        return self

    def _psql(self, sql):
        env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
        result = subprocess.run(
            ["psql", self.ADMIN_URL, "-v", "ON_ERROR_STOP=1", "-qc", sql],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        if result.returncode != 0:
            raise AssertionError(f"psql {sql!r} failed:\n{result.stderr}")

    def create_database(self, name):
        """A fresh, empty database; returns its DATABASE_URL."""
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._psql(f'CREATE DATABASE "{name}" OWNER cantina')
        return f"postgres://cantina:cantina@127.0.0.1:5432/{name}"

    def drop_database(self, name):
        self._psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class StaffBrowser:
    """A logged-in staff member's HTTP session against one server (cookies and CSRF, no JavaScript)."""

    def __init__(self, base_url):
        import http.cookiejar

        self.base_url = base_url.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def _csrf_token(self):
        return next((cookie.value for cookie in self.cookies if cookie.name == "csrftoken"), "")

    def get(self, path):
        with self.opener.open(self.base_url + path, timeout=10) as response:
            return response.status, response.read().decode("utf-8", errors="replace")

    def post(self, path, **fields):
        from urllib.parse import urlencode

        data = urlencode({"csrfmiddlewaretoken": self._csrf_token(), **fields}).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            headers={"X-CSRFToken": self._csrf_token(), "Referer": self.base_url + path},
        )
        with self.opener.open(request, timeout=10) as response:
            return response.status, response.geturl(), response.read().decode("utf-8", errors="replace")

    def login(self, username, password):
        self.get("/accounts/login/")
        _, url, _ = self.post("/accounts/login/", username=username, password=password, next="/")
        if "/accounts/login/" in url:
            raise AssertionError(f"could not log in as {username}")
        return self


class Database:
    """Read-only SQL on the server's database, SQLite file or PostgreSQL."""

    def __init__(self, url):
        self.url = url

    def rows(self, sql):
        if self.url.startswith("sqlite:"):
            path = self.url.split(":///", 1)[1]
            with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=20)) as connection:
                return connection.execute(sql).fetchall()
        import psycopg

        with psycopg.connect(self.url, connect_timeout=10) as connection:
            return connection.execute(sql).fetchall()

    def jobs(self):
        """(id, order_id, printer name, status, error_code, kind) of every job, by id."""
        return [
            tuple(row)
            for row in self.rows(
                "SELECT j.id, j.order_id, p.name, j.status, j.error_code, j.kind "
                "FROM printing_printjob j JOIN printing_printer p ON p.id = j.printer_id ORDER BY j.id"
            )
        ]

    def confirmed_orders(self):
        return {row[0]: row[1] for row in self.rows("SELECT id, channel FROM orders_order WHERE status = 'confirmed'")}

    def queue_by_printer(self):
        """Jobs waiting or in flight, per printer (what staff see as each printer's queue)."""
        return dict(
            self.rows(
                "SELECT p.name, COUNT(*) FROM printing_printjob j JOIN printing_printer p ON p.id = j.printer_id "
                "WHERE j.status IN ('pending', 'sent', 'printing') GROUP BY p.name"
            )
        )
