"""End to end: a real daphne, the real agent process and the real fake printer on loopback.

Orders are confirmed by a separate process (manage.py-style script), as the admin on another
worker would. Crashes use the agent's fault-injection hook ``CANTINA_AGENT_CRASH_AT``
(see agent/faults.py): the agent ``os._exit(137)``s at that point, like ``kill -9``.
"""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tools.polling import wait_for
from tools.processes import PYTHON, REPO, DaphneServer, RedisServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


class FakePrinterProcess:
    """``python -m agent.fakeprinter`` on a free port."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.log_path = directory.parent / f"{directory.name}.log"
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "agent.fakeprinter", "--port", "0", "--out", str(directory)],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_clean_env(),
        )
        log.close()
        found = wait_for(
            lambda: re.search(r"listening on 127\.0\.0\.1:(\d+)", self.log_path.read_text()),
            20,
            message="fake printer to listen",
        )
        self.url = f"tcp://127.0.0.1:{found.group(1)}"

    def jobs(self) -> list[Path]:
        return sorted(self.directory.glob("*.bin"))

    def set_state(self, state: str) -> None:
        (self.directory / "state").write_text(state)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class AgentProcess:
    """``python -m agent`` with its own journal; restartable with the same journal."""

    def __init__(self, workdir: Path, server_url: str, token: str, printer_url: str) -> None:
        self.workdir = workdir
        self.args = [
            "--server",
            server_url,
            "--printer",
            printer_url,
            "--journal",
            str(workdir / "journal.sqlite3"),
            "--status-interval",
            "0.5",
        ]
        self.token = token
        self.log_path = workdir / "agent.log"
        self.process = None

    def start(self, **env) -> "AgentProcess":
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "agent", *self.args],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_clean_env(CANTINA_TOKEN=self.token, HOME=str(self.workdir), **env),
        )
        log.close()
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_connected(self, times: int = 1) -> None:
        wait_for(
            lambda: self.log().count("connected to ") >= times or self.process.poll() is not None,
            30,
            message=f"agent connection #{times}",
        )
        assert self.process.poll() is None, self.log()

    def wait_exit(self, timeout: float = 60) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CANTINA_", "DJANGO_", "PYTEST"))}
    env.update(PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


def confirm_order(server: DaphneServer, customer: str = "Ana Pão") -> tuple[int, float]:
    """Confirm one order in another process; return its id and the time of the confirming save."""
    result = server.manage.python(f"""
