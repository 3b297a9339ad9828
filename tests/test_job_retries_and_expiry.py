"""Retries and expiry: what happens to a job the printer could not print, or never printed.

Retryable failures (paper out, cover open, offline) put the job back in the queue with one more
attempt; it waits while the printer is not ready and goes out again, with the same id, when it
is, up to ``max_retries``; then it fails. A job that never printed within
CANTINA_JOB_EXPIRY_HOURS fails with reason ``expired``, visible to staff, and a person decides.
"""

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from printing import selectors, services
from printing.groups import STAFF_GROUP
from printing.models import Printer, PrintJob

pytestmark = pytest.mark.django_db

RETRYABLE = ["paper_out", "cover_open", "offline"]


@pytest.fixture
def printer(make_printer):
    printer = make_printer("Balcão", status=Printer.Status.READY)
    return printer


@pytest.fixture
def queued_job(printer, make_order, django_capture_on_commit_callbacks):
    """One confirmed order's receipt, pending on ``printer``."""
    with django_capture_on_commit_callbacks(execute=True):
        make_order()
    return PrintJob.objects.get(printer=printer)


def claim(printer):
    return [payload["job_id"] for payload in services.jobs_claim(printer_id=printer.pk)]


def report(job, status, error_code=""):
    return services.job_mark_status(job_id=job.pk, printer_id=job.printer_id, status=status, error_code=error_code)


def printer_ready(printer):
    services.printer_report(printer_id=printer.pk, status=Printer.Status.READY)


def fresh(job):
    job.refresh_from_db()
    return job


def event_statuses(job):
    return list(job.events.order_by("at", "id").values_list("status", flat=True))


# --- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("error_code", RETRYABLE)
def test_retryable_failure_puts_the_job_back_in_the_queue_with_one_more_attempt(printer, queued_job, error_code):
    assert claim(printer) == [queued_job.pk]

    outcome = report(queued_job, "failed", error_code)

    job = fresh(queued_job)
    assert outcome.changed and outcome.status == "pending"
    assert (job.status, job.attempts, job.error_code) == ("pending", 1, error_code)
    assert job.sent_at is None and job.finished_at is None
    assert event_statuses(job) == ["pending", "sent", "pending"]
    printer.refresh_from_db()
    assert printer.status == error_code


@pytest.mark.parametrize("error_code", RETRYABLE)
def test_a_retried_job_waits_while_the_printer_is_not_ready_then_goes_out_with_the_same_id(
    printer, queued_job, error_code
):
    claim(printer)
    report(queued_job, "failed", error_code)

    assert claim(printer) == []
    assert selectors.printers_with_pending_jobs([printer.pk]) == set()
    assert fresh(queued_job).status == "pending"

    printer_ready(printer)

    assert selectors.printers_with_pending_jobs([printer.pk]) == {printer.pk}
    assert claim(printer) == [queued_job.pk]
    assert fresh(queued_job).status == "sent"


def test_a_printer_that_reports_paper_out_by_itself_holds_its_queue(printer, queued_job):
    services.printer_report(printer_id=printer.pk, status=Printer.Status.PAPER_OUT)
    assert claim(printer) == []
    printer_ready(printer)
    assert claim(printer) == [queued_job.pk]


def test_retries_stop_at_max_retries_then_the_job_fails(printer, queued_job):
    PrintJob.objects.filter(pk=queued_job.pk).update(max_retries=2)
    for attempt in (1, 2):
        assert claim(printer) == [queued_job.pk]
        report(queued_job, "failed", "paper_out")
        assert (fresh(queued_job).status, queued_job.attempts) == ("pending", attempt)
        printer_ready(printer)

    assert claim(printer) == [queued_job.pk]
    outcome = report(queued_job, "failed", "paper_out")

    job = fresh(queued_job)
    assert outcome.status == "failed"
    assert (job.status, job.attempts, job.error_code) == ("failed", 3, "paper_out")
    assert job.finished_at is not None
    printer_ready(printer)
    assert claim(printer) == []


def test_max_retries_comes_from_the_settings(settings, printer, make_order, django_capture_on_commit_callbacks):
    settings.CANTINA_JOB_MAX_RETRIES = 0
    with django_capture_on_commit_callbacks(execute=True):
        make_order()
    job = PrintJob.objects.get(printer=printer)
    assert job.max_retries == 0
    claim(printer)
    report(job, "failed", "cover_open")
    assert (fresh(job).status, job.attempts) == ("failed", 1)


