"""The README's first command: ./dev run brings up server, fake printer and agent; a confirmed
order comes out as a receipt file and on the console."""

import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tools.polling import wait_for
from tools.processes import REPO, Manage, base_env, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def session_commands(session_id):
    """(pid, raw /proc/PID/cmdline) of every process of this session."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == session_id:
                yield int(entry.name), (entry / "cmdline").read_bytes()
        except (OSError, ProcessLookupError):
            continue


def test_dev_run_prints_a_confirmed_order_on_the_fake_printer(tmp_path):
    port, printer_port = free_port(), free_port()
    env = base_env(tmp_path, PORT=port, PRINTER_PORT=printer_port)
    env.pop("DATABASE_URL")  # the run command's own default: SQLite under CANTINA_VAR_DIR
    env.pop("CANTINA_SWEEP_INTERVAL")
    console = open(tmp_path / "console.log", "wb")
    process = subprocess.Popen(
        ["./dev", "run"], cwd=REPO, env=env, stdout=console, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:

        def ready():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    return b'"connected": 1' in response.read()
            except OSError:
                return False

        wait_for(lambda: ready() or process.poll() is not None, 120, message="./dev run to be up with its agent")
        assert process.poll() is None, (tmp_path / "console.log").read_text()
        # No agent token on any command line of the session (ps shows those to every user).
        session = [command for pid, command in session_commands(process.pid)]
        agents = [command for command in session if b"-m\x00agent\x00" in command]
        assert agents, session
        assert not any(b"--token" in command or b"cp_" in command for command in session), session
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as response:
            assert response.status == 200
        Manage(env).confirm_orders(1, items=(("Coxinha de frango", 3, "7.25"),))
        receipts = tmp_path / "receipts"
        text = wait_for(
            lambda: next((p.read_text() for p in receipts.glob("*.txt") if "Coxinha de frango" in p.read_text()), None),
            30,
            message="the receipt on the fake printer",
        )
        assert "21,75" in text
        # The fake printer echoes the receipt to the console too, a moment after writing its file.
        wait_for(
            lambda: "Coxinha de frango" in (tmp_path / "console.log").read_text(errors="replace"),
            15,
            message="the receipt echoed on ./dev run's console",
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        console.close()
