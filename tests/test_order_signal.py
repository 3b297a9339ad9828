"""Confirming an order creates its print jobs: once per matching printer, only after commit."""

import pytest
from django.db import transaction

from orders.models import Order
from printing.models import PrintJob

pytestmark = pytest.mark.django_db


def test_confirmed_order_creates_one_job_per_auto_printing_printer(
    make_printer, make_order, django_capture_on_commit_callbacks
):
    counter = make_printer("Balcão")
    kitchen = make_printer("Cozinha", paper_width=58)
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(status="confirmed")
    jobs = PrintJob.objects.filter(order=order)
    assert sorted(jobs.values_list("printer__name", flat=True)) == sorted([counter.name, kitchen.name])
    job = jobs.get(printer=counter)
    assert job.kind == PrintJob.Kind.ORDER_RECEIPT
    assert job.status == PrintJob.Status.PENDING
    assert "Pão de queijo" in job.content and "Suco de laranja" in job.content
    assert order.number in job.content
    assert bytes(job.escpos).startswith(b"\x1b@"), "ESC/POS starts by initialising the printer"
    assert list(job.events.values_list("status", flat=True)) == ["pending"]


def test_saving_a_confirmed_order_again_creates_no_more_jobs(
    make_printer, make_order, django_capture_on_commit_callbacks
):
    make_printer()
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(status="confirmed")
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            order.notes = "sem cebola"
            order.save()
    with django_capture_on_commit_callbacks(execute=True):
        order.status = Order.Status.READY
        order.save()
    assert PrintJob.objects.filter(order=order).count() == 1


@pytest.mark.parametrize("status", ["pending", "cancelled"])
def test_unconfirmed_order_creates_no_job(make_printer, make_order, django_capture_on_commit_callbacks, status):
    make_printer()
    with django_capture_on_commit_callbacks(execute=True):
        make_order(status=status)
    assert PrintJob.objects.count() == 0


def test_order_created_directly_as_confirmed_with_only_required_fields_prints(
    make_printer, django_capture_on_commit_callbacks
):
    make_printer()
    with django_capture_on_commit_callbacks(execute=True):
        order = Order.objects.create(customer_name="Bia", channel="counter", status="confirmed")
    assert order.number
    assert PrintJob.objects.filter(order=order).count() == 1


def test_no_job_is_created_before_commit(make_printer, make_order, django_capture_on_commit_callbacks):
    make_printer()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        make_order(status="confirmed")
        assert PrintJob.objects.count() == 0
    # Each save tells the other tablets after commit; only the confirmation queues receipts.
    assert [callback.__name__ for callback in callbacks] == ["order_updated", "queue_receipts", "order_updated"]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_confirmation_creates_no_job(make_printer, make_order):
    make_printer()
    order = make_order(status="pending")

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        with transaction.atomic():
            order.status = Order.Status.CONFIRMED
            order.save()
            raise Abort
    assert PrintJob.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_committed_confirmation_creates_the_job(make_printer, make_order):
    make_printer()
    order = make_order(status="confirmed")
    assert PrintJob.objects.filter(order=order).count() == 1


def test_inactive_printer_and_printer_not_auto_printing_the_channel_get_no_job(
    make_printer, make_order, django_capture_on_commit_callbacks
):
    make_printer("Desligada", is_active=False)
    make_printer("Só agendados", auto_print=["scheduled"])
    counter_only = make_printer("Só balcão", auto_print="counter")
    with django_capture_on_commit_callbacks(execute=True):
        counter_order = make_order(channel="counter")
    assert list(PrintJob.objects.filter(order=counter_order).values_list("printer", flat=True)) == [counter_only.pk]


def test_scheduled_order_prints_on_scheduled_printers(make_printer, make_order, django_capture_on_commit_callbacks):
    make_printer("Só balcão", auto_print=["counter"])
    scheduled = make_printer("Cozinha", auto_print=["scheduled"])
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(channel="scheduled")
    assert list(PrintJob.objects.filter(order=order).values_list("printer", flat=True)) == [scheduled.pk]


def test_job_creation_service_is_idempotent(make_printer, make_order, django_capture_on_commit_callbacks):
    from printing import services

    make_printer()
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(status="confirmed")
    assert services.jobs_create_for_order(order_id=order.pk) == []
    assert PrintJob.objects.filter(order=order).count() == 1


def test_receipt_prints_in_the_canteen_language_whatever_the_staff_language(
    make_printer, make_order, django_capture_on_commit_callbacks, settings
):
    from django.utils import translation

    make_printer()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        order = make_order(status="confirmed", payment_method="cash")
    content = PrintJob.objects.get(order=order).content
    assert "PEDIDO" in content and "Dinheiro" in content
    settings.CANTINA_RECEIPT_LANGUAGE = "en"
    with django_capture_on_commit_callbacks(execute=True):
        english = make_order(status="confirmed", payment_method="cash")
    content = PrintJob.objects.get(order=english).content
    assert "ORDER" in content and "Cash" in content


def test_cancelling_a_confirmed_order_cancels_its_unprinted_receipts(
    make_printer, make_order, django_capture_on_commit_callbacks
):
    make_printer("Balcão")
    make_printer("Cozinha")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(status="confirmed")
    printed, queued = PrintJob.objects.filter(order=order).order_by("id")
    PrintJob.objects.filter(pk=printed.pk).update(status="completed")
    with django_capture_on_commit_callbacks(execute=True):
        order.status = Order.Status.CANCELLED
        order.save()
    statuses = dict(PrintJob.objects.filter(order=order).values_list("pk", "status"))
    assert statuses == {printed.pk: "completed", queued.pk: "cancelled"}


def test_missing_receipts_are_only_looked_for_where_a_printer_prints_the_channel(make_printer, make_order):
    from datetime import timedelta

    from django.utils import timezone

    from printing import services

    make_printer("Só balcão", auto_print=["counter"])
    # Confirmed a minute ago, but the confirming process died before creating receipts.
    counter = make_order(status="confirmed", channel="counter")
    scheduled = make_order(status="confirmed", channel="scheduled")
    PrintJob.objects.all().delete()
    Order.objects.update(confirmed_at=timezone.now() - timedelta(minutes=1))
    created = services.jobs_create_missing()
    assert list(PrintJob.objects.filter(pk__in=created).values_list("order_id", flat=True)) == [counter.pk]
    assert not PrintJob.objects.filter(order=scheduled).exists()
