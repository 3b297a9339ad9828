"""Real processes for end-to-end tests: a daphne server on a free port, manage.py, Redis.

Everything runs on loopback. Each server gets its own SQLite file (or the DATABASE_URL given)
and its own var/ directory, so tests never share state.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout=20.0, interval=0.05, message="condition"):
    """Poll until predicate() is truthy; return its value or raise with a clear message."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")
        time.sleep(interval)


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

    def confirm_orders(self, count=1, channel="counter", items=(("Pão de queijo", 2, "4.50"), ("Suco de laranja", 1, "6.00"))):
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
            [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port), "--websocket_timeout", "-1",
             "cantina.asgi:application"],
            cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(lambda: self.healthy() or self.process.poll() is not None, timeout, message="daphne to start")
        if self.process.poll() is not None:
            raise AssertionError(f"daphne exited with {self.process.returncode}:\n{self.log()}")
        return self

    def healthy(self):
        try:
            with urllib.request.urlopen(f"{self.http_url}/health", timeout=1) as response:
                return response.status == 200
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
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
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
