"""``python -m agent`` as a real process: one clear line per problem, never a traceback."""

import asyncio
import json
import signal
import subprocess

import pytest
from websockets.asyncio.server import serve

from tests.agent.agent_support import PYTHON, REPO, agent_env
from tools.polling import wait_for_async

pytestmark = pytest.mark.timeout(90)

TOKEN = "tok-7f3a9c1e5b"


def run_cli(tmp_path, *args, timeout=60, **env):
    return subprocess.run(
        [PYTHON, "-m", "agent", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        env=agent_env(tmp_path, **env),
    )


def assert_one_clear_line(stderr: str, *needles: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize(
    "args, env, needle",
    [
        (["--server", "http://localhost:8000/", "--token", TOKEN], {}, "ws:// or wss://"),
        (["--server", "ws://localhost:8000/ws/agent/"], {}, "missing --token"),
        (["--token", TOKEN], {}, "missing --server"),
        (
            ["--printer", "lpt1://x"],
            {"CANTINA_SERVER": "ws://h/ws/agent/", "CANTINA_TOKEN": TOKEN},
            "unsupported printer",
        ),
        ([], {"CANTINA_CONFIG": "/nonexistent/agent.toml"}, "does not exist"),
        (
            ["--check", "--profile", "NoSuchModel"],
            {"CANTINA_SERVER": "ws://h/ws/agent/", "CANTINA_TOKEN": TOKEN},
            "unknown printer profile",
        ),
    ],
)
def test_bad_config_exits_2_with_one_clear_line(tmp_path, args, env, needle):
    result = run_cli(tmp_path, *args, **env)
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "configuration error", needle)
    assert TOKEN not in result.stderr


def test_invalid_toml_config_file_exits_2(tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text("server = \n")
    result = run_cli(tmp_path, "--config", str(config), "--check")
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "not valid TOML")


def test_test_print_on_unreachable_printer_exits_1_with_one_line(tmp_path, unused_tcp_port):
    result = run_cli(tmp_path, "--test-print", "--printer", f"tcp://127.0.0.1:{unused_tcp_port}")
    assert result.returncode == 1
    assert_one_clear_line(result.stderr, "unreachable", "Connection refused")


def test_test_print_writes_a_page_to_the_printer(tmp_path):
    result = run_cli(tmp_path, "--test-print", "--printer", f"fake://{tmp_path / 'out'}")
    assert result.returncode == 0, result.stderr
    [job] = (tmp_path / "out").glob("*.txt")
    assert "Pão de queijo" in job.read_text(encoding="utf-8")


def test_list_printers_shows_the_configured_one(tmp_path):
    result = run_cli(tmp_path, "--list-printers", "--printer", f"fake://{tmp_path / 'out'}")
    assert result.returncode == 0
    assert f"configured: fake://{tmp_path / 'out'} (status: ready)" in result.stdout
    assert "Traceback" not in result.stderr


def test_save_config_then_run_from_it(tmp_path):
    config = tmp_path / "cfg" / "agent.json"
    saved = run_cli(
        tmp_path,
        "--save-config",
        "--config",
        str(config),
        "--server",
        "ws://h:1/ws/agent/",
        "--token",
        TOKEN,
        "--printer",
        "tcp://10.1.1.1:9100",
    )
    assert saved.returncode == 0, saved.stderr
    assert json.loads(config.read_text())["printer"] == "tcp://10.1.1.1:9100"
    assert TOKEN not in saved.stderr


class ScriptedServer:
    """A WebSocket server that welcomes or rejects agents (for the subprocess tests)."""

    def __init__(self, close_code=None):
        self.close_code = close_code
        self.received = []
        self.connections = 0

    async def handler(self, ws):
        self.connections += 1
        if self.close_code:
            await ws.close(self.close_code, "unauthorized")
            return
        await ws.send(json.dumps({"type": "welcome", "printer": {"id": 1, "name": "Balcão"}}))
        async for raw in ws:
            self.received.append(json.loads(raw))


async def start_agent(tmp_path, *args, **env):
    return await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "agent",
        *args,
        cwd=tmp_path,
        env=agent_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def read_lines_until(stream, needle: str, timeout: float = 20) -> list[str]:
    lines = []

    async def read():
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"process ended before {needle!r}: {lines}")
            lines.append(line)
            if needle in line:
                return lines

    return await asyncio.wait_for(read(), timeout)


