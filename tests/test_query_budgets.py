"""SQL query budgets of the hot paths (deterministic, not timed): a regression fails here.

Each budget is the count measured when it was set (SQLite, transaction statements included);
raise one only with a reason. Staff notifications run after commit and are counted too.
"""

from contextlib import contextmanager
from unittest.mock import patch

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db.backends.utils import CursorWrapper

from cantina.asgi import application
from orders.services import order_confirm
from printing import services
from printing.groups import printer_group
from printing.models import PrintJob

pytestmark = pytest.mark.django_db(transaction=True)

# Lock and read the order, update it; load order, printers, items and the printer; insert,
# render, event; "does a webhook want job.pending?" (the staff summary is built from the job
# created: no query); read back confirmed_at, which the database's clock sets (a server's wall
# clock may be wrong). Issue 16 took out "which printers already have theirs?" (asked per printer).
CONFIRM_COUNTER_ORDER = 18
# An order no printer prints (no printer auto-prints its channel): its items are never read.
CONFIRM_ORDER_NOBODY_PRINTS = 7
# Whatever the batch size: one read to skip the write lock, lock the printer, pick candidates,
# one UPDATE, one bulk INSERT of events, "does a webhook want job.sent?", payloads (jobs, items;
# the staff summaries come from the same rows).
CLAIM_JOBS = 10
# Lock and read the job (as staff see it: no summary query after commit), update it, insert its
# event; "does a webhook want it?"; "anything pending?" for the consumer.
PRINT_STATUS = 7
# In two database calls: authenticate (one indexed read of a few columns), mark connected in a
# transaction with its webhook check, close the printer's
# "no agent" incident (the printer-down alarm), the printer summary for staff, re-send in flight
# (one read), and claim the one job waiting (CLAIM_JOBS).
AGENT_CONNECT = 8 + CLAIM_JOBS
# An agent replacing a connection the printer's row still holds (every agent after a server
# restart): authenticate, one conditional UPDATE and the incident's in a transaction; staff see
# nothing change, so no webhook check and no printer summary (issue 16: a fifth of a reconnect
# storm's CPU).
AGENT_RECONNECT_SESSION = 5
# An agent's ping is answered without the database: a lost wake-up is the sweep's job.
IDLE_PING = 0


@pytest.fixture
def printer(make_printer):
    return make_printer("Balcão")


def test_confirming_a_counter_order_with_its_receipt(printer, make_order, django_assert_max_num_queries):
    order = make_order(status="pending")
    with django_assert_max_num_queries(CONFIRM_COUNTER_ORDER):
        order_confirm(order_id=order.pk)
    assert PrintJob.objects.filter(order=order, printer=printer).count() == 1


def test_confirming_an_order_no_printer_prints(make_printer, make_order, django_assert_max_num_queries):
    make_printer("Cozinha", auto_print=["scheduled"])
    order = make_order(status="pending")
    with django_assert_max_num_queries(CONFIRM_ORDER_NOBODY_PRINTS):
        order_confirm(order_id=order.pk)
    assert not PrintJob.objects.filter(order=order).exists()


@pytest.mark.parametrize("jobs", [1, services.DELIVERY_BATCH])
def test_claiming_jobs_costs_the_same_for_one_or_a_whole_batch(
    printer, make_order, jobs, django_assert_max_num_queries
):
    for _ in range(jobs):
        make_order()
    with django_assert_max_num_queries(CLAIM_JOBS):
        payloads = services.jobs_claim(printer_id=printer.pk, channel_name="agent-1")
    assert len(payloads) == jobs
    assert PrintJob.objects.filter(status=PrintJob.Status.SENT).count() == jobs


def test_a_print_status(printer, make_order, django_assert_max_num_queries):
    make_order()
    [payload] = services.jobs_claim(printer_id=printer.pk)
    with django_assert_max_num_queries(PRINT_STATUS):
        outcome = services.job_mark_status(job_id=payload["job_id"], printer_id=printer.pk, status="completed")
    assert outcome.changed and outcome.status == "completed"


def test_an_agent_connect(printer, make_order, django_assert_max_num_queries):
    make_order()
    with django_assert_max_num_queries(AGENT_CONNECT):
        found = services.agent_session_start(token=printer.token, channel_name="agent-1")
        in_flight, claimed = services.agent_delivery_start(printer_id=found["id"], channel_name="agent-1")
    assert (len(in_flight), len(claimed)) == (0, 1)


