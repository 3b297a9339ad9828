"""``cantina-agent install-service``: run the agent as a systemd service on Linux.

It writes a unit that starts the agent with its config file (the token stays in that file, mode
0600, never on a command line), then runs ``systemctl daemon-reload`` and ``systemctl enable
--now``. Every step is printed; ``--dry-run`` only prints. Windows and macOS: see agent/README.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from agent.config import ConfigError, default_config_path, load_settings

UNIT_NAME = "cantina-agent.service"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cantina-agent install-service",
        description="Install the agent as a systemd service (Linux). Save the settings first with "
        "`cantina-agent --server … --printer … --save-config` (token from CANTINA_TOKEN).",
    )
    parser.add_argument("--config", help=f"config file the service uses (default {default_config_path()})")
    parser.add_argument(
        "--user",
        action="store_true",
        help="a user service (~/.config/systemd/user) instead of a system one (/etc/systemd/system)",
    )
    parser.add_argument("--unit-dir", dest="unit_dir", help="write the unit here instead")
    parser.add_argument("--run-as", dest="run_as", help="system service: the user it runs as (default: you)")
    parser.add_argument(
        "--no-enable", dest="enable", action="store_false", help="write the unit only; do not run systemctl"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the unit and the commands; change nothing")
    return parser


def command_line(config: Path) -> list[str]:
    """How the service starts the agent: the installed console script, else this Python."""
    script = shutil.which("cantina-agent")
    if script:
        return [script, "--config", str(config)]
    return [sys.executable, "-m", "agent", "--config", str(config)]


def unit_text(*, command: list[str], user: str | None, working_directory: str, user_service: bool) -> str:
    lines = [
        "[Unit]",
        "Description=Cantina Print printer agent",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={shlex.join(command)}",
        f"WorkingDirectory={working_directory}",
        "Restart=always",
        "RestartSec=3",
        # SIGTERM lets the agent finish and acknowledge the receipt being printed.
        "KillSignal=SIGTERM",
        "TimeoutStopSec=45",
        "Environment=PYTHONUNBUFFERED=1",
    ]
    if user and not user_service:
        lines.append(f"User={user}")
    lines += [
        "NoNewPrivileges=true",
        "",
        "[Install]",
        "WantedBy=" + ("default.target" if user_service else "multi-user.target"),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not sys.platform.startswith("linux") and not args.dry_run and not args.unit_dir:
        print(
            "install-service writes systemd units (Linux). On Windows and macOS see agent/README.md.", file=sys.stderr
        )
        return 1
    try:
        settings, config = load_settings({"config": args.config})
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    config = config.expanduser().resolve()
    if not config.exists():
        print(
            f"note: {config} does not exist yet; create it with --save-config before starting the service",
            file=sys.stderr,
        )
    elif not (settings.server or settings.listen):
        print(f"note: {config} sets neither a server nor --listen; the service would exit at once", file=sys.stderr)
    user_service = args.user
    if args.unit_dir:
        unit_dir = Path(args.unit_dir)
    elif user_service:
        unit_dir = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "systemd" / "user"
    else:
        unit_dir = Path("/etc/systemd/system")
    run_as = args.run_as or os.environ.get("SUDO_USER") or os.environ.get("USER")
    text = unit_text(
        command=command_line(config), user=run_as, working_directory=str(Path.home()), user_service=user_service
    )
    unit_path = unit_dir / UNIT_NAME
    systemctl = ["systemctl", "--user"] if user_service else ["systemctl"]
    commands = [[*systemctl, "daemon-reload"], [*systemctl, "enable", "--now", UNIT_NAME]] if args.enable else []
    if args.dry_run:
        print(f"# would write {unit_path}:")
        print(text)
        for command in commands:
            print(f"# would run: {shlex.join(command)}")
        return 0
    try:
        unit_dir.mkdir(parents=True, exist_ok=True)
        unit_path.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(
            f"cannot write {unit_path}: {exc.strerror or exc}"
            + ("" if user_service else " (run with sudo, or use --user)"),
            file=sys.stderr,
        )
        return 1
    print(f"wrote {unit_path}")
    if not commands:
        return 0
    if shutil.which("systemctl") is None:
        print(
            "systemctl not found: this machine does not run systemd; start the agent another way "
            f"(the unit is at {unit_path})",
            file=sys.stderr,
        )
        return 1
    for command in commands:
        print(f"running: {shlex.join(command)}")
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            print(f"{shlex.join(command)} failed ({result.returncode}): {result.stderr.strip()}", file=sys.stderr)
            return 1
    print(f"the agent now runs as {UNIT_NAME}; logs: journalctl {'--user ' if user_service else ''}-u {UNIT_NAME} -f")
    return 0
