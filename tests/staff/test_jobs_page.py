"""Print jobs: the recent list, a job's history and preview, reprint, retry, cancel."""

import pytest

from printing import services
from printing.models import PrintJob
from tests.staff.conftest import messages_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def kitchen(make_printer):
    return make_printer("Cozinha", paper_width=58)


@pytest.fixture
def job(printer, make_order, committed):
    with committed():
        order = make_order(status="confirmed")
    return PrintJob.objects.get(order=order, printer=printer)


def fail(job, message="Sem papel"):
    PrintJob.objects.filter(pk=job.pk).update(status="failed", error_code="bad_data", error_message=message)


def test_list_shows_recent_jobs_newest_first(staff_client, job, printer, committed):
    with committed():
        test_page = services.job_create_test_page(printer=printer)
    response = staff_client.get("/jobs/")
    assert [listed.pk for listed in response.context["jobs"]] == [test_page.pk, job.pk]
    body = response.content.decode()
    assert f'data-job-badge="{job.pk}"' in body and "Queued" in body


def test_list_filters_by_state_and_printer(staff_client, job, kitchen, printer, make_order, committed):
    with committed():
        other = make_order(status="confirmed")
    kitchen_job = PrintJob.objects.get(order=other, printer=kitchen)
    fail(kitchen_job)

    def listed(query):
        return sorted(j.pk for j in staff_client.get(f"/jobs/?{query}").context["jobs"])

    assert listed("status=failed") == [kitchen_job.pk]
    assert listed(f"printer={printer.pk}") == sorted(
        PrintJob.objects.filter(printer=printer).values_list("pk", flat=True)
    )
    assert listed(f"status=pending&printer={kitchen.pk}") == sorted(
        PrintJob.objects.filter(printer=kitchen, status="pending").values_list("pk", flat=True)
    )
    assert job.pk in listed("status=nonsense")  # a bad filter shows everything rather than an error


