"""Windows printers (``win32://NAME``) through python-escpos's Win32Raw.

pywin32 cannot exist on Linux, so these tests put a FAKE ``win32print``/``pywintypes`` pair
(tests/agent/fake_win32/, clearly labelled) first on the path of a real agent process. Everything
above it, python-escpos's Win32Raw included, is the real code.
"""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
import websockets

from agent.printers import COVER_OPEN, OFFLINE, PAPER_OUT, UNKNOWN, win32_status
from tests.agent.agent_support import REPO, agent_env

FAKE_WIN32 = Path(__file__).parent / "fake_win32"
PRINTERS = "EPSON TM-T20 Receipt;Microsoft Print to PDF"


def win32_env(tmp_path, **extra):
    env = agent_env(tmp_path, FAKE_WIN32_PRINTERS=PRINTERS, FAKE_WIN32_SPOOL=str(tmp_path / "spool"), **extra)
    env["PYTHONPATH"] = f"{FAKE_WIN32}:{REPO}"
    return env


def run_agent(tmp_path, *args, **extra):
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=win32_env(tmp_path, **extra),
    )


def spooled(tmp_path):
    return sorted((tmp_path / "spool").glob("*.prn")) if (tmp_path / "spool").exists() else []


def test_list_printers_shows_windows_printers_as_win32_urls(tmp_path):
    result = run_agent(tmp_path, "--list-printers", "--printer", "win32://EPSON TM-T20 Receipt")
    assert result.returncode == 0, result.stderr
    assert "win32://EPSON TM-T20 Receipt" in result.stdout and "(default)" in result.stdout
    assert "win32://Microsoft Print to PDF" in result.stdout


def test_test_page_goes_to_the_windows_spooler_as_one_raw_document(tmp_path):
    result = run_agent(tmp_path, "--test-print", "--printer", "win32://EPSON TM-T20 Receipt")
    assert result.returncode == 0, result.stderr
    (document,) = spooled(tmp_path)
    assert document.name.startswith("EPSON TM-T20 Receipt-")
    data = document.read_bytes()
    assert b"TESTE" in data and data.endswith(b"\x1dV\x00")  # the whole page, cut, in one document


def test_a_printer_windows_does_not_have_is_one_clear_line(tmp_path):
    result = run_agent(tmp_path, "--test-print", "--printer", "win32://No Such Printer")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Windows has no printer named 'No Such Printer'" in result.stderr
    assert spooled(tmp_path) == []


def test_without_pywin32_the_agent_says_what_to_install(tmp_path):
    env = agent_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "agent", "--test-print", "--printer", "win32://EPSON"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 1 and "pywin32 is not installed" in result.stderr


@pytest.mark.parametrize(
    "bits, status", [(0, UNKNOWN), (0x10, PAPER_OUT), (0x400000, COVER_OPEN), (0x80, OFFLINE), (0x1, OFFLINE)]
)
def test_spooler_status_bits(bits, status):
    assert win32_status(bits) == status


@pytest.mark.asyncio
async def test_local_clients_print_on_a_windows_printer_and_see_its_name(tmp_path, unused_tcp_port):
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "agent",
        "--printer",
        "win32://EPSON TM-T20 Receipt",
        "--listen",
        f"127.0.0.1:{unused_tcp_port}",
        "--journal",
        str(tmp_path / "journal.sqlite3"),
        cwd=tmp_path,
        env=win32_env(tmp_path),
        stderr=asyncio.subprocess.PIPE,
    )
    try:

        async def connected():
            try:
                return await websockets.connect(f"ws://127.0.0.1:{unused_tcp_port}/")
            except OSError:
                await asyncio.sleep(0.1)

        ws = None
        for _ in range(200):
            ws = await connected()
            if ws:
                break
        assert ws is not None
        async with ws:
            await ws.send(json.dumps({"call": "printers.find", "uid": "u1"}))
            found = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert found["result"][0] == "EPSON TM-T20 Receipt"
            await ws.send(
                json.dumps(
                    {
                        "call": "print",
                        "uid": "u2",
                        "params": {"printer": {"name": "EPSON TM-T20 Receipt"}, "data": ["\x1b@Olá\n"]},
                    }
                )
            )
            assert json.loads(await asyncio.wait_for(ws.recv(), 20))["status_code"] == 1
            assert json.loads(await asyncio.wait_for(ws.recv(), 20))["status"] == "success"
            # The machine's other printer is listed, but a job meant for it is not printed here.
            for _ in range(100):
                await ws.send(json.dumps({"call": "printers.find", "uid": "u3"}))
                found = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if "Microsoft Print to PDF" in found["result"]:
                    break
                await asyncio.sleep(0.1)
            assert found["result"] == ["EPSON TM-T20 Receipt", "Microsoft Print to PDF"]
            await ws.send(
                json.dumps(
                    {
                        "call": "print",
                        "uid": "u4",
                        "params": {"printer": {"name": "Microsoft Print to PDF"}, "data": ["x"]},
                    }
                )
            )
            refused = json.loads(await asyncio.wait_for(ws.recv(), 20))
            assert refused["status"] == "error" and "another printer" in refused["message"]
        (document,) = spooled(tmp_path)
        assert document.read_bytes() == "\x1b@Olá\n".encode()
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
