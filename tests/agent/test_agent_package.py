"""``pip install .`` gives a working ``cantina-agent`` in a fresh virtualenv (no system site
packages, so no Django): the agent's own dependencies are enough to print a receipt."""

import asyncio
import json
import subprocess
import sys
import time

import pytest
import websockets

from tests.agent.agent_support import REPO, agent_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


def run(*args, timeout=400, **kwargs):
    result = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_pip_install_gives_cantina_agent_that_prints_without_django(tmp_path, unused_tcp_port):
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, REPO)
    (wheel,) = wheels.glob("cantina_agent-*.whl")
    run(sys.executable, "-m", "venv", venv)
    run(venv / "bin" / "pip", "install", "-q", wheel)
    assert subprocess.run([venv / "bin" / "python", "-c", "import django"], capture_output=True).returncode != 0
    help_text = run(venv / "bin" / "cantina-agent", "--help", timeout=60).stdout
    assert help_text.startswith("usage: cantina-agent") and "--listen" in help_text

    env = agent_env(tmp_path)
    env.pop("PYTHONPATH")  # only what the wheel installed
    process = subprocess.Popen(
        [
            venv / "bin" / "cantina-agent",
            "--printer",
            f"fake://{tmp_path / 'out'}",
            "--listen",
            f"127.0.0.1:{unused_tcp_port}",
            "--journal",
            tmp_path / "journal.sqlite3",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        async def order():
            deadline = time.monotonic() + 60
            while True:
                try:
                    ws = await websockets.connect(f"ws://127.0.0.1:{unused_tcp_port}/")
                    break
                except OSError:
                    assert time.monotonic() < deadline and process.poll() is None, "the agent did not listen"
                    await asyncio.sleep(0.2)
            async with ws:
                await ws.send(
                    json.dumps(
                        {
                            "number": "5",
                            "customer": "Iracema",
                            "items": [{"name": "Pastel de feira", "quantity": 1, "price": "8.00"}],
                        }
                    )
                )
                return json.loads(await asyncio.wait_for(ws.recv(), 60))

        assert asyncio.run(order())["status"] == "success"
        (text,) = [path.read_text() for path in (tmp_path / "out").glob("*.txt")]
        assert "Pastel de feira" in text and "Iracema" in text
    finally:
        process.terminate()
        process.wait(30)
