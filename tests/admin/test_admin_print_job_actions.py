"""Print job admin: filters, search, history, preview, and retry / cancel / reprint through the services."""

import pytest
from django.urls import reverse

from cantina.timeutils import today_bounds
from printing.models import PrintJob
from tests.admin.helpers import JOBS_URL, messages_of, post_action

pytestmark = pytest.mark.django_db


def change_url(job):
    return reverse("admin:printing_printjob_change", args=[job.pk])


@pytest.fixture
def printer(make_printer):
    return make_printer("Balcão")


@pytest.fixture
def order_job(make_printer, make_order, django_capture_on_commit_callbacks):
    make_printer("Balcão")
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(customer_name="Joana <b>Silva</b>")
    return PrintJob.objects.get(order=order)


def history_form(job):
    """The management form of the read-only history inline, as the browser posts it."""
    events = job.events.count()
    return {
        "events-TOTAL_FORMS": events,
        "events-INITIAL_FORMS": events,
        "events-MIN_NUM_FORMS": 0,
        "events-MAX_NUM_FORMS": 1000,
    }


def listed(response):
    return sorted(job.pk for job in response.context["cl"].result_list)


# --- finding jobs --------------------------------------------------------------------------


def test_jobs_can_be_filtered_by_status_printer_kind_and_date(manager_client, make_printer, make_job):
    balcao, cozinha = make_printer("Balcão"), make_printer("Cozinha")
    failed = make_job(balcao, "failed")
    completed = make_job(cozinha, "completed")
    pending = make_job(balcao, "pending")

    assert listed(manager_client.get(JOBS_URL, {"status__exact": "failed"})) == [failed.pk]
    assert listed(manager_client.get(JOBS_URL, {"printer__id__exact": cozinha.pk})) == [completed.pk]
    assert listed(manager_client.get(JOBS_URL, {"kind__exact": "test_page"})) == sorted(
        [failed.pk, completed.pk, pending.pk]
    )
    assert listed(manager_client.get(JOBS_URL, {"kind__exact": "reprint"})) == []
    start, end = today_bounds()
    assert len(listed(manager_client.get(JOBS_URL, {"created_at__gte": str(start), "created_at__lt": str(end)}))) == 3
    assert listed(manager_client.get(JOBS_URL, {"created_at__gte": str(end)})) == []
    assert listed(manager_client.get(JOBS_URL, {"status__in": "pending,sent,printing"})) == [pending.pk]


def test_jobs_can_be_searched_by_order_number_customer_or_job_id(manager_client, order_job, make_job, make_printer):
    other = make_job(make_printer("Cozinha"), "completed")

    assert listed(manager_client.get(JOBS_URL, {"q": "joana"})) == [order_job.pk]
    assert listed(manager_client.get(JOBS_URL, {"q": order_job.order.number})) == [order_job.pk]
    assert listed(manager_client.get(JOBS_URL, {"q": f"#{other.pk}"})) == [other.pk]
    assert listed(manager_client.get(JOBS_URL, {"q": "nobody"})) == []


def test_job_page_shows_its_history_and_an_escaped_receipt_preview(manager_client, order_job):
    with_history = order_job

    response = manager_client.get(change_url(with_history))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="cantina-receipt-preview"' in html
    assert "Joana &lt;b&gt;Silva&lt;/b&gt;" in html and "<b>Silva</b>" not in html
    assert "Queued" in html  # the pending event of the history inline
    inline = response.context["inline_admin_formsets"][0]
    assert [form.original.status for form in inline] == ["pending"]
    assert not inline.has_add_permission and not inline.has_delete_permission


def test_state_machine_fields_are_read_only(manager_client, make_job, printer):
    job = make_job(printer, "completed")

    response = manager_client.post(
        change_url(job), {"status": "pending", "attempts": 9, "priority": 1, "content": "x", **history_form(job)}
    )

    job.refresh_from_db()
    assert (job.status, job.attempts, job.priority) == ("completed", 0, 5)
    assert response.status_code == 302


def test_a_queued_job_priority_can_change_through_the_service(manager_client, make_job, printer, caplog):
    job = make_job(printer, "pending")

    with caplog.at_level("INFO", logger="cantina.printing"):
        response = manager_client.post(change_url(job), {"priority": 1, "status": "failed", **history_form(job)})

    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.priority, job.status) == (1, "pending")
    assert f"job={job.pk} printer={printer.pk} priority=1 user=marta" in caplog.messages


