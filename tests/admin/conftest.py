"""Admin fixtures: a superuser manager, staff without model permissions, and jobs in a given state."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import translation

from printing import services
from printing.models import PrintJob


@pytest.fixture(autouse=True)
def _english(settings):
    # Assertions read the English msgids; pt-br stays the default everywhere else.
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def manager(db):
    return get_user_model().objects.create_superuser("marta", "marta@example.com", "marta-pass-123")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def staff_client(client, staff_user):
    """A staff user with no model permissions at all."""
    client.force_login(staff_user)
    return client


@pytest.fixture
def viewer_client(client, staff_user):
    """A staff user who may look at printers and jobs but change nothing."""
    staff_user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_printer", "view_printjob", "view_order"])
    )
    client.force_login(staff_user)
    return client


@pytest.fixture
def customer_client(client, customer_user):
    client.force_login(customer_user)
    return client


@pytest.fixture
def make_job(db, django_capture_on_commit_callbacks):
    """A test-page job brought to ``status`` the way an agent would, through the services.

    Delivery claims every queued job of the printer, so make a printer's queued jobs last.
    """

    def make(printer, status="pending", error_code="bad_data"):
        if status != PrintJob.Status.PENDING:
            assert not PrintJob.objects.filter(printer=printer, status="pending").exists(), "make queued jobs last"
        with django_capture_on_commit_callbacks(execute=True):
            job = services.job_create_test_page(printer=printer)
            if status == PrintJob.Status.CANCELLED:
                services.job_cancel(job_id=job.pk)
            elif status != PrintJob.Status.PENDING:
                services.jobs_claim(printer_id=printer.pk)
                if status in {"printing", "completed", "failed"}:
                    services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="printing")
                if status in {"completed", "failed"}:
                    services.job_mark_status(
                        job_id=job.pk,
                        printer_id=printer.pk,
                        status=status,
                        error_code=error_code if status == "failed" else "",
                        message="",
                    )
        job.refresh_from_db()
        assert job.status == status
        return job

    return make