import time
from decimal import Decimal
from orders.models import Order, OrderItem
order = Order.objects.create(customer_name={customer!r}, channel="counter", status="pending")
OrderItem.objects.create(order=order, name="Pão de queijo", quantity=2, unit_price=Decimal("4.50"))
order.status = "confirmed"
saved_at = time.time()
order.save()
print(json.dumps([order.pk, saved_at]))
""")
    return result[0], result[1]


def job_of(server: DaphneServer, order_id: int) -> dict | None:
    return next((job for job in server.manage.jobs() if job["order_id"] == order_id), None)


def wait_job_status(server: DaphneServer, order_id: int, status: str, timeout: float = 40) -> dict:
    return wait_for(
        lambda: (job := job_of(server, order_id)) and job["status"] == status and job,
        timeout,
        interval=0.3,
        message=f"order {order_id}'s job to be {status}",
    )


@pytest.fixture
def rig(tmp_path):
    """Server + fake printer + agent (not started), torn down in order."""
    parts = {}
    server = DaphneServer(tmp_path / "server").start()
    parts["server"] = server
    token = server.manage.add_printer("Balcão")
    printer = FakePrinterProcess(tmp_path / "printer-out")
    parts["printer"] = printer
    agent = AgentProcess(tmp_path, server.agent_url, token, printer.url)
    parts["agent"] = agent
    yield server, printer, agent
    agent.stop()
    printer.stop()
    server.stop()


def assert_printed_once(printer: FakePrinterProcess, server: DaphneServer, order_ids: list[int]) -> None:
    """Each order's receipt is at the printer exactly once (a last sentinel order proves the
    queue has drained, so a late duplicate would already be there)."""
    sentinel, _ = confirm_order(server, "Sentinela")
    wait_job_status(server, sentinel, "completed")
    texts = [path.with_name(path.name.replace(".bin", ".txt")).read_text(encoding="utf-8") for path in printer.jobs()]
    numbers = {
        order_id: server.manage.python(
            f"from orders.models import Order\nprint(json.dumps(Order.objects.get(pk={order_id}).number))"
        )
        for order_id in [*order_ids, sentinel]
    }
    for number in numbers.values():
        assert sum(f"#{number}" in text for text in texts) == 1, (number, texts)
    assert len(texts) == len(numbers)


def test_confirmed_order_prints_once_at_the_fake_printer_and_completes(rig):
    server, printer, agent = rig
    agent.start().wait_connected()

    order_id, _ = confirm_order(server)
    wait_for(lambda: printer.jobs(), 30, message="receipt at the fake printer")
    wait_job_status(server, order_id, "completed")

    text = printer.jobs()[0].with_suffix(".txt").read_text(encoding="utf-8")
    assert "Pão de queijo" in text and "Ana Pão" in text
    assert_printed_once(printer, server, [order_id])
    assert "Traceback" not in agent.log()


def test_agent_killed_after_receiving_before_printing_prints_once_after_restart(rig):
    server, printer, agent = rig
    agent.start(CANTINA_AGENT_CRASH_AT="before_print").wait_connected()

    order_id, _ = confirm_order(server)
    assert agent.wait_exit() == 137
    assert printer.jobs() == []

    agent.start().wait_connected(times=2)
    wait_job_status(server, order_id, "completed")
    assert_printed_once(printer, server, [order_id])


def test_agent_killed_after_printing_before_acknowledging_does_not_print_again(rig):
    server, printer, agent = rig
    agent.start(CANTINA_AGENT_CRASH_AT="after_print").wait_connected()

    order_id, _ = confirm_order(server)
    assert agent.wait_exit() == 137
    assert len(printer.jobs()) == 1
    assert job_of(server, order_id)["status"] != "completed"  # the server was never told

    agent.start().wait_connected(times=2)
    wait_job_status(server, order_id, "completed")
    assert "already printed" in agent.log()
    assert_printed_once(printer, server, [order_id])


def test_server_restart_while_agent_connected_loses_nothing(rig):
    server, printer, agent = rig
    agent.start().wait_connected()
    before, _ = confirm_order(server, "Antes")
    wait_job_status(server, before, "completed")

    server.stop()
    during, _ = confirm_order(server, "Durante")  # the job waits in the database
    server.start()
    agent.wait_connected(times=2)
    after, _ = confirm_order(server, "Depois")

    wait_job_status(server, during, "completed")
    wait_job_status(server, after, "completed")
    assert_printed_once(printer, server, [before, during, after])


def test_paper_out_holds_the_job_until_paper_returns_then_prints_once(rig):
    server, printer, agent = rig
    printer.set_state("paper_out")
    agent.start().wait_connected()
    wait_for(
        lambda: (
            server.manage.python("from printing.models import Printer\nprint(json.dumps(Printer.objects.get().status))")
            == "paper_out"
        ),
        30,
        interval=0.3,
        message="server to know the paper is out",
    )

    order_id, _ = confirm_order(server)
    wait_for(lambda: job_of(server, order_id), 20, message="job created")
    deadline = time.monotonic() + 3  # a few sweeps: nothing may print meanwhile
    while time.monotonic() < deadline:
        assert printer.jobs() == []
        assert job_of(server, order_id)["status"] != "completed"
        time.sleep(0.3)

    printer.set_state("ready")
    wait_job_status(server, order_id, "completed")
    assert_printed_once(printer, server, [order_id])


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_confirm_to_fake_printer_latency_on_loopback(tmp_path, record_property):
    """Measures confirm → bytes at the fake printer, with the in-memory layer (the sweep finds
    jobs confirmed by another process) and with Redis (the wake-up reaches the consumer)."""
    results = {}
    for name in ("redis", "agent-in-memory", "agent-redis"):
        (tmp_path / name).mkdir()
    redis = RedisServer(tmp_path / "redis").start()
    try:
        for layer, extra in (("in-memory", {}), ("redis", {"REDIS_URL": redis.url})):
            server = DaphneServer(tmp_path / f"server-{layer}", **extra).start()
            printer = FakePrinterProcess(tmp_path / f"out-{layer}")
            agent = AgentProcess(
                tmp_path / f"agent-{layer}", server.agent_url, server.manage.add_printer("Balcão"), printer.url
            )
            try:
                agent.start().wait_connected()
                samples = []
                for n in range(5):
                    order_id, saved_at = confirm_order(server, f"Cliente {n}")
                    path = wait_for(
                        lambda printer=printer, n=n: len(printer.jobs()) > n and printer.jobs()[n],
                        30,
                        interval=0.005,
                        message="receipt",
                    )
                    samples.append(path.stat().st_mtime - saved_at)
                    wait_job_status(server, order_id, "completed")
                results[layer] = samples
            finally:
                agent.stop()
                printer.stop()
                server.stop()
    finally:
        redis.stop()
    for layer, samples in results.items():
        median, worst = sorted(samples)[len(samples) // 2] * 1000, max(samples) * 1000
        line = (
            f"confirm -> fake printer ({layer}): median {median:.0f} ms, max {worst:.0f} ms over {len(samples)} orders"
        )
        print(line)
        record_property(f"latency_{layer}", line)
    assert max(results["redis"]) < 2.0
    assert max(results["in-memory"]) < 10.0


def test_check_does_not_disconnect_the_running_agent(rig):
    server, printer, agent = rig
    agent.start()
    agent.wait_connected()
    result = subprocess.run(
        [PYTHON, "-m", "agent", "--check", "--server", server.agent_url, "--printer", printer.url],
        cwd=REPO,
        env=_clean_env(CANTINA_TOKEN=agent.token, HOME=str(agent.workdir)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "token accepted" in result.stdout
    order_id, _ = confirm_order(server)
    wait_job_status(server, order_id, "completed")
    assert agent.log().count("connected to ") == 1, "the running agent kept its connection"
    assert "took over" not in agent.log()
