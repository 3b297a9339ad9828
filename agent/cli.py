"""Command line of the printer agent: ``python -m agent`` or ``cantina-agent`` (``agent.cli:main``).

    CANTINA_TOKEN=… python -m agent --server ws://HOST:PORT/ws/agent/ --printer tcp://HOST:9100
    python -m agent --printer win32://EPSON TM-T20 --listen --allow-origin https://pos.example
    cantina-agent install-service [--dry-run]

Exit codes: 0 success, 1 a one-shot command failed (``--check``, ``--test-print``,
``install-service``), 2 bad configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import logging.handlers
import signal
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from agent import __version__
from agent.config import (
    DEFAULT_LISTEN,
    ENVIRONMENT,
    ConfigError,
    Settings,
    default_journal_path,
    load_settings,
    require_connection,
    save_settings,
)
from agent.printers import BLOCKING_STATUSES, PrinterUnavailable, PrinterWriteError, find_printers, open_printer

log = logging.getLogger("agent")

EPILOG = """\
printers: tcp://HOST:9100  usb://VID:PID (hex)  serial:///dev/ttyUSB0?baudrate=9600
          file:///dev/usb/lp0  cups://QUEUE  win32://WINDOWS PRINTER NAME
          fake:///DIR (built-in fake printer, default fake://var/fake-printer)
local print server: --listen [HOST:]PORT (repeatable; alone = {listen}); ticket-daemon on /ws,
          PrinterWebsocket and Cantina Virtual on any path (see agent/README.md)
environment: {env}, CANTINA_CONFIG (flags > environment > config file > defaults)
service: cantina-agent install-service [--dry-run] [--user]
""".format(env=", ".join(ENVIRONMENT.values()), listen=DEFAULT_LISTEN)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cantina-agent" if Path(sys.argv[0]).name.startswith("cantina-agent") else "python -m agent",
        description="Cantina Print printer agent: prints the server's receipts on a local printer.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--server", help="ws:// or wss:// URL of the server's /ws/agent/ endpoint")
    parser.add_argument(
        "--token",
        help="this printer's agent token; prefer CANTINA_TOKEN or the config file "
        "(a command line is visible to every user of the machine)",
    )
    parser.add_argument(
        "--ca-file", dest="ca_file", help="PEM file of a private CA that signed the server's wss:// certificate"
    )
    parser.add_argument("--printer", help="printer URL (see below; default fake://)")
    parser.add_argument("--profile", help="python-escpos printer profile, e.g. TM-T88V")
    parser.add_argument("--journal", help=f"journal file (default {default_journal_path()})")
    parser.add_argument("--log-file", dest="log_file", help="also log to this file (rotated)")
    parser.add_argument("--name", help="name this agent reports to the server")
    parser.add_argument(
        "--status-interval",
        dest="status_interval",
        type=float,
        help="seconds between printer status checks while idle (default 3)",
    )
    local = parser.add_argument_group("local print server (web pages and apps on this PC)")
    local.add_argument(
        "--listen",
        action="append",
        nargs="?",
        const=DEFAULT_LISTEN,
        metavar="[HOST:]PORT",
        help=f"accept local WebSocket clients here (repeatable; alone: {DEFAULT_LISTEN})",
    )
    local.add_argument(
        "--allow-origin",
        dest="allow_origin",
        action="append",
        metavar="ORIGIN",
        help="a web page origin allowed to print, e.g. https://pos.example.com (repeatable)",
    )
    local.add_argument(
        "--local-token",
        dest="local_token",
        help="secret local clients must present (auth_token, token, or ?token= in the URL)",
    )
    local.add_argument(
        "--queue-capacity",
        dest="queue_capacity",
        type=int,
        help="jobs the printer's queue holds before answering 'queue full' (default 100)",
    )
    local.add_argument("--shop-name", dest="shop_name", help="canteen name printed on Cantina Virtual receipts")
    parser.add_argument("--config", help="config file, TOML or JSON (default: user config dir)")
    parser.add_argument(
        "--save-config",
        dest="save_config",
        action="store_true",
        help="write the effective settings to the config file and exit",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list-printers", action="store_true", help="list printers this machine can see and exit")
    action.add_argument("--test-print", action="store_true", help="print a test page (no server needed) and exit")
    action.add_argument(
        "--check",
        action="store_true",
        help="connect to the server, authenticate, report the printer status; exit 0 or 1 "
        "(does not disturb a running agent)",
    )
    parser.add_argument(
        "--allow-unknown",
        dest="allow_unknown",
        action="store_true",
        help="with --check: a printer whose status cannot be read (unknown) is not a failure",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"cantina-agent {__version__}")
    return parser


class _RedactSecrets(logging.Filter):
    """Last line of defence: the token never reaches a log line, whatever logged it."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if any(secret in message for secret in self.secrets):
            for secret in self.secrets:
                message = message.replace(secret, "***")
            record.msg, record.args = message, None
        return True