async def stop(process) -> str:
    process.send_signal(signal.SIGTERM)
    _, rest = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    return rest.decode()


@pytest.mark.asyncio
async def test_wrong_token_gives_one_clear_line_and_slow_retry(tmp_path):
    server = ScriptedServer(close_code=4401)
    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        url = f"ws://127.0.0.1:{ws_server.sockets[0].getsockname()[1]}/ws/agent/"
        process = await start_agent(
            tmp_path, "--printer", f"fake://{tmp_path / 'out'}", CANTINA_SERVER=url, CANTINA_TOKEN=TOKEN
        )
        lines = await read_lines_until(process.stderr, "token rejected")
        await asyncio.sleep(1.0)  # a fast retry loop would show up here
        rest = await stop(process)
    stderr = "".join(lines) + rest
    assert "Traceback" not in stderr
    assert stderr.count("token rejected") == 1
    assert "close 4401" in stderr
    assert server.connections == 1
    assert TOKEN not in stderr


@pytest.mark.asyncio
async def test_unreachable_printer_is_one_clear_line_and_the_agent_keeps_running(tmp_path, unused_tcp_port):
    server = ScriptedServer()
    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        url = f"ws://127.0.0.1:{ws_server.sockets[0].getsockname()[1]}/ws/agent/"
        process = await start_agent(
            tmp_path,
            "--server",
            url,
            "--token",
            TOKEN,
            "--printer",
            f"tcp://127.0.0.1:{unused_tcp_port}",
            "--status-interval",
            "0.1",
        )
        lines = await read_lines_until(process.stderr, "offline")
        await wait_for_async(lambda: any(m["type"] == "printer_info" for m in server.received))
        await asyncio.sleep(0.5)  # several status polls: the line must not repeat
        rest = await stop(process)
    stderr = "".join(lines) + rest
    assert "Traceback" not in stderr
    offline_lines = [line for line in stderr.splitlines() if "offline" in line]
    assert len(offline_lines) == 1
    assert "Connection refused" in offline_lines[0]
    assert server.received[0]["printer"]["status"] == "offline"


@pytest.mark.asyncio
async def test_unreachable_server_is_one_line_per_attempt_without_traceback(tmp_path, unused_tcp_port):
    process = await start_agent(
        tmp_path,
        "--server",
        f"ws://127.0.0.1:{unused_tcp_port}/ws/agent/",
        "--token",
        TOKEN,
        "--printer",
        f"fake://{tmp_path / 'out'}",
    )
    lines = await read_lines_until(process.stderr, "cannot reach server")
    rest = await stop(process)
    stderr = "".join(lines) + rest
    assert "Traceback" not in stderr
    assert "reconnecting in" in stderr
    assert TOKEN not in stderr


