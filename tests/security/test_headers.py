"""Content-Security-Policy without inline scripts, and no-store on pages with customer data."""

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)


@pytest.fixture
def manager(manager_user, make_printer, make_order, django_capture_on_commit_callbacks):
    make_printer("Balcão", auto_print=["counter"])
    with django_capture_on_commit_callbacks(execute=True):
        make_order(status="confirmed")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager_user)
    return client


def customer_pages():
    from printing.models import PrintJob

    job = PrintJob.objects.first()
    return [
        reverse("orders:counter"),
        reverse("orders:scheduled"),
        reverse("orders:scheduled_new"),
        reverse("printing:jobs"),
        reverse("printing:job_detail", args=[job.pk]),
        reverse("printing:printers"),
        reverse("printing:jobs_status") + f"?job={job.pk}",
        reverse("printing:printers_status"),
        reverse("print_dashboard:index"),
        reverse("print_dashboard:data"),
    ]


def policy(response):
    directives = [directive.split() for directive in response["Content-Security-Policy"].split(";")]
    return {words[0]: words[1:] for words in directives if words}


def test_staff_pages_and_the_dashboard_send_a_policy_without_inline_scripts(manager):
    for url in customer_pages():
        response = manager.get(url)
        assert response.status_code == 200, url
        directives = policy(response)
        assert directives["script-src"] == ["'self'"], url
        assert directives["style-src"] == ["'self'"], url
        assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
        assert directives["base-uri"] == ["'none'"] and directives["form-action"] == ["'self'"]
        assert "'unsafe-inline'" not in response["Content-Security-Policy"].replace(
            "style-src-attr 'unsafe-inline'", ""
        )
        if response["Content-Type"].startswith("text/html"):
            assert not INLINE_SCRIPT.findall(response.content.decode()), url
            assert "<style" not in response.content.decode(), url


def test_pages_with_customer_data_are_never_stored(manager):
    for url in customer_pages():
        cache_control = manager.get(url)["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control, url


def test_the_existing_security_headers_stay(manager):
    response = manager.get(reverse("orders:counter"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_the_login_and_admin_pages_have_the_policy_too(client):
    for url in (reverse("login"), reverse("admin:login")):
        response = client.get(url)
        assert policy(response)["script-src"] == ["'self'"]
        assert not INLINE_SCRIPT.findall(response.content.decode())


def test_the_csrf_failure_page_has_no_inline_style(client):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "<style" not in response.content.decode()


def test_receipt_previews_link_their_style_sheet_instead_of_inlining_it(manager):
    from printing.models import PrintJob

    job = PrintJob.objects.first()
    css_url = reverse("printing:preview_css")
    for url in (
        reverse("printing:job_detail", args=[job.pk]),
        reverse("admin:printing_printjob_change", args=[job.pk]),
    ):
        html = manager.get(url).content.decode()
        assert "cp-receipt" in html and f'href="{css_url}"' in html and "<style" not in html, url
    stylesheet = manager.get(css_url)
    assert stylesheet["Content-Type"].startswith("text/css") and b".cp-receipt{" in stylesheet.content
