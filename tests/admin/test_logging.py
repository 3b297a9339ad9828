"""Logs: one key=value line per job transition and per agent connect / disconnect; never a token."""

import io
import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from cantina.asgi import application
from printing import services
from printing.models import Printer, PrintJob, PrintJobEvent
from tests.admin.helpers import PRINTERS_URL, post_action

REPO = Path(__file__).resolve().parents[2]
KEY_VALUE_LINE = re.compile(r"^[a-z_]+=\S+( [a-z_]+=\S+)*$")


@pytest.fixture
def all_log_output():
    """Every record of every logger, at every level, as text (whatever handlers settings set up)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [logging.getLogger(), logging.getLogger("cantina")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield stream
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


def job_lines(caplog, job_id):
    return [m for m in caplog.messages if m.startswith(f"job={job_id} ") and " status=" in m]


@pytest.mark.django_db
def test_every_job_transition_logs_exactly_one_key_value_line(
    make_printer, make_order, caplog, django_capture_on_commit_callbacks
):
    printer = make_printer("Balcão")
    caplog.set_level(logging.INFO, logger="cantina")

    def committed(service, **arguments):
        with django_capture_on_commit_callbacks(execute=True):
            return service(**arguments)

    def report(job, status, error_code=""):
        committed(services.job_mark_status, job_id=job.pk, printer_id=printer.pk, status=status, error_code=error_code)

    order = committed(make_order)  # pending
    receipt = PrintJob.objects.get(order=order)
    committed(services.jobs_claim, printer_id=printer.pk)  # sent
    report(receipt, "printing")
    report(receipt, "printing")  # repeated: no transition, no line
    report(receipt, "completed")
    report(receipt, "completed")  # late: no transition, no line

    test_page = committed(services.job_create_test_page, printer=printer)
    committed(services.jobs_claim, printer_id=printer.pk)
    report(test_page, "failed", "paper_out")  # back to pending
    committed(services.printer_report, printer_id=printer.pk, status="ready")
    committed(services.jobs_claim, printer_id=printer.pk)
    report(test_page, "failed", "bad_data")
    committed(services.job_retry, job_id=test_page.pk)
    committed(services.job_cancel, job_id=test_page.pk)

    reprint = committed(services.job_reprint, job_id=receipt.pk)
    PrintJob.objects.filter(pk=reprint.pk).update(created_at=timezone.now() - timedelta(days=3))
    committed(services.jobs_expire)

    for job in (receipt, test_page, reprint):
        events = list(PrintJobEvent.objects.filter(job=job).values_list("status", flat=True))
        lines = job_lines(caplog, job.pk)
        assert [re.search(r" status=(\w+)", line).group(1) for line in lines] == events
    assert len(job_lines(caplog, test_page.pk)) == 7
    assert (
        job_lines(caplog, test_page.pk)[2]
        == f"job={test_page.pk} printer={printer.pk} status=pending error_code=paper_out"
    )
    assert (
        job_lines(caplog, reprint.pk)[-1] == f"job={reprint.pk} printer={printer.pk} status=failed error_code=expired"
    )
    cantina_lines = [r.getMessage() for r in caplog.records if r.name.startswith("cantina")]
    assert cantina_lines and all(KEY_VALUE_LINE.match(line) for line in cantina_lines), cantina_lines


@pytest.mark.django_db
def test_tokens_issued_in_the_admin_and_by_command_never_reach_the_logs(
    client, make_printer, all_log_output, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("marta", "m@example.com", "marta-pass-123"))
    printer = make_printer("Balcão")
    tokens = [printer.token]

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(client, PRINTERS_URL, "issue_token", [printer])
        tokens.append(response.context["issued"][0]["token"])
        response = client.post(reverse("admin:printing_printer_token", args=[printer.pk]))
        tokens.append(response.context["issued"][0]["token"])
        response = client.post(
            reverse("admin:printing_printer_add"),
            {"name": "Cozinha", "paper_width": 80, "copies": 1, "is_active": "on", "auto_print": ["counter"]},
        )
        tokens.append(response.context["issued"][0]["token"])
        output = io.StringIO()
        call_command("printer_token", "Balcão", stdout=output)
        tokens.append(output.getvalue().strip().splitlines()[-1])
        output = io.StringIO()
        call_command("printer_add", "Bar", stdout=output)
        tokens.append(output.getvalue().strip().splitlines()[-1])

    assert len(set(tokens)) == 6 and all(len(token) >= 40 for token in tokens)
    logged = all_log_output.getvalue()
    assert logged.count("event=token_issued") == 6
    for token in tokens:
        assert token not in logged
        assert token[:20] not in logged


@database_sync_to_async
def printer_with_token(name):
    printer = Printer.objects.create(name=name)
    return printer.pk, services.printer_issue_token(printer=printer)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.timeout(30)
async def test_agent_connect_and_disconnect_log_one_line_each_without_the_token(all_log_output):
    printer_id, token = await printer_with_token("Balcão")

    agent = WebsocketCommunicator(application, f"/ws/agent/?token={token}")
    connected, _ = await agent.connect()
    assert connected
    welcome = await agent.receive_json_from(timeout=5)
    assert welcome["type"] == "welcome"
    await agent.disconnect()
    intruder = WebsocketCommunicator(
        application, "/ws/agent/", headers=[(b"authorization", b"Token not-" + token.encode())]
    )
    await intruder.connect()
    assert (await intruder.receive_output(timeout=5))["code"] == 4401
    await intruder.disconnect()

    lines = all_log_output.getvalue().splitlines()
    assert [line for line in lines if f"printer={printer_id} event=agent_" in line] == [
        f"cantina.printing INFO printer={printer_id} event=agent_connected",
        f"cantina.printing INFO printer={printer_id} event=agent_disconnected",
    ]
    assert token not in all_log_output.getvalue()


def test_the_rotating_log_file_set_by_environment_gets_the_lines_and_never_the_tokens(tmp_path):
    log_file = tmp_path / "logs" / "cantina.log"
    env = {
        **{key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "DATABASE_URL"}},
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "CANTINA_VAR_DIR": str(tmp_path / "var"),
        "CANTINA_LOG_FILE": str(log_file),
        "CANTINA_LOG_LEVEL": "DEBUG",
        "CANTINA_LOG_FILE_MAX_BYTES": "4096",
        "CANTINA_LOG_FILE_BACKUPS": "2",
    }

    def manage(*args):
        result = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""

    manage("migrate", "--verbosity", "0")
    tokens = [manage("printer_add", "Balcão")]
    tokens += [manage("printer_token", "Balcão") for _ in range(3)]

    assert log_file.exists()
    logged = "".join(path.read_text() for path in log_file.parent.glob("cantina.log*"))
    assert logged.count("event=token_issued") == 4
    for token in tokens:
        assert len(token) >= 40 and token not in logged
