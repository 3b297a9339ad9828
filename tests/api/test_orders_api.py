"""POST/GET /api/v1/orders: orders through orders.services, printed by the normal signal path."""

from decimal import Decimal

import pytest

from orders.models import Order
from printing.models import PrintJob
from tests.api.conftest import ApiClient, problem_fields

URL = "/api/v1/orders"
ORDER = {
    "external_id": "shop-1001",
    "customer_name": "Ana Pão",
    "channel": "counter",
    "items": [
        {"name": "Pão de queijo", "quantity": 2, "unit_price": "4.50"},
        {"name": "Suco", "quantity": 1, "unit_price": 6},
    ],
    "payment_method": "pix",
    "notes": "sem açúcar",
    "confirm": True,
}


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_order_prints_like_a_counter_sale(api, printer):
    response = api.post(URL, ORDER)

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get()
    assert body["id"] == order.pk and body["number"] == order.number
    assert (body["status"], body["external_id"], body["total"]) == ("confirmed", "shop-1001", "15.00")
    assert [(item["name"], item["quantity"], item["unit_price"]) for item in body["items"]] == [
        ("Pão de queijo", 2, "4.50"),
        ("Suco", 1, "6.00"),
    ]
    assert order.payment_method == "pix" and order.notes == "sem açúcar"
    job = PrintJob.objects.get()
    assert (job.order_id, job.kind, job.printer_id) == (order.pk, "order_receipt", printer.pk)
    assert "Ana Pão" in job.content
    assert body["receipts"] == [
        {
            "id": job.pk,
            "kind": "order_receipt",
            "printer": {"id": printer.pk, "name": "Balcão"},
            "status": "pending",
            "error_code": "",
            "error_message": "",
            "url": f"http://testserver/api/v1/print-jobs/{job.pk}",
        }
    ]
    detail = api.get(f"{URL}/{order.pk}").json()
    assert detail["receipts"][0]["id"] == job.pk
    assert api.get(f"/api/v1/print-jobs/{job.pk}").json()["order_id"] == order.pk


@pytest.mark.django_db(transaction=True)
def test_an_unconfirmed_order_prints_nothing(api, printer):
    response = api.post(URL, {**ORDER, "confirm": False})

    assert response.status_code == 201
    assert response.json()["status"] == "pending"
    assert not PrintJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_external_id_returns_the_first_order(api, printer):
    first = api.post(URL, ORDER)
    again = api.post(URL, {**ORDER, "customer_name": "Someone else"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["customer_name"] == "Ana Pão"
    assert Order.objects.count() == 1 and PrintJob.objects.count() == 1


@pytest.mark.django_db
def test_external_ids_are_per_key(make_key, printer):
    first = ApiClient(make_key().key).post(URL, {**ORDER, "confirm": False})
    second = ApiClient(make_key(name="POS").key).post(URL, {**ORDER, "confirm": False})

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


@pytest.mark.django_db
def test_items_may_be_products(api, printer, products):
    response = api.post(URL, {"items": [{"product": products[2].pk, "quantity": 3}], "confirm": False})

    assert response.status_code == 201, response.content
    assert response.json()["items"] == [
        {"product": products[2].pk, "name": "Coxinha", "quantity": 3, "unit_price": "7.25", "line_total": "21.75"}
    ]
    assert Order.objects.get().items.get().unit_price == Decimal("7.25")


@pytest.mark.django_db
def test_a_scheduled_order_keeps_its_pickup_time(api, printer):
    response = api.post(URL, {**ORDER, "channel": "scheduled", "scheduled_for": "2026-12-01T12:30:00-03:00"})

    assert response.status_code == 201
    assert Order.objects.get().scheduled_for.isoformat() == "2026-12-01T15:30:00+00:00"


@pytest.mark.django_db
def test_orders_of_other_keys_are_not_found(make_key, printer):
    order_id = ApiClient(make_key().key).post(URL, {**ORDER, "confirm": False}).json()["id"]

    response = ApiClient(make_key(name="POS").key).get(f"{URL}/{order_id}")

    assert response.status_code == 404
    assert problem_fields(response) == ["order_id"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"channel": "delivery"}, "channel"),
        ({"channel": "scheduled"}, "scheduled_for"),
        ({"payment_method": "bitcoin"}, "payment_method"),
        ({"items": []}, "items"),
        ({"items": [{"name": "Pão", "quantity": 0, "unit_price": "1.00"}]}, "items.0.quantity"),
        ({"items": [{"name": "Pão", "quantity": 1, "unit_price": "-1"}]}, "items.0.unit_price"),
        ({"items": [{"name": "Pão", "quantity": 1, "unit_price": "abc"}]}, "items.0.unit_price"),
        ({"items": [{"name": "Pão", "quantity": 1}]}, "items.0.unit_price"),
        ({"items": [{"quantity": 1, "unit_price": "1.00"}]}, "items.0.name"),
        ({"items": [{"product": 999, "quantity": 1}]}, "items"),
        ({"items": [{"name": "Pão", "quantity": 1, "unit_price": "1", "colour": "red"}]}, "items.0.colour"),
        ({"confirm": "yes"}, "confirm"),
        ({"scheduled_for": "tomorrow"}, "scheduled_for"),
        ({"customer": "Ana"}, "customer"),
        ({"customer_name": "Ana\u0000"}, "customer_name"),
        ({"items": [{"name": "P\u0000", "quantity": 1, "unit_price": "1"}]}, "items.0.name"),
    ],
)
def test_bad_orders_are_refused_naming_the_field_and_create_nothing(api, printer, change, field):
    response = api.post(URL, {**ORDER, **change})

    assert response.status_code == 422, response.content
    assert field in problem_fields(response)
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("error", ["OperationalError", "InterfaceError"])
def test_a_database_outage_is_a_503_to_retry_not_a_500(api, printer, monkeypatch, error):
    """Found by fault scenario r2-3 (PostgreSQL restarting): the API answered 500. Now a 503 with
    Retry-After, like the pages; nothing was saved, and the retry with the same key succeeds."""
    from django import db

    from orders import services as order_services

    real_create = order_services.order_create

    def database_gone(**kwargs):
        raise getattr(db, error)("server closed the connection unexpectedly")

    monkeypatch.setattr(order_services, "order_create", database_gone)
    response = api.post(URL, ORDER, **{"Idempotency-Key": "outage-1"})
    assert response.status_code == 503, response.content
    assert response["Retry-After"] and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "database_unavailable"
    assert Order.objects.count() == 0

    monkeypatch.setattr(order_services, "order_create", real_create)
    retried = api.post(URL, ORDER, **{"Idempotency-Key": "outage-1"})
    assert retried.status_code == 201, retried.content
    assert Order.objects.count() == 1