@pytest.mark.asyncio
async def test_check_reports_server_and_printer_and_exits_0(tmp_path):
    server = ScriptedServer()
    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        url = f"ws://127.0.0.1:{ws_server.sockets[0].getsockname()[1]}/ws/agent/"
        process = await start_agent(
            tmp_path, "--check", "--server", url, "--token", TOKEN, "--printer", f"fake://{tmp_path / 'out'}"
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr
    assert "printer fake://" in stdout.decode() and ": ready" in stdout.decode()
    assert "token accepted for printer 'Balcão'" in stdout.decode()


@pytest.mark.asyncio
async def test_check_with_wrong_token_exits_1(tmp_path):
    server = ScriptedServer(close_code=4401)
    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        url = f"ws://127.0.0.1:{ws_server.sockets[0].getsockname()[1]}/ws/agent/"
        process = await start_agent(
            tmp_path, "--check", "--server", url, "--token", TOKEN, "--printer", f"fake://{tmp_path / 'out'}"
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 1
    assert_one_clear_line(stderr.decode(), "token rejected")


@pytest.mark.asyncio
async def test_token_never_appears_in_logs_even_in_debug(tmp_path):
    server = ScriptedServer()
    log_file = tmp_path / "logs" / "agent.log"
    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        url = f"ws://127.0.0.1:{ws_server.sockets[0].getsockname()[1]}/ws/agent/?token={TOKEN}"
        process = await start_agent(
            tmp_path,
            "-v",
            "--server",
            url,
            "--token",
            TOKEN,
            "--printer",
            f"fake://{tmp_path / 'out'}",
            "--log-file",
            str(log_file),
        )
        lines = await read_lines_until(process.stderr, "connected to")
        rest = await stop(process)
    assert TOKEN not in "".join(lines) + rest
    assert "connected to" in log_file.read_text()
    assert TOKEN not in log_file.read_text()


def test_agent_package_never_imports_django(tmp_path):
    code = (
        "import sys, agent.cli, agent.client, agent.fakeprinter, agent.journal, agent.printers;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('django', 'cantina', 'orders', 'printing', 'channels')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=REPO, env=agent_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.asyncio
async def test_check_fails_when_the_printer_status_is_unknown_unless_allowed(tmp_path):
    server = ScriptedServer()
    device = tmp_path / "lp0"  # a device file cannot answer status queries: unknown
    async with serve(server.handler, "127.0.0.1", 0) as ws_server:
        url = f"ws://127.0.0.1:{ws_server.sockets[0].getsockname()[1]}/ws/agent/"
        process = await start_agent(
            tmp_path, "--check", "--server", url, "--printer", f"file://{device}", CANTINA_TOKEN=TOKEN
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 1
        assert ": unknown" in stdout.decode() and "token accepted" in stdout.decode()
        assert_one_clear_line(stderr.decode(), "status unknown", "--allow-unknown")
        process = await start_agent(
            tmp_path,
            "--check",
            "--allow-unknown",
            "--server",
            url,
            "--printer",
            f"file://{device}",
            CANTINA_TOKEN=TOKEN,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr
    assert "accepted because of --allow-unknown" in stdout.decode()


def _self_signed(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return key, cert


@pytest.mark.asyncio
@pytest.mark.skipif(not __import__("shutil").which("openssl"), reason="openssl not installed")
async def test_wss_with_a_private_ca_works_with_ca_file_and_is_refused_without(tmp_path):
    import ssl

    key, cert = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = ScriptedServer()
    async with serve(server.handler, "127.0.0.1", 0, ssl=context) as ws_server:
        url = f"wss://localhost:{ws_server.sockets[0].getsockname()[1]}/ws/agent/"
        printer = f"fake://{tmp_path / 'out'}"
        process = await start_agent(tmp_path, "--check", "--server", url, "--printer", printer, CANTINA_TOKEN=TOKEN)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 1
        assert_one_clear_line(stderr.decode(), "CERTIFICATE_VERIFY_FAILED")
        process = await start_agent(
            tmp_path, "--check", "--server", url, "--printer", printer, CANTINA_TOKEN=TOKEN, CANTINA_CA_FILE=str(cert)
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr
    assert "token accepted" in stdout.decode()


def test_a_ca_file_that_is_not_a_certificate_is_a_config_error(tmp_path):
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate")
    result = run_cli(
        tmp_path, "--check", "--ca-file", str(bogus), CANTINA_SERVER="wss://h/ws/agent/", CANTINA_TOKEN=TOKEN
    )
    assert result.returncode == 2
    assert_one_clear_line(result.stderr, "ca_file", "not a PEM certificate")
