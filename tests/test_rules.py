"""Each rule has one home, and what pages show agrees with what services accept."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from orders import services as order_services
from orders.models import MAX_QUANTITY, Order, OrderItem
from printing import services
from printing.models import PrintJob

pytestmark = pytest.mark.django_db

ORDER_ACTIONS = {
    "confirm": order_services.order_confirm,
    "ready": order_services.order_mark_ready,
    "delivered": order_services.order_mark_delivered,
    "cancel": order_services.order_cancel,
}


@pytest.mark.parametrize("status", Order.Status.values)
@pytest.mark.parametrize("action", ORDER_ACTIONS)
def test_order_services_accept_exactly_the_allowed_actions(make_order, status, action):
    order = make_order(status=status)
    allowed = action in order.allowed_actions()
    try:
        ORDER_ACTIONS[action](order_id=order.pk)
    except order_services.OrderError:
        accepted = False
    else:
        accepted = True
    assert accepted == allowed


def test_order_actions_are_the_buttons_shown(client, manager_user, make_order):
    from django.utils import timezone

    order = make_order(status="ready", channel="scheduled", scheduled_for=timezone.now())
    client.force_login(manager_user)  # a manager may do every action the order allows
    html = client.get("/scheduled/?region=orders").content.decode()
    for action in ("delivered", "reprint", "cancel"):
        assert f'data-action="{action}"' in html
    assert 'data-action="confirm"' not in html and 'data-action="ready"' not in html
    assert order.allowed_actions() == ("delivered", "reprint", "cancel")


def test_the_total_is_the_same_annotated_or_not(make_order):
    order = make_order(items=[("Coxinha", 3, "7.25"), ("Suco", 1, "6.00")])
    empty = Order.objects.create(channel="counter")
    annotated = {o.pk: o.total for o in Order.objects.with_total()}
    assert annotated == {order.pk: Decimal("27.75"), empty.pk: Decimal("0.00")}
    assert Order.objects.get(pk=order.pk).total == Decimal("27.75")


def test_quantity_limit_is_the_same_in_the_model_and_the_service(products, make_order):
    order = make_order()
    item = OrderItem(order=order, name="x", quantity=MAX_QUANTITY + 1, unit_price=Decimal("1.00"))
    with pytest.raises(ValidationError, match=str(MAX_QUANTITY)):
        item.full_clean()
    with pytest.raises(order_services.OrderError, match=f" 1 .* {MAX_QUANTITY}\\."):
        order_services.order_create(channel="counter", items=[(products[0].pk, MAX_QUANTITY + 1)])


@pytest.mark.parametrize("kind", ["test_page", "local"])
@pytest.mark.parametrize("status", PrintJob.Status.values)
def test_job_services_accept_exactly_what_the_job_says_it_can_do(make_printer, status, kind):
    printer = make_printer()
    job = PrintJob.objects.create(printer=printer, kind=kind, status=status)
    for can, service in ((job.can_cancel, services.job_cancel), (job.can_retry, services.job_retry)):
        expected = can()
        try:
            service(job_id=job.pk)
        except services.PrintError:
            accepted = False
        else:
            accepted = True
        assert accepted == expected, (service.__name__, status)
        PrintJob.objects.filter(pk=job.pk).update(status=status)


def test_a_failed_local_job_cannot_be_retried_from_the_server(make_printer):
    # Its bytes stayed on the counter PC; only the client that sent them can send them again.
    job = PrintJob.objects.create(printer=make_printer(), kind="local", status="failed")
    assert not job.can_retry()
    with pytest.raises(services.PrintError):
        services.job_retry(job_id=job.pk)


def test_a_disabled_printer_is_named_the_same_way_everywhere(make_printer, make_order):
    printer = make_printer(is_active=False)
    with pytest.raises(services.PrintError, match="“Balcão”") as refused:
        services.job_create_test_page(printer=printer)
    assert str(refused.value) == printer.disabled_message()
    job = PrintJob.objects.create(printer=printer, kind="test_page", status="failed")
    with pytest.raises(services.PrintError) as retried:
        services.job_retry(job_id=job.pk)
    assert str(retried.value) == printer.disabled_message()