def _secrets(settings: Settings) -> list[str]:
    values = [settings.token]
    if settings.server:
        values += parse_qs(urlsplit(settings.server).query).get("token", [])
    return [value for value in values if value and len(value) >= 4]


def setup_logging(verbose: bool, log_file: str | None = None, secrets: list[str] | None = None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    if isinstance(sys.stderr, io.TextIOWrapper):  # a console that can't show "ã" gets "\xe3"
        with contextlib.suppress(ValueError):
            sys.stderr.reconfigure(errors="backslashreplace")
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file:
        Path(log_file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(log_file, maxBytes=2 * 2**20, backupCount=5, encoding="utf-8")
        )
    for handler in handlers:
        handler.setFormatter(formatter)
        if secrets:
            handler.addFilter(_RedactSecrets(secrets))
        root.addHandler(handler)
    # Third-party libraries (python-escpos logs every connection) only speak up for problems.
    root.setLevel(logging.WARNING)
    logging.getLogger("agent").setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("websockets").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["install-service"]:
        from agent.service import main as install_service

        return install_service(argv[1:])
    args = build_parser().parse_args(argv)
    setup_logging(args.verbose)
    try:
        settings, config_path = load_settings(vars(args))
        setup_logging(args.verbose, settings.log_file, _secrets(settings))
        if args.save_config:
            save_settings(settings, config_path)
            log.info("settings saved to %s", config_path)
            return 0
        if args.list_printers:
            return list_printers(settings)
        if args.test_print:
            return test_print(settings)
        if args.check:
            require_connection(settings)
            return asyncio.run(check(settings, allow_unknown=args.allow_unknown))
        require_connection(settings, standalone_ok=True)
        return run_agent(settings)
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return 2
    except OSError as exc:  # e.g. the log file directory is not writable
        log.error("configuration error: %s", exc)
        return 2
    except KeyboardInterrupt:
        return 130


def run_agent(settings: Settings) -> int:
    from agent.client import Agent
    from agent.journal import Journal, JournalError

    printer = open_printer(settings.printer)
    journal_path = Path(settings.journal).expanduser() if settings.journal else default_journal_path()
    try:
        journal = Journal(journal_path, settings.journal_scope)
    except JournalError as exc:
        raise ConfigError(str(exc)) from None
    agent = Agent(settings, printer, journal)
    log.info(
        "cantina agent %s: server %s, printer %s, journal %s",
        __version__,
        settings.server_display if settings.server else "(none: local print server only)",
        printer,
        journal_path,
    )

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, AttributeError):  # Windows
                loop.add_signal_handler(signum, agent.stop)
        local = None
        if settings.listen:
            from agent.local import LocalServer

            local = LocalServer(agent, settings)
            await local.start()
        try:
            await agent.run()
        finally:
            if local is not None:
                await local.stop()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass
    except JournalError as exc:
        log.error("%s", exc)
        return 2
    finally:
        journal.close()
    log.info("agent stopped")
    return 0


