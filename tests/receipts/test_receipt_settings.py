"""CANTINA_RECEIPT_LANGUAGE takes the four receipt languages; fonts are checked at startup."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_check(tmp_path, **env_overrides):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": "/tmp",
        "DJANGO_SETTINGS_MODULE": "cantina.settings",
        "CANTINA_VAR_DIR": str(tmp_path),
        **env_overrides,
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("language", ["pt-br", "en", "es", "zh-hans", "zh-Hans"])
def test_receipt_language_accepts_the_four_languages(tmp_path, language):
    result = run_check(tmp_path, CANTINA_RECEIPT_LANGUAGE=language)
    assert result.returncode == 0, result.stderr


def test_unknown_receipt_language_is_refused_clearly(tmp_path):
    result = run_check(tmp_path, CANTINA_RECEIPT_LANGUAGE="fr")
    assert result.returncode != 0
    assert "CANTINA_RECEIPT_LANGUAGE must be one of pt-br, en, es, zh-hans, not 'fr'" in result.stderr


def test_a_missing_font_stops_the_startup_check_with_a_clear_message(tmp_path):
    result = run_check(tmp_path, CANTINA_FONT_LATIN=str(tmp_path / "missing.ttf"))
    assert result.returncode != 0
    assert "cantina.E001" in result.stderr and "missing.ttf' does not exist" in result.stderr
    assert "Traceback" not in result.stderr