def test_priority_cannot_change_once_the_job_left_the_queue(manager_client, make_job, printer):
    job = make_job(printer, "pending")
    form_page = manager_client.get(change_url(job))
    assert 'name="priority"' in form_page.content.decode()
    PrintJob.objects.filter(pk=job.pk).update(status="sent")  # the agent got it meanwhile

    response = manager_client.post(change_url(job), {"priority": 1, **history_form(job)})

    job.refresh_from_db()
    assert job.priority == 5
    assert response.status_code == 302  # priority became read-only: nothing to change


def test_jobs_cannot_be_added_and_only_finished_ones_deleted(manager_client, make_job, printer):
    finished = make_job(printer, "completed")
    queued = make_job(printer, "pending")

    assert manager_client.get(reverse("admin:printing_printjob_add")).status_code == 403
    assert manager_client.get(reverse("admin:printing_printjob_delete", args=[queued.pk])).status_code == 403
    assert (
        manager_client.post(reverse("admin:printing_printjob_delete", args=[finished.pk]), {"post": "yes"}).status_code
        == 302
    )
    assert 'value="delete_selected"' not in manager_client.get(JOBS_URL).content.decode()
    assert list(PrintJob.objects.values_list("pk", flat=True)) == [queued.pk]


# --- actions -------------------------------------------------------------------------------


def test_retry_puts_failed_jobs_back_in_the_queue_and_refuses_others(manager_client, make_job, printer):
    failed = make_job(printer, "failed")
    completed = make_job(printer, "completed")

    response = post_action(manager_client, JOBS_URL, "retry_failed", [failed, completed])

    failed.refresh_from_db()
    completed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error_code) == ("pending", 0, "")
    assert completed.status == "completed"
    assert failed.events.last().message == "Retried by marta"
    assert messages_of(response) == [
        f"Job #{completed.pk}: Only failed jobs can be retried.",
        f"Queued again: 1 job (#{failed.pk}).",
    ]


def test_cancel_stops_queued_and_sent_jobs_and_refuses_finished_ones(manager_client, make_job, make_printer):
    printer, other = make_printer("Balcão"), make_printer("Cozinha")
    completed = make_job(printer, "completed")
    sent = make_job(printer, "sent")
    queued = make_job(other, "pending")

    response = post_action(manager_client, JOBS_URL, "cancel", [completed, sent, queued])

    assert dict(PrintJob.objects.values_list("pk", "status")) == {
        completed.pk: "completed",
        sent.pk: "cancelled",
        queued.pk: "cancelled",
    }
    assert messages_of(response) == [
        f"Job #{completed.pk} cannot be cancelled: it is printed.",
        f"Cancelled: 2 jobs (#{sent.pk}, #{queued.pk}).",
    ]


def test_reprint_queues_a_reprint_job_and_refuses_jobs_without_an_order(
    manager_client, order_job, make_job, make_printer
):
    test_page = make_job(make_printer("Cozinha"), "completed")

    response = post_action(manager_client, JOBS_URL, "reprint", [order_job, test_page])

    reprint = PrintJob.objects.get(kind=PrintJob.Kind.REPRINT)
    assert (reprint.order_id, reprint.printer_id, reprint.status) == (
        order_job.order_id,
        order_job.printer_id,
        "pending",
    )
    assert reprint.requested_by.username == "marta"
    assert messages_of(response) == [
        f"Job #{test_page.pk}: Only order receipts can be reprinted.",
        f"Reprint queued: 1 job (#{reprint.pk}, reprinting #{order_job.pk}).",
    ]


# --- who may do it -------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["retry_failed", "cancel", "reprint"])
def test_non_staff_users_cannot_run_job_actions(customer_client, make_job, printer, action):
    job = make_job(printer, "failed")

    response = customer_client.post(JOBS_URL, {"action": action, "_selected_action": [job.pk]})

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert list(PrintJob.objects.values_list("status", flat=True)) == ["failed"]


@pytest.mark.parametrize("action", ["retry_failed", "cancel", "reprint"])
def test_staff_without_job_permissions_cannot_run_job_actions(staff_client, make_job, printer, action):
    job = make_job(printer, "failed")

    response = staff_client.post(JOBS_URL, {"action": action, "_selected_action": [job.pk]})

    assert response.status_code == 403
    assert list(PrintJob.objects.values_list("status", flat=True)) == ["failed"]


@pytest.mark.parametrize("action", ["retry_failed", "cancel", "reprint"])
def test_staff_who_may_only_view_jobs_cannot_run_job_actions(viewer_client, make_job, printer, action):
    job = make_job(printer, "failed")

    listing = viewer_client.get(JOBS_URL)
    assert listing.status_code == 200 and f'value="{action}"' not in listing.content.decode()
    response = viewer_client.post(JOBS_URL, {"action": action, "_selected_action": [job.pk]}, follow=True)

    assert list(PrintJob.objects.values_list("status", flat=True)) == ["failed"]
    assert response.status_code == 200
