"""``cantina-agent install-service``: a systemd unit on Linux, every step printed, testable without
systemd (``--dry-run``, ``--unit-dir``, a PATH without systemctl)."""

import shutil
import subprocess
import sys

import pytest

from tests.agent.agent_support import agent_env


def install(tmp_path, *args, path=None):
    env = agent_env(tmp_path)
    if path is not None:
        env["PATH"] = path
    return subprocess.run(
        [sys.executable, "-m", "agent", "install-service", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
    )


def test_dry_run_prints_the_unit_and_the_commands_and_changes_nothing(tmp_path):
    result = install(tmp_path, "--dry-run", "--unit-dir", str(tmp_path / "units"))
    assert result.returncode == 0, result.stderr
    assert "[Service]" in result.stdout and "Restart=always" in result.stdout
    assert "--config" in result.stdout and "--token" not in result.stdout
    assert "would run: systemctl daemon-reload" in result.stdout
    assert "would run: systemctl enable --now cantina-agent.service" in result.stdout
    assert not (tmp_path / "units").exists()


def test_writes_the_unit_and_says_when_systemctl_is_missing(tmp_path):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    result = install(tmp_path, "--unit-dir", str(tmp_path / "units"), path=str(empty_bin))
    unit = tmp_path / "units" / "cantina-agent.service"
    assert unit.exists()
    assert f"wrote {unit}" in result.stdout
    assert result.returncode == 1 and "systemctl not found" in result.stderr
    assert "ExecStart=" in unit.read_text() and "WantedBy=multi-user.target" in unit.read_text()


def test_runs_systemctl_daemon_reload_and_enable(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    calls = tmp_path / "calls"
    (fake_bin / "systemctl").write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    (fake_bin / "systemctl").chmod(0o755)
    result = install(tmp_path, "--user", "--unit-dir", str(tmp_path / "units"), path=f"{fake_bin}:/usr/bin:/bin")
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == ["--user daemon-reload", "--user enable --now cantina-agent.service"]
    assert "WantedBy=default.target" in (tmp_path / "units" / "cantina-agent.service").read_text()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_the_unit_passes_systemd_analyze_verify(tmp_path):
    install(tmp_path, "--unit-dir", str(tmp_path / "units"), "--no-enable")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "units" / "cantina-agent.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
