"""orders.services: creating orders and moving them through their states."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders import services
from orders.models import Order
from orders.services import OrderError
from printing.models import PrintJob

pytestmark = pytest.mark.django_db


def test_order_create_snapshots_names_and_prices(products):
    bread, juice, _ = products
    order = services.order_create(channel="counter", items=[(bread.pk, 2), (juice.pk, 1)], customer_name=" Ana ")
    bread.name, bread.price = "Pão de queijo grande", Decimal("9.99")
    bread.save()
    items = list(order.items.values_list("name", "quantity", "unit_price"))
    assert items == [("Pão de queijo", 2, Decimal("4.50")), ("Suco de laranja", 1, Decimal("6.00"))]
    assert order.total == Decimal("15.00")
    assert order.status == Order.Status.PENDING
    assert order.customer_name == "Ana"
    assert order.number


def test_order_create_adds_up_lines_of_the_same_product(products):
    bread = products[0]
    order = services.order_create(channel="counter", items=[(bread.pk, 2), (bread.pk, 3)])
    assert list(order.items.values_list("quantity", flat=True)) == [5]


def test_confirmed_order_prints_after_commit_with_its_items(products, make_printer, django_capture_on_commit_callbacks):
    make_printer("Balcão")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_create(channel="counter", items=[(products[0].pk, 2)], confirm=True)
    assert order.status == Order.Status.CONFIRMED
    assert order.confirmed_at is not None
    job = PrintJob.objects.get(order=order)
    assert "Pão de queijo" in job.content


def test_pending_order_does_not_print(products, make_printer, django_capture_on_commit_callbacks):
    make_printer("Balcão")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_create(channel="counter", items=[(products[0].pk, 1)])
    assert not PrintJob.objects.exists()


@pytest.mark.parametrize("items", [[], None])
def test_empty_order_is_refused(items):
    with pytest.raises(OrderError, match="empty") as refused:
        services.order_create(channel="counter", items=items)
    assert refused.value.code == "empty"
    assert not Order.objects.exists()


def test_inactive_product_is_refused_by_name(products):
    products[2].is_active = False
    products[2].save()
    with pytest.raises(OrderError, match="“Coxinha” is no longer for sale") as refused:
        services.order_create(channel="counter", items=[(products[0].pk, 1), (products[2].pk, 1)])
    assert refused.value.code == "inactive_product"
    assert not Order.objects.exists()


def test_unknown_product_is_refused():
    with pytest.raises(OrderError, match="Product #999 does not exist"):
        services.order_create(channel="counter", items=[(999, 1)])


@pytest.mark.parametrize("quantity", [0, -1, 100, 1000])
def test_quantity_out_of_range_is_refused(products, quantity):
    with pytest.raises(OrderError, match="between 1 and 99") as refused:
        services.order_create(channel="counter", items=[(products[0].pk, quantity)])
    assert refused.value.code == "bad_quantity"
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", [1, 99])
def test_quantity_limits_are_accepted(products, quantity):
    order = services.order_create(channel="counter", items=[(products[0].pk, quantity)])
    assert order.items.get().quantity == quantity


def test_scheduled_order_needs_a_pickup_time(products):
    with pytest.raises(OrderError, match="pickup time"):
        services.order_create(channel="scheduled", items=[(products[0].pk, 1)])


def test_unknown_channel_and_payment_method_are_refused(products):
    with pytest.raises(OrderError, match="Unknown channel"):
        services.order_create(channel="drive-thru", items=[(products[0].pk, 1)])
    with pytest.raises(OrderError, match="Unknown payment method"):
        services.order_create(channel="counter", items=[(products[0].pk, 1)], payment_method="bitcoin")


def scheduled_order(products, **options):
    return services.order_create(
        channel="scheduled",
        items=[(products[0].pk, 1)],
        customer_name="Bia",
        scheduled_for=timezone.now() + timedelta(hours=2),
        **options,
    )


def test_order_walks_from_pending_to_delivered(products, staff_user):
    order = scheduled_order(products)
    assert services.order_confirm(order_id=order.pk, user=staff_user).status == "confirmed"
    assert services.order_mark_ready(order_id=order.pk, user=staff_user).status == "ready"
    assert services.order_mark_delivered(order_id=order.pk, user=staff_user).status == "delivered"
    order.refresh_from_db()
    assert order.status == "delivered"


def test_confirming_twice_is_refused_and_prints_once(products, make_printer, django_capture_on_commit_callbacks):
    make_printer("Balcão")
    order = scheduled_order(products)
    with django_capture_on_commit_callbacks(execute=True):
        services.order_confirm(order_id=order.pk)
    with pytest.raises(OrderError, match=f"Order {order.number} is already confirmed"):
        services.order_confirm(order_id=order.pk)
    assert PrintJob.objects.filter(order=order).count() == 1


def test_cancelled_order_cannot_be_confirmed(products, make_printer, django_capture_on_commit_callbacks):
    make_printer("Balcão")
    order = scheduled_order(products)
    services.order_cancel(order_id=order.pk)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(OrderError, match="is cancelled"):
        services.order_confirm(order_id=order.pk)
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert not PrintJob.objects.exists()


def test_pending_order_cannot_be_marked_ready_or_delivered(products):
    order = scheduled_order(products)
    for action in (services.order_mark_ready, services.order_mark_delivered):
        with pytest.raises(OrderError, match="not confirmed yet"):
            action(order_id=order.pk)


def test_delivered_order_cannot_be_cancelled(products):
    order = scheduled_order(products, confirm=True)
    services.order_mark_delivered(order_id=order.pk)
    with pytest.raises(OrderError, match="already been delivered"):
        services.order_cancel(order_id=order.pk)


def test_transition_of_a_missing_order_is_refused():
    with pytest.raises(OrderError, match="Order not found"):
        services.order_confirm(order_id=12345)


def test_orders_never_import_printing():
    import ast
    from pathlib import Path

    package = Path(services.__file__).parent
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(name.split(".")[0] == "printing" for name in names), f"{source} imports printing"