def test_an_agent_replacing_a_connection_sends_staff_nothing(printer, django_assert_max_num_queries):
    services.agent_session_start(token=printer.token, channel_name="agent-1")
    with patch("printing.notify.staff_printer_updated") as staff_printer_updated:
        with django_assert_max_num_queries(AGENT_RECONNECT_SESSION):
            services.agent_session_start(token=printer.token, channel_name="agent-2")
        assert not staff_printer_updated.called
        printer.refresh_from_db()
        assert (printer.connected, printer.connection_channel) == (True, "agent-2")

        # After a disconnect the printer comes online again: staff hear of it.
        services.printer_disconnected(printer_id=printer.pk, channel_name="agent-2")
        staff_printer_updated.reset_mock()
        services.agent_session_start(token=printer.token, channel_name="agent-3")
        [(summary,), _] = staff_printer_updated.call_args
        assert (summary["id"], summary["connected"]) == (printer.pk, True)


def test_an_agent_told_connected_by_a_stale_read_still_brings_the_printer_online(printer):
    """Authentication read ``connected`` before the printer was marked offline: the conditional
    update, not that read, decides."""
    with patch("printing.notify.staff_printer_updated") as staff_printer_updated:
        services.printer_connected(printer_id=printer.pk, channel_name="agent-1", was_connected=True)
        [(summary,), _] = staff_printer_updated.call_args
    printer.refresh_from_db()
    assert (printer.connected, printer.connection_channel, summary["connected"]) == (True, "agent-1", True)


@contextmanager
def queries_in_any_thread():
    """SQL statements run by any thread (a consumer's run on the database thread), as a list."""
    statements = []
    execute = CursorWrapper.execute

    def counting(self, sql, params=None):
        statements.append(sql)
        return execute(self, sql, params)

    with patch.object(CursorWrapper, "execute", counting):
        yield statements


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_an_idle_ping_runs_no_query(printer, settings):
    settings.CANTINA_SWEEP_INTERVAL = 60  # the sweep's queries are not the ping's
    communicator = WebsocketCommunicator(application, f"/ws/agent/?token={printer.token}")
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from(timeout=5))["type"] == "welcome"
    await communicator.send_json_to({"type": "printer_info", "printer": {"status": "ready"}})
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"  # connect work done
    with queries_in_any_thread() as statements:
        for _ in range(5):
            await communicator.send_json_to({"type": "ping"})
            assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"
    assert len(statements) <= IDLE_PING, statements
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_wakeups_for_jobs_already_sent_run_no_query(printer, make_order, settings):
    """A burst: the first wake-up's claim takes every waiting job; the wake-ups of the jobs it
    took find them in flight on the connection and cost nothing (issue 16)."""
    settings.CANTINA_SWEEP_INTERVAL = 60  # the sweep's queries are not the wake-ups'
    communicator = WebsocketCommunicator(application, f"/ws/agent/?token={printer.token}")
    assert (await communicator.connect())[0]
    assert (await communicator.receive_json_from(timeout=5))["type"] == "welcome"
    await communicator.send_json_to({"type": "ping"})
    assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"  # connect work done
    with patch("printing.notify.job_wakeup"):  # the burst's wake-ups are sent by hand below
        jobs = [await database_sync_to_async(make_order)() for _ in range(3)]
    job_ids = sorted([await database_sync_to_async(lambda order=order: order.print_jobs.get().pk)() for order in jobs])
    layer = get_channel_layer()
    await layer.group_send(printer_group(printer.pk), {"type": "job.wakeup", "job_id": job_ids[0]})
    sent = [(await communicator.receive_json_from(timeout=5))["order"]["job_id"] for _ in job_ids]
    assert sorted(sent) == job_ids
    with queries_in_any_thread() as statements:
        for job_id in job_ids[1:]:
            await layer.group_send(printer_group(printer.pk), {"type": "job.wakeup", "job_id": job_id})
        await communicator.send_json_to({"type": "ping"})
        assert (await communicator.receive_json_from(timeout=5))["type"] == "pong"  # wake-ups handled
    assert statements == []
    await communicator.disconnect()
