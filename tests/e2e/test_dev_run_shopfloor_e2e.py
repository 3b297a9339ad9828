"""./dev run on a real first day: a second run keeps the first agent connected (busy ports are
named, the token is not rotated), and when the agent stops the server and printer keep running."""

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request

import pytest

from tools.polling import wait_for
from tools.processes import REPO, base_env, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


def health(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        return json.loads(error.read())
    except OSError:
        return None


def connected(port):
    body = health(port)
    return body["printers"]["connected"] if body and body.get("printers") else -1


def start(tmp_path, env, name):
    console = open(tmp_path / f"{name}.log", "wb")
    process = subprocess.Popen(
        ["./dev", "run"], cwd=REPO, env=env, stdout=console, stderr=subprocess.STDOUT, start_new_session=True
    )
    console.close()
    return process


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def agent_pids(process):
    out = subprocess.run(
        ["pgrep", "-g", str(process.pid), "-f", "python -m agent --server"], capture_output=True, text=True
    )
    return [int(pid) for pid in out.stdout.split()]


def test_second_dev_run_keeps_the_first_agent_and_a_stopped_agent_stops_nothing_else(tmp_path):
    port, printer_port = free_port(), free_port()
    env = base_env(tmp_path, PORT=port, PRINTER_PORT=printer_port)
    env.pop("DATABASE_URL")
    env.pop("CANTINA_SWEEP_INTERVAL")
    first = start(tmp_path, env, "first")
    try:
        wait_for(lambda: connected(port) == 1 or first.poll() is not None, 120, message="the first ./dev run")
        assert first.poll() is None, (tmp_path / "first.log").read_text()
        token = (tmp_path / "agent-token").read_text()
        assert os.stat(tmp_path / "agent-token").st_mode & 0o077 == 0

        second = start(tmp_path, env, "second")
        assert second.wait(60) == 2
        said = (tmp_path / "second.log").read_text()
        assert f"PORT={port}" in said and f"PRINTER_PORT={printer_port}" in said
        assert "Cantina Print is running" not in said
        assert (tmp_path / "agent-token").read_text() == token
        # Still the first agent, still connected, for several sweeps (nothing rotated its token).
        for _ in range(3):
            wait_for(lambda: connected(port) == 1, 10, message="the first agent to stay connected")

        # The agent stops: the server and the fake printer keep running, and the console says which.
        pids = agent_pids(first)
        assert pids, "the agent of ./dev run was not found"
        for pid in pids:
            os.kill(pid, signal.SIGTERM)
        wait_for(
            lambda: "printer agent stopped" in (tmp_path / "first.log").read_text(),
            30,
            message="./dev run to say the agent stopped",
        )
        assert first.poll() is None
        assert health(port) is not None
    finally:
        stop(first)


def test_dev_run_reuses_its_stored_token(tmp_path):
    port, printer_port = free_port(), free_port()
    env = base_env(tmp_path, PORT=port, PRINTER_PORT=printer_port)
    env.pop("DATABASE_URL")
    env.pop("CANTINA_SWEEP_INTERVAL")
    for run in ("one", "two"):
        process = start(tmp_path, env, run)
        try:
            wait_for(lambda p=process: connected(port) == 1 or p.poll() is not None, 120, message=f"./dev run {run}")
            assert process.poll() is None, (tmp_path / f"{run}.log").read_text()
            if run == "one":
                token = (tmp_path / "agent-token").read_text()
        finally:
            stop(process)
    assert (tmp_path / "agent-token").read_text() == token
