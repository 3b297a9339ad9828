"""cantina.E003: a missing or stale compiled catalogue stops the documented commands and the
production server, instead of running silently in English."""

import logging
import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from cantina import checks, msgfmt
from tools.processes import REPO

PO = 'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Counter"\nmsgstr "Balcão"\n'


@pytest.fixture
def locale(tmp_path):
    po = tmp_path / "pt_BR" / "LC_MESSAGES" / "django.po"
    po.parent.mkdir(parents=True)
    po.write_text(PO, encoding="utf-8")
    return tmp_path, po


def test_a_catalogue_without_its_mo_is_an_error(locale):
    root, po = locale
    errors = checks.translation_errors([root])
    assert [error.id for error in errors] == ["cantina.E003"]
    assert str(po) in errors[0].msg and "has no compiled .mo file" in errors[0].msg
    assert "python -m cantina.msgfmt" in errors[0].hint


def test_a_catalogue_newer_than_its_mo_is_an_error(locale):
    root, po = locale
    msgfmt.main(root)
    mo = po.with_suffix(".mo")
    os.utime(mo, (po.stat().st_mtime - 10, po.stat().st_mtime - 10))
    errors = checks.translation_errors([root])
    assert [error.id for error in errors] == ["cantina.E003"]
    assert "is newer than its compiled .mo file" in errors[0].msg


def test_compiled_catalogues_pass(locale):
    root, _po = locale
    msgfmt.main(root)
    assert checks.translation_errors([root]) == []


def test_the_production_server_refuses_to_start_without_them(locale, settings):
    root, _po = locale
    settings.LOCALE_PATHS = [root]
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="has no compiled .mo file: run python -m cantina.msgfmt"):
        checks.ensure_compiled_translations()


def test_the_development_server_says_so_and_starts(locale, settings, caplog):
    root, _po = locale
    settings.LOCALE_PATHS = [root]
    settings.DEBUG = True
    with caplog.at_level(logging.ERROR, logger="cantina"):
        checks.ensure_compiled_translations()
    assert any("has no compiled .mo file" in message for message in caplog.messages)


def test_the_check_runs_with_the_documented_commands(tmp_path):
    # manage.py check on the project's own catalogues, made stale by a newer .po (a copy of the
    # locale directory: the real one is shared with concurrently running tests).
    import shutil

    locale_copy = tmp_path / "locale"
    shutil.copytree(REPO / "locale", locale_copy, ignore=shutil.ignore_patterns("*.mo"))
    script = (
        "import django, sys; from django.conf import settings; django.setup();"
        f"settings.LOCALE_PATHS = [{str(locale_copy)!r}];"
        "from django.core.management import call_command; call_command('check')"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "cantina.settings",
        "CANTINA_VAR_DIR": str(tmp_path / "var"),
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "cantina.E003" in result.stderr and "pt_BR" in result.stderr
