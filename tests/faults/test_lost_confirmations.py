"""A confirmation cut short: the order committed ``confirmed``, its receipts never created.

Receipts are created after the confirmation commits (delivery rule 1), so a process killed in
between (tests/faults/test_driver_kill.py does it for real) leaves an order that would never print,
with nothing for staff to see. Every server process's sweep repairs recent ones with
``services.jobs_create_missing()``; an order's receipts are created all together or not at all,
so "no receipt at all" is exactly what a cut-short confirmation looks like.

Here pytest-django's transaction never commits, so the receiver's on_commit never runs: each
confirmed order is in the state such a crash leaves.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from printing import services
from printing.models import PrintJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def printers(make_printer):
    return {
        "Balcão": make_printer("Balcão", auto_print=["counter"]),
        "Cozinha": make_printer("Cozinha", auto_print=["counter", "scheduled"]),
        "Retirada": make_printer("Retirada", auto_print=["scheduled"]),
    }


@pytest.fixture
def cut_short(make_order):
    def confirm(seconds_ago=60, **fields):
        order = make_order(**fields)
        assert not PrintJob.objects.filter(order=order).exists()
        Order.objects.filter(pk=order.pk).update(confirmed_at=timezone.now() - timedelta(seconds=seconds_ago))
        return order

    return confirm


def receipts(order):
    return sorted(PrintJob.objects.filter(order=order, kind="order_receipt").values_list("printer__name", "status"))


def test_an_order_confirmed_without_receipts_gets_them(printers, cut_short):
    counter, scheduled = cut_short(channel="counter"), cut_short(channel="scheduled", customer_name="Bia")

    created = services.jobs_create_missing()

    assert len(created) == 4
    assert receipts(counter) == [("Balcão", "pending"), ("Cozinha", "pending")]
    assert receipts(scheduled) == [("Cozinha", "pending"), ("Retirada", "pending")]
    assert services.jobs_create_missing() == []


def test_a_confirmation_still_under_way_is_left_to_finish(printers, cut_short):
    order = cut_short(seconds_ago=2)
    assert services.jobs_create_missing() == []
    assert receipts(order) == []


def test_an_old_confirmation_is_not_printed_now(printers, cut_short):
    order = cut_short(seconds_ago=31 * 60)
    assert services.jobs_create_missing() == []
    assert receipts(order) == []


def test_an_order_with_its_receipts_gets_none_on_a_printer_enabled_later(printers, cut_short, make_printer):
    order = cut_short()
    services.jobs_create_for_order(order_id=order.pk)
    make_printer("Nova", auto_print=["counter"])

    assert services.jobs_create_missing() == []
    assert [name for name, _ in receipts(order)] == ["Balcão", "Cozinha"]


@pytest.mark.parametrize("status", ["pending", "cancelled"])
def test_pending_and_cancelled_orders_get_no_receipt(printers, cut_short, status):
    order = cut_short()
    Order.objects.filter(pk=order.pk).update(status=status)
    assert services.jobs_create_missing() == []


def test_an_orders_receipts_are_created_all_together_or_not_at_all(printers, cut_short, monkeypatch):
    order = cut_short()
    render = services._order_document
    calls = []

    def crash_on_the_second_printer(job, order, lines, *, reprint):
        calls.append(job.printer.name)
        if len(calls) == 2:
            raise RuntimeError("the process died here")
        return render(job, order, lines, reprint=reprint)

    monkeypatch.setattr(services, "_order_document", crash_on_the_second_printer)
    with pytest.raises(RuntimeError):
        services.jobs_create_for_order(order_id=order.pk)
    assert receipts(order) == []  # not Balcão alone: the order would look served

    monkeypatch.setattr(services, "_order_document", render)
    assert len(services.jobs_create_missing()) == 2