def test_detail_shows_history_actions_and_the_receipt_preview(staff_client, job):
    response = staff_client.get(f"/jobs/{job.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "cp-receipt" in body, "the HTML preview rendered from the job's document"
    assert "Pão de queijo" in body
    assert [event.status for event in response.context["job"].events.all()] == ["pending"]
    assert 'data-action="reprint"' in body and 'data-action="cancel"' in body
    assert 'data-action="retry"' not in body


def test_detail_region_renders_without_the_page_around_it(staff_client, job):
    body = staff_client.get(f"/jobs/{job.pk}/?region=job").content.decode()
    assert "<html" not in body and "cp-receipt" not in body
    assert f'data-job-badge="{job.pk}"' in body


def test_missing_job_is_404(staff_client):
    assert staff_client.get("/jobs/999/").status_code == 404
    assert staff_client.post("/jobs/999/retry/").status_code == 404


def test_reprint_queues_a_new_reprint_job(staff_client, job, committed):
    PrintJob.objects.filter(pk=job.pk).update(status="completed")
    with committed():
        response = staff_client.post(f"/jobs/{job.pk}/reprint/")
    reprint = PrintJob.objects.exclude(pk=job.pk).get()
    assert (reprint.kind, reprint.order_id, reprint.printer_id, reprint.status) == (
        "reprint",
        job.order_id,
        job.printer_id,
        "pending",
    )
    assert response["Location"] == f"/jobs/{reprint.pk}/"
    assert messages_of(staff_client.get(response["Location"])) == [f"Reprint queued as job #{reprint.pk}."]


def test_test_page_cannot_be_reprinted(staff_client, printer, committed):
    with committed():
        test_page = services.job_create_test_page(printer=printer)
    response = staff_client.post(f"/jobs/{test_page.pk}/reprint/", follow=True)
    assert messages_of(response) == ["Only order receipts can be reprinted."]
    assert PrintJob.objects.count() == 1


def test_failed_job_is_retried(staff_client, job, committed):
    fail(job)
    with committed():
        response = staff_client.post(f"/jobs/{job.pk}/retry/", follow=True)
    job.refresh_from_db()
    assert (job.status, job.error_message, job.attempts) == ("pending", "", 0)
    assert messages_of(response) == [f"Job #{job.pk} is queued again."]


def test_only_failed_jobs_can_be_retried(staff_client, job):
    response = staff_client.post(f"/jobs/{job.pk}/retry/", follow=True)
    assert messages_of(response) == ["Only failed jobs can be retried."]
    job.refresh_from_db()
    assert job.status == "pending"


def test_pending_job_is_cancelled(staff_client, job, committed):
    with committed():
        response = staff_client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert messages_of(response) == [f"Job #{job.pk} cancelled."]
    assert list(job.events.values_list("status", flat=True)) == ["pending", "cancelled"]


def test_printed_job_cannot_be_cancelled(staff_client, job):
    PrintJob.objects.filter(pk=job.pk).update(status="completed")
    response = staff_client.post(f"/jobs/{job.pk}/cancel/", follow=True)
    assert messages_of(response) == [f"Job #{job.pk} cannot be cancelled: it is printed."]
    job.refresh_from_db()
    assert job.status == "completed"


def test_order_reprint_reprints_on_every_printer_that_printed_it(staff_client, job, kitchen, make_order, committed):
    with committed():
        order = make_order(status="confirmed")
    PrintJob.objects.filter(order=order).update(status="completed")
    with committed():
        response = staff_client.post(f"/orders/{order.pk}/reprint/", follow=True)
    reprints = PrintJob.objects.filter(order=order, kind="reprint")
    assert sorted(reprints.values_list("printer__name", flat=True)) == ["Balcão", "Cozinha"]
    assert messages_of(response) == [f"Order {order.number}: reprint queued on 2 printers."]


def test_order_not_printed_yet_cannot_be_reprinted(staff_client, make_order, printer):
    order = make_order(status="pending")
    response = staff_client.post(f"/orders/{order.pk}/reprint/", follow=True)
    assert messages_of(response) == ["This order has not been printed yet."]


def test_status_endpoint_gives_the_jobs_of_the_orders_and_ids_asked_for(
    staff_client, job, printer, make_order, committed
):
    with committed():
        other = make_order(status="confirmed")
        test_page = services.job_create_test_page(printer=printer)
    data = staff_client.get(f"/jobs/status?order={job.order_id}&job={test_page.pk},x").json()
    assert [(item["id"], item["status"]) for item in data["jobs"]] == [(job.pk, "pending"), (test_page.pk, "pending")]
    assert other.pk not in [item["order_id"] for item in data["jobs"]]
    assert data["jobs"][0]["printer_name"] == "Balcão"
    assert staff_client.get("/jobs/status").json() == {"jobs": []}


def test_status_endpoint_answers_in_a_fixed_number_of_queries(
    staff_client, printer, make_order, django_assert_max_num_queries
):
    order = make_order(status="pending")
    jobs = [PrintJob.objects.create(printer=printer, order=order if n % 2 else None, kind="reprint") for n in range(40)]
    ids = ",".join(str(job.pk) for job in jobs)
    staff_client.get("/jobs/status")  # the session and user are loaded the same way every time
    # Session, user, the account's permissions (its own and its groups', once per request), the two
    # id lookups and ONE summary query, whatever the number of jobs (was one per job).
    with django_assert_max_num_queries(7):
        data = staff_client.get(f"/jobs/status?job={ids}&order={order.pk}").json()
    assert [item["id"] for item in data["jobs"]] == [job.pk for job in jobs]
    assert {item["order_number"] for item in data["jobs"]} == {order.number, None}


def test_reprint_is_refused_while_the_original_still_waits(staff_client, job, make_order, committed):
    """Fix 5: a reprint while the original is queued would print the order twice."""
    response = staff_client.post(f"/jobs/{job.pk}/reprint/", follow=True)
    assert messages_of(response) == [
        f"The original receipt (job #{job.pk}) is still waiting to print: a reprint now would print it twice. "
        "Wait until it is printed or failed."
    ]
    response = staff_client.post(f"/orders/{job.order_id}/reprint/", follow=True)
    assert "still waiting to print" in messages_of(response)[0]
    assert not PrintJob.objects.filter(kind="reprint").exists()
