"""Scheduled orders (Agendados): the day's list, phone orders, confirm, ready, delivered, cancel."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from orders.models import Order
from printing.models import PrintJob
from tests.staff.conftest import messages_of

pytestmark = pytest.mark.django_db


def at(day, hour, minute=0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@pytest.fixture
def tomorrow():
    return timezone.localdate() + timedelta(days=1)


def phone_order(products, day, **fields):
    return {
        "product": [str(products[0].pk), str(products[1].pk)],
        "quantity": ["2", "1"],
        "customer_name": "Carla (3º ano)",
        "pickup_day": day.isoformat(),
        "pickup_time": "12:30",
        "notes": "sem cebola",
        **fields,
    }


def test_day_list_shows_that_days_scheduled_orders_grouped_by_pickup_time(staff_client, make_order, tomorrow):
    late = make_order(channel="scheduled", status="pending", customer_name="Late", scheduled_for=at(tomorrow, 12, 30))
    early = make_order(channel="scheduled", status="pending", customer_name="Early", scheduled_for=at(tomorrow, 10))
    early_too = make_order(
        channel="scheduled", status="pending", customer_name="Early too", scheduled_for=at(tomorrow, 10)
    )
    make_order(
        channel="scheduled",
        status="pending",
        customer_name="Other day",
        scheduled_for=at(tomorrow + timedelta(days=1), 10),
    )
    make_order(channel="counter", status="pending", customer_name="Walk-in", scheduled_for=at(tomorrow, 10))

    response = staff_client.get(f"/scheduled/?day={tomorrow.isoformat()}")
    assert response.status_code == 200
    groups = [(hour, [order.customer_name for order in orders]) for hour, orders in response.context["groups"]]
    assert groups == [("10:00", ["Early", "Early too"]), ("12:30", ["Late"])]
    body = response.content.decode()
    for order in (late, early, early_too):
        assert f'data-order-jobs="{order.pk}"' in body
    assert "Other day" not in body and "Walk-in" not in body


def test_day_list_defaults_to_today(staff_client, make_order):
    today = timezone.localdate()
    make_order(channel="scheduled", status="pending", customer_name="Today", scheduled_for=at(today, 23, 59))
    response = staff_client.get("/scheduled/?day=not-a-date")
    assert response.context["day"] == today
    assert "Today" in response.content.decode()


def test_pickup_times_are_shown_in_sao_paulo_time(staff_client, make_order, tomorrow):
    from zoneinfo import ZoneInfo

    utc_noon = datetime.combine(tomorrow, time(15, 0), tzinfo=ZoneInfo("UTC"))
    make_order(channel="scheduled", status="pending", scheduled_for=utc_noon)
    response = staff_client.get(f"/scheduled/?day={tomorrow.isoformat()}")
    assert [hour for hour, _ in response.context["groups"]] == ["12:00"]


def test_phone_order_is_created_pending_and_does_not_print(staff_client, products, printer, committed, tomorrow):
    with committed():
        response = staff_client.post("/scheduled/new/", phone_order(products, tomorrow))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/scheduled/?day={tomorrow.isoformat()}"
    assert (order.channel, order.status, order.customer_name, order.notes) == (
        "scheduled",
        "pending",
        "Carla (3º ano)",
        "sem cebola",
    )
    assert timezone.localtime(order.scheduled_for) == at(tomorrow, 12, 30)
    assert not PrintJob.objects.exists()
    assert messages_of(staff_client.get(response["Location"])) == [
        f"Scheduled order {order.number} created. Confirm it to print."
    ]


def test_phone_order_confirmed_at_once_prints(staff_client, products, printer, committed, tomorrow):
    with committed():
        staff_client.post("/scheduled/new/", phone_order(products, tomorrow, confirm_now="on"))
    order = Order.objects.get()
    assert order.status == "confirmed"
    assert PrintJob.objects.filter(order=order, printer=printer).count() == 1


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("customer_name", "", "This field is required."),
        ("pickup_time", "", "This field is required."),
        ("pickup_time", "25:00", "Enter a valid time."),
        ("pickup_day", "2001-01-01", "The pickup day is in the past."),
    ],
)
def test_phone_order_with_a_bad_field_is_refused(staff_client, products, tomorrow, field, value, error):
    response = staff_client.post("/scheduled/new/", phone_order(products, tomorrow, **{field: value}))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert not Order.objects.exists()


def test_phone_order_with_an_empty_cart_is_refused(staff_client, products, tomorrow):
    response = staff_client.post("/scheduled/new/", phone_order(products, tomorrow, product=[], quantity=[]))
    assert response.context["form"].non_field_errors() == ["The order is empty: add at least one product."]
    assert not Order.objects.exists()


def test_new_order_form_starts_on_the_day_being_viewed(staff_client, products, tomorrow):
    response = staff_client.get(f"/scheduled/new/?day={tomorrow.isoformat()}")
    assert response.context["form"]["pickup_day"].value() == tomorrow


@pytest.fixture
def pending_order(make_order, tomorrow):
    return make_order(channel="scheduled", status="pending", scheduled_for=at(tomorrow, 11))


def test_confirming_a_scheduled_order_prints_it(staff_client, pending_order, printer, committed, tomorrow):
    page = f"/scheduled/?day={tomorrow.isoformat()}"
    with committed():
        response = staff_client.post(f"/orders/{pending_order.pk}/confirm/", {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    pending_order.refresh_from_db()
    assert pending_order.status == "confirmed"
    assert PrintJob.objects.filter(order=pending_order).count() == 1
    assert messages_of(staff_client.get(page)) == [f"Order {pending_order.number} confirmed."]


def test_confirming_twice_is_refused_with_a_message(staff_client, pending_order, printer, committed):
    with committed():
        staff_client.post(f"/orders/{pending_order.pk}/confirm/")
        response = staff_client.post(f"/orders/{pending_order.pk}/confirm/", follow=True)
    assert messages_of(response)[-1:] == [f"Order {pending_order.number} is already confirmed."]
    assert PrintJob.objects.filter(order=pending_order).count() == 1


def test_confirming_a_cancelled_order_is_refused(staff_client, pending_order, printer, committed):
    staff_client.post(f"/orders/{pending_order.pk}/cancel/")
    with committed():
        response = staff_client.post(f"/orders/{pending_order.pk}/confirm/", follow=True)
    assert messages_of(response)[-1:] == [f"Order {pending_order.number} is cancelled: it cannot change any more."]
    pending_order.refresh_from_db()
    assert pending_order.status == "cancelled"
    assert not PrintJob.objects.exists()


def test_order_is_marked_ready_then_delivered(staff_client, pending_order):
    staff_client.post(f"/orders/{pending_order.pk}/confirm/")
    response = staff_client.post(f"/orders/{pending_order.pk}/ready/", follow=True)
    assert messages_of(response)[-1:] == [f"Order {pending_order.number} is ready for pickup."]
    response = staff_client.post(f"/orders/{pending_order.pk}/delivered/", follow=True)
    assert messages_of(response)[-1:] == [f"Order {pending_order.number} delivered."]
    pending_order.refresh_from_db()
    assert pending_order.status == "delivered"


def test_pending_order_cannot_be_marked_ready(staff_client, pending_order):
    response = staff_client.post(f"/orders/{pending_order.pk}/ready/", follow=True)
    assert messages_of(response) == [f"Order {pending_order.number} is not confirmed yet: confirm it first."]
    pending_order.refresh_from_db()
    assert pending_order.status == "pending"


def test_order_is_cancelled(staff_client, pending_order):
    response = staff_client.post(f"/orders/{pending_order.pk}/cancel/", follow=True)
    assert messages_of(response) == [f"Order {pending_order.number} cancelled."]
    pending_order.refresh_from_db()
    assert pending_order.status == "cancelled"


def test_delivered_order_cannot_be_cancelled(staff_client, pending_order):
    for step in ("confirm", "delivered"):
        staff_client.post(f"/orders/{pending_order.pk}/{step}/")
    response = staff_client.post(f"/orders/{pending_order.pk}/cancel/", follow=True)
    assert messages_of(response)[-1:] == [
        f"Order {pending_order.number} has already been delivered: it cannot change any more."
    ]


def test_actions_go_back_to_the_days_page_and_never_off_site(staff_client, pending_order, tomorrow):
    response = staff_client.post(f"/orders/{pending_order.pk}/cancel/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/scheduled/?day={tomorrow.isoformat()}"


def test_action_on_a_missing_order_is_404(staff_client):
    assert staff_client.post("/orders/999/confirm/").status_code == 404


def test_actions_need_post(staff_client, pending_order):
    assert staff_client.get(f"/orders/{pending_order.pk}/confirm/").status_code == 405
    pending_order.refresh_from_db()
    assert pending_order.status == "pending"


def test_each_order_shows_only_the_actions_its_state_allows(staff_client, pending_order, tomorrow):
    def actions():
        body = staff_client.get(f"/scheduled/?day={tomorrow.isoformat()}").content.decode()
        return sorted(set(re.findall(r'data-action="([a-z-]+)"', body)))

    assert actions() == ["cancel", "confirm", "edit"]  # a pending order can still be edited
    staff_client.post(f"/orders/{pending_order.pk}/confirm/")
    assert actions() == ["cancel", "delivered", "ready", "reprint"]
    staff_client.post(f"/orders/{pending_order.pk}/delivered/")
    assert actions() == []


def test_day_list_region_renders_without_the_page_and_its_actions_come_back_to_the_page(
    staff_client, pending_order, tomorrow
):
    body = staff_client.get(f"/scheduled/?day={tomorrow.isoformat()}&region=orders").content.decode()
    assert "<html" not in body
    assert f'data-order-jobs="{pending_order.pk}"' in body
    assert f'name="next" value="/scheduled/?day={tomorrow.isoformat()}"' in body
    assert "region=" not in body