def list_printers(settings: Settings) -> int:
    found, notes = find_printers()
    for printer in found:
        print(f"{printer.url:40} {printer.description}")
    if not found:
        print("no Windows, USB, serial or CUPS printers found")
    for note in notes:
        print(f"  ({note})")
    configured = open_printer(settings.printer)
    print(f"configured: {configured} (status: {configured.probe_status()})")
    return 0


def test_print(settings: Settings) -> int:
    from agent.printers import build_test_page

    printer = open_printer(settings.printer)
    data = build_test_page(settings.printer, settings.profile)
    try:
        with printer.open() as session:
            status = session.read_status()
            if status in BLOCKING_STATUSES:
                log.error("printer %s is %s: test page not printed", printer, status)
                return 1
            session.write(data)
    except PrinterUnavailable as exc:
        log.error("printer %s unreachable: %s", printer, exc)
        return 1
    except PrinterWriteError as exc:
        log.error("printer %s: writing the test page failed: %s", printer, exc)
        return 1
    log.info("test page sent to %s (%d bytes, status %s)", printer, len(data), status)
    return 0


async def check(settings: Settings, *, allow_unknown: bool = False) -> int:
    """Connect, authenticate, read the printer status; print a short report.

    Exit 1 unless the server accepts the token and the printer can print: a printer whose status
    cannot be read (``unknown``) fails too, unless ``allow_unknown`` (file and CUPS printers never
    tell, nor does a network printer that ignores status queries).
    """
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

    from agent.client import tls_context
    from agent.printers import UNKNOWN

    printer = open_printer(settings.printer)
    status = await asyncio.to_thread(printer.probe_status)
    printer_ok = status not in BLOCKING_STATUSES
    print(f"printer {printer}: {status}")
    if status == UNKNOWN:
        if allow_unknown:
            print(f"printer {printer}: its status cannot be read; accepted because of --allow-unknown")
        else:
            printer_ok = False
            log.error(
                "printer %s: status unknown (it does not answer status queries, or is not a receipt "
                "printer); run --test-print to check it prints, then use --check --allow-unknown",
                printer,
            )
    server = settings.server_display
    server_ok = False
    try:
        headers = {"Authorization": f"Token {settings.token}"} if settings.token else None
        # mode=check: the server answers without replacing this printer's running agent.
        assert settings.server, "checked by config.require_connection"
        url = urlsplit(settings.server)
        check_url = urlunsplit(url._replace(query="&".join(filter(None, [url.query, "mode=check"]))))
        tls = tls_context(settings) if check_url.startswith("wss:") else None
        async with connect(
            check_url,
            additional_headers=headers,
            open_timeout=10,
            user_agent_header=f"cantina-agent/{__version__} (check)",
            ssl=tls,
        ) as ws:
            try:
                first = json.loads(await asyncio.wait_for(ws.recv(), 5))
            except TimeoutError:
                first = {}
            if first.get("type") == "welcome":
                named = (first.get("printer") or {}).get("name")
                print(f"server {server}: OK, token accepted" + (f" for printer {named!r}" if named else ""))
            else:
                print(f"server {server}: OK, connected (no welcome message)")
            server_ok = True
            await ws.close(1000, "check done")
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        if code == 4401:
            log.error("server %s: token rejected (close 4401)", server)
        elif code == 4403:
            log.error("server %s: printer disabled (close 4403)", server)
        else:
            log.error("server %s closed the connection (%s)", server, code)
    except InvalidStatus as exc:
        log.error("server %s refused the connection (HTTP %d)", server, exc.response.status_code)
    except (TimeoutError, OSError, InvalidHandshake) as exc:
        log.error("cannot reach server %s: %s", server, str(exc) or type(exc).__name__)
    return 0 if server_ok and printer_ok else 1
