"""tests/ci_skips.py: with CI=true a skip for a missing required service fails the run."""

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import pytest

def test_needs_redis():
    pytest.skip("redis-server is not installed")

@pytest.mark.skipif(True, reason="chromium is not installed")
def test_needs_chromium():
    pass

@pytest.mark.skipif(True, reason="openssl not installed")
def test_optional_tool():
    pass
"""


def run_probe(tmp_path, ci):
    (tmp_path / "test_probe.py").write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k != "CI"} | {"PYTHONPATH": str(REPO)}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.ci_skips",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "-q",
            "test_probe.py",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_in_ci_a_missing_required_service_fails_the_run_with_a_clear_message(tmp_path):
    result = run_probe(tmp_path, ci=True)

    assert result.returncode == 1, result.stdout
    assert "a required service is missing, so this test may not skip: redis-server is not installed" in result.stdout
    assert "chromium is not installed" in result.stdout
    assert "SKIPPED test_probe.py::test_optional_tool: openssl not installed" in result.stdout


def test_outside_ci_they_are_skips_listed_by_name(tmp_path):
    result = run_probe(tmp_path, ci=False)

    assert result.returncode == 0, result.stdout
    for name in ("test_needs_redis", "test_needs_chromium", "test_optional_tool"):
        assert f"SKIPPED test_probe.py::{name}:" in result.stdout
