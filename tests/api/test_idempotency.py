"""Idempotency-Key on every POST: a replay returns the first response, concurrent replays create one job."""

import threading

import pytest
from django.db import connection, connections

from api.models import IdempotencyRecord
from orders.models import Order
from printing.models import PrintJob
from tests.api.conftest import DOCUMENT, ApiClient, problem_fields

JOBS = "/api/v1/print-jobs"
BODY = {"printer": "Balcão", "document": DOCUMENT}


@pytest.mark.django_db
def test_a_replay_returns_the_original_response_and_prints_nothing_more(api, printer):
    first = api.post(JOBS, BODY, Idempotency_Key="order-42-ticket")
    PrintJob.objects.update(status="completed")  # whatever happened since

    replay = api.post(JOBS, {"document": DOCUMENT, "printer": "Balcão"}, Idempotency_Key="order-42-ticket")

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()  # the original response, "pending" included
    assert replay["Idempotent-Replayed"] == "true"
    assert PrintJob.objects.count() == 1


@pytest.mark.django_db
def test_a_replay_gets_the_first_answer_even_after_the_printer_was_disabled(api, printer):
    from printing import services

    first = api.post(JOBS, BODY, Idempotency_Key="k1")
    services.printer_set_active(printer=printer, active=False)

    replay = api.post(JOBS, BODY, Idempotency_Key="k1")

    assert (first.status_code, replay.status_code) == (201, 201)
    assert replay.json()["id"] == first.json()["id"]


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_422(api, printer):
    api.post(JOBS, BODY, Idempotency_Key="k1")

    response = api.post(JOBS, {**BODY, "copies": 2}, Idempotency_Key="k1")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert problem_fields(response) == ["Idempotency-Key"]
    assert PrintJob.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_on_another_endpoint_is_422(api, printer):
    api.post(JOBS, BODY, Idempotency_Key="k1")

    response = api.post(
        "/api/v1/orders", {"items": [{"name": "Pão", "quantity": 1, "unit_price": "1"}]}, Idempotency_Key="k1"
    )

    assert response.status_code == 422
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_idempotency_keys_are_per_api_key(make_key, printer):
    first = ApiClient(make_key().key).post(JOBS, BODY, Idempotency_Key="k1")
    second = ApiClient(make_key(name="POS").key).post(JOBS, BODY, Idempotency_Key="k1")

    assert first.json()["id"] != second.json()["id"]


@pytest.mark.django_db
def test_a_refused_request_keeps_nothing_and_can_be_retried_with_the_same_key(api, printer):
    from printing import services

    services.printer_set_active(printer=printer, active=False)
    assert api.post(JOBS, BODY, Idempotency_Key="k1").status_code == 409
    assert not IdempotencyRecord.objects.exists()
    services.printer_set_active(printer=printer, active=True)

    assert api.post(JOBS, BODY, Idempotency_Key="k1").status_code == 201


@pytest.mark.django_db
def test_a_replayed_cancel_answers_like_the_first(api, printer):
    job_id = api.post(JOBS, BODY).json()["id"]

    first = api.post(f"{JOBS}/{job_id}/cancel", Idempotency_Key="cancel-1")
    again = api.post(f"{JOBS}/{job_id}/cancel", Idempotency_Key="cancel-1")

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()


@pytest.mark.django_db(transaction=True)
def test_a_replayed_order_keeps_its_receipts(api, printer):
    body = {"items": [{"name": "Pão", "quantity": 1, "unit_price": "1"}], "confirm": True}
    first = api.post("/api/v1/orders", body, Idempotency_Key="o1")
    again = api.post("/api/v1/orders", body, Idempotency_Key="o1")

    assert again.json() == first.json()
    assert len(again.json()["receipts"]) == 1
    assert Order.objects.count() == 1 and PrintJob.objects.count() == 1


@pytest.mark.django_db
def test_an_empty_or_huge_key_is_refused(api, printer):
    assert api.post(JOBS, BODY, Idempotency_Key=" ").status_code == 400
    assert api.post(JOBS, BODY, Idempotency_Key="k" * 256).status_code == 400
    assert not PrintJob.objects.exists()


# The in-memory SQLite test database locks whole tables between threads: this runs in
# ./dev test's PostgreSQL pass (or with DATABASE_URL=postgres://…).
@pytest.mark.postgresql_only
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_replays_create_one_job(make_key, printer):
    """Twenty requests with one Idempotency-Key in twenty real concurrent transactions: one job."""
    key = make_key().key
    barrier = threading.Barrier(20)
    results = []

    def replay():
        try:
            client = ApiClient(key)
            barrier.wait(timeout=30)
            response = client.post(JOBS, BODY, Idempotency_Key="same-ticket")
            results.append((response.status_code, response.json().get("id"), response.get("Idempotent-Replayed")))
        finally:
            connection.close()

    threads = [threading.Thread(target=replay) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(results) == 20
    assert {status for status, _, _ in results} == {201}
    assert len({job_id for _, job_id, _ in results}) == 1
    assert [replayed for _, _, replayed in results].count(None) == 1  # one ran, nineteen replayed
    assert PrintJob.objects.count() == 1
    connections.close_all()