@pytest.mark.parametrize("error_code", ["bad_data", "interrupted", "agent_error", ""])
def test_non_retryable_failures_fail_at_once_and_leave_the_printer_ready(printer, queued_job, error_code):
    claim(printer)
    report(queued_job, "failed", error_code)

    job = fresh(queued_job)
    assert (job.status, job.attempts) == ("failed", 1)
    printer.refresh_from_db()
    assert printer.status == Printer.Status.READY


def test_a_late_report_never_moves_a_failed_job(printer, queued_job):
    claim(printer)
    report(queued_job, "failed", "interrupted")
    events = event_statuses(queued_job)

    for status in ("completed", "printing", "failed", "received"):
        assert not report(queued_job, status, "paper_out").changed

    job = fresh(queued_job)
    assert (job.status, job.error_code, job.attempts) == ("failed", "interrupted", 1)
    assert event_statuses(job) == events


def test_a_person_can_retry_a_failed_job_from_zero(printer, queued_job):
    claim(printer)
    report(queued_job, "failed", "interrupted")

    services.job_retry(job_id=queued_job.pk)

    job = fresh(queued_job)
    assert (job.status, job.attempts, job.error_code) == ("pending", 0, "")
    assert claim(printer) == [job.pk]


# --- expiry ----------------------------------------------------------------------------------


def age(job, hours):
    PrintJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(hours=hours))


@pytest.mark.parametrize("status", ["pending", "sent"])
def test_a_job_never_printed_within_24_hours_fails_as_expired(printer, queued_job, status):
    PrintJob.objects.filter(pk=queued_job.pk).update(status=status)
    age(queued_job, 24.1)

    assert services.jobs_expire() == [queued_job.pk]

    job = fresh(queued_job)
    assert (job.status, job.error_code) == ("failed", "expired")
    assert "24" in job.error_message
    assert job.finished_at is not None
    assert event_statuses(job)[-1] == "failed"
    assert claim(printer) == []


def test_a_job_younger_than_the_expiry_stays_queued(printer, queued_job):
    age(queued_job, 23.9)
    assert services.jobs_expire() == []
    assert fresh(queued_job).status == "pending"


def test_a_job_stuck_printing_past_the_expiry_fails_for_a_person_to_decide(printer, queued_job):
    # Its agent never came back to say whether the paper came out.
    PrintJob.objects.filter(pk=queued_job.pk).update(status="printing")
    age(queued_job, 48)
    assert services.jobs_expire() == [queued_job.pk]
    job = fresh(queued_job)
    assert (job.status, job.error_code) == ("failed", "expired")


@pytest.mark.parametrize("status", ["completed", "failed", "cancelled"])
def test_expiry_leaves_finished_jobs_alone(printer, queued_job, status):
    PrintJob.objects.filter(pk=queued_job.pk).update(status=status)
    age(queued_job, 48)
    assert services.jobs_expire() == []
    assert fresh(queued_job).status == status


def test_the_expiry_is_configurable(settings, printer, queued_job):
    settings.CANTINA_JOB_EXPIRY_HOURS = 2
    age(queued_job, 1.9)
    assert services.jobs_expire() == []
    age(queued_job, 2.1)
    assert services.jobs_expire() == [queued_job.pk]
    assert "2" in fresh(queued_job).error_message


def test_expiring_twice_changes_nothing_more(printer, queued_job):
    age(queued_job, 25)
    services.jobs_expire()
    events = event_statuses(queued_job)
    assert services.jobs_expire() == []
    assert event_statuses(queued_job) == events


def test_an_agent_report_after_expiry_does_not_revive_the_job(printer, queued_job):
    claim(printer)
    age(queued_job, 25)
    services.jobs_expire()

    assert not report(queued_job, "completed").changed
    assert (fresh(queued_job).status, queued_job.error_code) == ("failed", "expired")


def test_expired_jobs_are_visible_to_staff(printer, queued_job, django_capture_on_commit_callbacks):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(STAFF_GROUP, channel)
    age(queued_job, 25)

    with django_capture_on_commit_callbacks(execute=True):
        services.jobs_expire()

    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == "job.updated"
    assert message["job"]["id"] == queued_job.pk
    assert (message["job"]["status"], message["job"]["error_code"]) == ("failed", "expired")
    assert selectors.job_summary(queued_job.pk)["error_message"]
    assert selectors.queue_stats()["jobs"]["failed"] == 1
    assert selectors.printer_summary(printer)["queued"] == 0


def test_a_person_can_send_an_expired_job_again(printer, queued_job):
    age(queued_job, 25)
    services.jobs_expire()
    services.job_retry(job_id=queued_job.pk)
    assert claim(printer) == [queued_job.pk]
