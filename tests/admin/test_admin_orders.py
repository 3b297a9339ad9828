"""Order admin: items inline, confirming prints the receipt with those items, print jobs shown."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from orders.models import Order
from printing.models import PrintJob
from tests.admin.helpers import ORDERS_URL, messages_of, post_action


def order_form(**fields):
    data = {
        "customer_name": "Bia",
        "channel": "counter",
        "status": "pending",
        "payment_method": "",
        "scheduled_for_0": "",
        "scheduled_for_1": "",
        "notes": "",
        "items-TOTAL_FORMS": 0,
        "items-INITIAL_FORMS": 0,
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
        "print_jobs-TOTAL_FORMS": 0,
        "print_jobs-INITIAL_FORMS": 0,
        "print_jobs-MIN_NUM_FORMS": 0,
        "print_jobs-MAX_NUM_FORMS": 0,
    }
    data.update(fields)
    return data


def item_rows(*rows, start=0):
    data = {}
    for index, row in enumerate(rows, start):
        for key, value in row.items():
            data[f"items-{index}-{key}"] = value
    return data


@pytest.fixture
def logged_in_manager(client, db):
    user = get_user_model().objects.create_superuser("marta", "marta@example.com", "marta-pass-123")
    client.force_login(user)
    return client


# transaction=True: the admin view's transaction really commits, and the on_commit receiver runs
# exactly then, as in production. A receipt built before the inline items were saved would miss them.
@pytest.mark.django_db(transaction=True)
def test_adding_a_confirmed_order_prints_a_receipt_with_the_inline_items(logged_in_manager, make_printer, products):
    make_printer("Balcão")
    pao = products[0]
    data = order_form(
        status="confirmed",
        **{"items-TOTAL_FORMS": 2},
        **item_rows(
            {"product": pao.pk, "quantity": 3, "name": "", "unit_price": ""},
            {"product": "", "quantity": 1, "name": "Bolo de fubá", "unit_price": "5.00"},
        ),
    )

    response = logged_in_manager.post(reverse("admin:orders_order_add"), data)

    assert response.status_code == 302, response.context and response.context["adminform"].errors
    order = Order.objects.get()
    assert list(order.items.values_list("name", "quantity", "unit_price")) == [
        ("Pão de queijo", 3, pao.price),
        ("Bolo de fubá", 1, 5),
    ]
    job = PrintJob.objects.get(order=order)
    assert "Pão de queijo" in job.content and "Bolo de fubá" in job.content
    assert "R$ 18,50" in job.content


@pytest.mark.django_db(transaction=True)
def test_confirming_an_order_while_adding_an_item_prints_all_its_items(logged_in_manager, make_printer, make_order):
    make_printer("Balcão")
    order = make_order(status="pending", items=[("Coxinha", 2, "7.25")])
    item = order.items.get()
    data = order_form(
        status="confirmed",
        **{"items-TOTAL_FORMS": 2, "items-INITIAL_FORMS": 1},
        **item_rows(
            {"id": item.pk, "order": order.pk, "product": "", "quantity": 2, "name": "Coxinha", "unit_price": "7.25"},
            {"product": "", "quantity": 1, "name": "Suco de uva", "unit_price": "6.00"},
        ),
    )

    response = logged_in_manager.post(reverse("admin:orders_order_change", args=[order.pk]), data)

    assert response.status_code == 302
    job = PrintJob.objects.get(order=order)
    assert "Coxinha" in job.content and "Suco de uva" in job.content and "R$ 20,50" in job.content


@pytest.mark.django_db
def test_an_item_needs_a_product_or_a_name_and_price(logged_in_manager):
    data = order_form(
        **{"items-TOTAL_FORMS": 1}, **item_rows({"product": "", "quantity": 2, "name": "", "unit_price": ""})
    )

    response = logged_in_manager.post(reverse("admin:orders_order_add"), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose a product or type the item&#x27;s name." in html
    assert "Choose a product or type the unit price." in html
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_order_page_shows_its_print_jobs(
    logged_in_manager, make_printer, make_order, django_capture_on_commit_callbacks
):
    make_printer("Balcão")
    make_printer("Cozinha")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order()

    response = logged_in_manager.get(reverse("admin:orders_order_change", args=[order.pk]))

    html = response.content.decode()
    jobs = PrintJob.objects.filter(order=order)
    assert jobs.count() == 2
    for job in jobs:
        assert reverse("admin:printing_printjob_change", args=[job.pk]) in html
    assert html.count('cantina-badge--info">Queued<') == 2


@pytest.mark.django_db
def test_order_list_shows_totals_and_print_state_in_a_fixed_number_of_queries(
    logged_in_manager, make_printer, make_order, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    make_printer("Balcão")
    with django_capture_on_commit_callbacks(execute=True):
        first = make_order()
    logged_in_manager.get(ORDERS_URL)
    with django_assert_max_num_queries(20) as baseline:
        logged_in_manager.get(ORDERS_URL)
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(8):
            make_order(items=[("Coxinha", 2, "7.25")])
    PrintJob.objects.filter(order=first).update(status="completed")

    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = logged_in_manager.get(ORDERS_URL)

    rows = {order.pk: order for order in response.context["cl"].result_list}
    assert len(rows) == 9
    assert rows[first.pk].total == 15 and rows[first.pk].jobs_printed == 1
    html = response.content.decode()
    assert html.count('cantina-badge--ok">printed<') == 1
    assert html.count('cantina-badge--info">0 of 1 printed<') == 8


@pytest.mark.django_db
def test_reprint_receipts_action_reprints_printed_orders_only(
    logged_in_manager, make_printer, make_order, django_capture_on_commit_callbacks
):
    make_printer("Balcão")
    with django_capture_on_commit_callbacks(execute=True):
        printed = make_order()
        unprinted = make_order(status="pending")

    response = post_action(logged_in_manager, ORDERS_URL, "reprint_receipts", [printed, unprinted])

    reprint = PrintJob.objects.get(kind=PrintJob.Kind.REPRINT)
    assert reprint.order == printed
    assert set(messages_of(response)) == {
        f"Order #{printed.number}: reprint queued (job #{reprint.pk}).",
        f"Order #{unprinted.number}: This order has not been printed yet.",
    }


@pytest.mark.django_db
def test_staff_without_order_permissions_cannot_reprint(
    staff_client, make_printer, make_order, django_capture_on_commit_callbacks
):
    make_printer("Balcão")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order()

    response = staff_client.post(ORDERS_URL, {"action": "reprint_receipts", "_selected_action": [order.pk]})

    assert response.status_code == 403
    assert not PrintJob.objects.filter(kind=PrintJob.Kind.REPRINT).exists()


@pytest.mark.django_db
def test_confirm_action_confirms_through_the_service_and_prints(
    logged_in_manager, make_printer, make_order, django_capture_on_commit_callbacks
):
    make_printer("Balcão")
    pending = make_order(status="pending")
    cancelled = make_order(status="cancelled")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(logged_in_manager, ORDERS_URL, "confirm_orders", [pending, cancelled])

    pending.refresh_from_db()
    assert pending.status == "confirmed"
    assert PrintJob.objects.filter(order=pending).count() == 1
    assert not PrintJob.objects.filter(order=cancelled).exists()
    assert messages_of(response) == [
        f"Order {pending.number} confirmed.",
        f"Order {cancelled.number} is cancelled: it cannot change any more.",
    ]


@pytest.mark.django_db
def test_cancel_action_cancels_through_the_service(logged_in_manager, make_order):
    order = make_order(status="pending")

    response = post_action(logged_in_manager, ORDERS_URL, "cancel_orders", [order])

    order.refresh_from_db()
    assert order.status == "cancelled"
    assert messages_of(response) == [f"Order {order.number} cancelled."]


def test_changing_the_items_of_a_printed_order_asks_for_a_reprint(
    logged_in_manager, make_printer, make_order, django_capture_on_commit_callbacks
):
    """Issue 17: a confirmed order's items cannot change silently: a visible "reimprimir" prompt."""
    make_printer("Balcão")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(status="confirmed", items=[("Coxinha", 2, "7.25")])
    item = order.items.get()
    data = order_form(
        status="confirmed",
        **{"items-TOTAL_FORMS": 1, "items-INITIAL_FORMS": 1},
        **item_rows(
            {"id": item.pk, "order": order.pk, "product": "", "quantity": 3, "name": "Coxinha", "unit_price": "7.25"}
        ),
    )
    response = logged_in_manager.post(reverse("admin:orders_order_change", args=[order.pk]), data, follow=True)
    warnings = [m for m in messages_of(response) if "reprint" in m.lower() or "reimprim" in m.lower()]
    assert len(warnings) == 1 and f"#{order.number}" in warnings[0]

    # Only the notes changed: the paper still matches, no prompt.
    data = order_form(
        status="confirmed",
        notes="troco para 50",
        **{"items-TOTAL_FORMS": 1, "items-INITIAL_FORMS": 1},
        **item_rows(
            {"id": item.pk, "order": order.pk, "product": "", "quantity": 3, "name": "Coxinha", "unit_price": "7.25"}
        ),
    )
    response = logged_in_manager.post(reverse("admin:orders_order_change", args=[order.pk]), data, follow=True)
    assert not [m for m in messages_of(response) if "reimprim" in m.lower() or "reprint" in m.lower()]
