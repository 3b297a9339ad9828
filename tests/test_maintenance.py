"""printing.maintenance: repair, expiry and stale printers happen without any agent connected,
through the loop every server process runs and through ``manage.py printing_maintenance``."""

import threading
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orders.models import Order
from printing import maintenance
from printing.consumers import registry
from printing.models import Printer, PrintJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def neglected(make_printer, make_order):
    """A confirmed order whose receipts were never created, an old queued job, a printer whose
    server process died while it was marked connected."""
    printer = make_printer("Balcão")
    order = make_order(status="confirmed")
    PrintJob.objects.all().delete()
    Order.objects.filter(pk=order.pk).update(confirmed_at=timezone.now() - timedelta(minutes=1))
    old = make_order(status="pending")
    old_job = PrintJob.objects.create(printer=printer, order=old, created_at=timezone.now() - timedelta(days=3))
    lost = make_printer("Cozinha", auto_print=[])
    Printer.objects.filter(pk=lost.pk).update(connected=True, last_seen_at=timezone.now() - timedelta(hours=1))
    return {"order": order, "old_job": old_job, "lost": lost}


def assert_repaired(neglected):
    assert PrintJob.objects.filter(order=neglected["order"], kind=PrintJob.Kind.ORDER_RECEIPT).count() == 1
    old_job = PrintJob.objects.get(pk=neglected["old_job"].pk)
    assert (old_job.status, old_job.error_code) == ("failed", "expired")
    assert not Printer.objects.get(pk=neglected["lost"].pk).connected


def test_the_loop_does_everything_with_no_agent_connected(neglected, monkeypatch):
    assert not registry.consumers  # this process holds no agent
    stop = threading.Event()
    passes = []

    def stop_after_first_pass():
        passes.append(1)
        stop.set()

    tasks = [*maintenance.MAINTENANCE_TASKS, maintenance.Task("stop", stop_after_first_pass)]
    monkeypatch.setattr(maintenance, "MAINTENANCE_TASKS", tasks)
    maintenance.run_forever(interval=0.01, stop=stop)
    assert passes == [1]
    assert_repaired(neglected)


def test_a_failing_task_is_logged_and_the_others_still_run(neglected, monkeypatch, caplog):
    def broken():
        raise RuntimeError("database restarting")

    tasks = [maintenance.Task("broken", broken), *maintenance.MAINTENANCE_TASKS]
    monkeypatch.setattr(maintenance, "MAINTENANCE_TASKS", tasks)
    assert list(maintenance.run_pass(force=True)) == ["broken"]
    assert "event=maintenance_failed task=broken error='database restarting'" in caplog.text
    assert_repaired(neglected)


def test_tasks_run_when_due(monkeypatch):
    calls = []
    task = maintenance.Task("hourly", lambda: calls.append(1), every_seconds=3600)
    monkeypatch.setattr(maintenance, "MAINTENANCE_TASKS", [task])
    maintenance.run_pass()
    maintenance.run_pass()
    assert calls == [1]
    maintenance.run_pass(force=True)
    assert calls == [1, 1]


def test_register_adds_a_task_once(monkeypatch):
    monkeypatch.setattr(maintenance, "MAINTENANCE_TASKS", list(maintenance.MAINTENANCE_TASKS))
    task = maintenance.Task("webhooks_deliver", lambda: None)
    maintenance.register(task)
    maintenance.register(maintenance.Task("webhooks_deliver", lambda: None))
    assert [t.name for t in maintenance.MAINTENANCE_TASKS].count("webhooks_deliver") == 1


def test_the_in_process_thread_can_be_turned_off(settings):
    settings.CANTINA_MAINTENANCE_IN_PROCESS = False
    assert maintenance.start_in_process() is None


def test_command_once(neglected, capsys):
    call_command("printing_maintenance", "--once")
    out = capsys.readouterr().out
    assert "Maintenance pass done: receipts_repair, jobs_expire, printers_mark_stale, cloud_printers," in out
    assert "webhooks_deliver" in out
    assert_repaired(neglected)


def test_command_once_reports_a_failed_task(monkeypatch):
    def broken():
        raise RuntimeError("no such table")

    monkeypatch.setattr(maintenance, "MAINTENANCE_TASKS", [maintenance.Task("broken", broken)])
    with pytest.raises(
        CommandError, match="Maintenance task\\(s\\) failed: broken: no such table.*migrations are applied"
    ):
        call_command("printing_maintenance", "--once")


def test_command_refuses_a_bad_interval():
    with pytest.raises(CommandError, match="--interval must be a positive number of seconds, not 0"):
        call_command("printing_maintenance", "--interval", "0")
