"""A real daphne process with no agent connected still repairs missing receipts, expires old jobs
and marks stale printers offline (printing.maintenance's thread); ``manage.py
printing_maintenance --once`` does the same as a separate worker and exits 0."""

import subprocess

import pytest

from tools.polling import wait_for
from tools.processes import PYTHON, REPO, DaphneServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

NEGLECT = """
from datetime import timedelta
from decimal import Decimal
from django.utils import timezone
from orders.models import Order, OrderItem
from printing.models import Printer, PrintJob
printer = Printer.objects.create(name="Balcão")
lost = Printer.objects.create(name="Cozinha", auto_print=[])
Printer.objects.filter(pk=lost.pk).update(connected=True, last_seen_at=timezone.now() - timedelta(hours=1))
order = Order.objects.create(customer_name="Ana", channel="counter", status="pending")
OrderItem.objects.create(order=order, name="Pão de queijo", quantity=2, unit_price=Decimal("4.50"))
# Confirmed a minute ago by a process that died before creating the receipts (no post_save).
Order.objects.filter(pk=order.pk).update(status="confirmed", confirmed_at=timezone.now() - timedelta(minutes=1))
old = PrintJob.objects.create(printer=printer, created_at=timezone.now() - timedelta(days=3))
print(json.dumps({"order": order.pk, "old": old.pk, "lost": lost.pk}))
"""

STATE = """
from printing.models import Printer, PrintJob
ids = {ids!r}
print(json.dumps({{
    "receipts": PrintJob.objects.filter(order_id=ids["order"], kind="order_receipt").count(),
    "old": list(PrintJob.objects.filter(pk=ids["old"]).values_list("status", "error_code").first()),
    "lost_connected": Printer.objects.get(pk=ids["lost"]).connected,
}}))
"""

DONE = {"receipts": 1, "old": ["failed", "expired"], "lost_connected": False}


def test_a_server_with_no_agent_does_the_maintenance(tmp_path):
    # Expiry runs every CANTINA_EXPIRY_INTERVAL (60 s): shortened, or the test waits a minute.
    with DaphneServer(tmp_path / "server", CANTINA_EXPIRY_INTERVAL="2") as server:
        ids = server.manage.python(NEGLECT)
        wait_for(
            lambda: server.manage.python(STATE.format(ids=ids)) == DONE,
            60,
            message=f"the server's maintenance thread to repair {ids}",
        )
        assert "event=maintenance_started" in server.log()


def test_the_command_runs_one_pass_and_exits_0(tmp_path):
    server = DaphneServer(tmp_path / "worker")  # migrated, never started: nothing else runs maintenance
    ids = server.manage.python(NEGLECT)
    result = server.manage("printing_maintenance", "--once")
    assert "Maintenance pass done" in result.stdout
    assert server.manage.python(STATE.format(ids=ids)) == DONE


def test_the_command_says_what_is_wrong_when_the_database_is_not_migrated(tmp_path):
    server = DaphneServer(tmp_path / "empty", migrate=False)
    result = subprocess.run(
        [PYTHON, "manage.py", "printing_maintenance", "--once"],
        cwd=REPO,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no such table" in result.stderr and "manage.py migrate" in result.stderr
    assert "Traceback" not in result.stderr
