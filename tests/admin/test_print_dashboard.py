"""The print dashboard at /admin/print/: figures against known data, links, live data, staff only."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cantina.timeutils import today_bounds
from printing import monitoring
from printing.models import Printer, PrintJob

pytestmark = pytest.mark.django_db

DASHBOARD_URL = "/admin/print/"
DATA_URL = "/admin/print/data/"


@pytest.fixture
def known_day(make_printer, make_job):
    """Two printers at work, one disabled, and jobs today and just before local midnight."""
    start, _end = today_bounds()
    balcao = make_printer("Balcão")
    cozinha = make_printer("Cozinha")
    make_printer("Velha", is_active=False)

    def at(job, created, seconds_to_finish=None):
        finished = created + timedelta(seconds=seconds_to_finish) if seconds_to_finish is not None else None
        PrintJob.objects.filter(pk=job.pk).update(created_at=created, **({"finished_at": finished} if finished else {}))
        return job

    jobs = {
        # 23:59 yesterday in São Paulo is already "today" in UTC: it must not count as today.
        "yesterday_completed": at(make_job(balcao, "completed"), start - timedelta(minutes=1), 30),
        "yesterday_failed": at(make_job(cozinha, "failed", error_code="interrupted"), start - timedelta(minutes=2), 5),
        "completed_fast": at(make_job(balcao, "completed"), start + timedelta(minutes=1), 10),
        "completed_slow": at(make_job(balcao, "completed"), start + timedelta(minutes=2), 20),
        "failed": at(make_job(cozinha, "failed", error_code="bad_data"), start + timedelta(minutes=3), 2),
        "cancelled": at(make_job(cozinha, "cancelled"), start + timedelta(minutes=4)),
        "pending": at(make_job(balcao, "pending"), start + timedelta(minutes=5)),
    }
    PrintJob.objects.filter(pk=jobs["failed"].pk).update(error_message="Dados inválidos")
    Printer.objects.filter(pk=balcao.pk).update(
        connected=True, status="ready", model_name="TM-T20III", agent_version="1.0.0", last_seen_at=timezone.now()
    )
    Printer.objects.filter(pk=cozinha.pk).update(status="paper_out", status_message="Sem papel")
    return {"balcao": balcao, "cozinha": cozinha, "jobs": jobs, "start": start}


def test_todays_jobs_are_counted_by_state_on_the_local_date(manager_client, known_day):
    before = timezone.now()
    data = manager_client.get(DATA_URL).json()
    after = timezone.now()

    today = data["today"]
    assert settings.TIME_ZONE == "America/Sao_Paulo"
    assert today["date"] == known_day["start"].date().isoformat()
    assert {row["status"]: row["count"] for row in today["by_status"]} == {
        "pending": 1,
        "sent": 0,
        "printing": 0,
        "completed": 2,
        "failed": 1,
        "cancelled": 1,
    }
    assert today["total"] == 5
    assert today["average_seconds_to_print"] == 15.0
    assert data["queue"]["pending"] == 1 and data["queue"]["in_flight"] == 0
    created = PrintJob.objects.get(pk=known_day["jobs"]["pending"].pk).created_at
    assert (
        (before - created).total_seconds() - 1
        <= data["queue"]["oldest_pending_seconds"]
        <= (after - created).total_seconds() + 1
    )


def test_recent_failures_show_their_reasons_newest_first(manager_client, known_day):
    failures = manager_client.get(DATA_URL).json()["failures"]

    jobs = known_day["jobs"]
    assert [(f["id"], f["printer"], f["reason"], f["error_code"]) for f in failures] == [
        (jobs["failed"].pk, "Cozinha", "Dados inválidos", "bad_data"),
        (jobs["yesterday_failed"].pk, "Cozinha", "interrupted", "interrupted"),
    ]
    assert failures[0]["url"] == reverse("admin:printing_printjob_change", args=[jobs["failed"].pk])


def test_printers_and_connected_agents_come_from_the_database(manager_client, known_day):
    data = manager_client.get(DATA_URL).json()

    printers = {p["name"]: p for p in data["printers"]}
    assert list(printers) == ["Balcão", "Cozinha", "Velha"]
    assert (printers["Balcão"]["connected"], printers["Balcão"]["status"], printers["Balcão"]["queued"]) == (
        True,
        "ready",
        1,
    )
    assert (printers["Cozinha"]["connection_label"], printers["Cozinha"]["status_label"]) == (
        "Not connected",
        "Paper out",
    )
    assert printers["Cozinha"]["status_message"] == "Sem papel"
    assert printers["Velha"]["connection_label"] == "Disabled"
    assert (data["printers_connected"], data["printers_active"]) == (1, 2)
    assert [(a["name"], a["model_name"], a["agent_version"]) for a in data["agents"]] == [
        ("Balcão", "TM-T20III", "1.0.0")
    ]
    assert data["agents"][0]["last_seen"]["iso"] is not None


def test_server_information_names_the_parts_in_use(manager_client):
    server = manager_client.get(DATA_URL).json()["server"]

    assert server["version"] == "1.0.0"
    assert server["channel_layer"] == "InMemoryChannelLayer"
    # The suite runs on SQLite and again on PostgreSQL: the dashboard names whichever is in use.
    assert server["database"] == connection.vendor
    assert server["sweep_interval_seconds"] == settings.CANTINA_SWEEP_INTERVAL
    assert server["time_zone"] == "America/Sao_Paulo"
    started = monitoring.process_started_at()
    assert server["uptime_seconds"] == pytest.approx((timezone.now() - started).total_seconds(), abs=5)
    assert server["uptime_display"]


def test_dashboard_links_open_the_matching_job_lists(manager_client, known_day):
    data = manager_client.get(DATA_URL).json()
    links = {row["status"]: row["url"] for row in data["today"]["by_status"]}
    jobs = known_day["jobs"]

    def listed(url):
        response = manager_client.get(url)
        assert response.status_code == 200, url
        return sorted(job.pk for job in response.context["cl"].result_list)

    assert links["failed"].startswith("/admin/printing/printjob/?status__exact=failed&")
    assert listed(links["failed"]) == [jobs["failed"].pk]
    assert listed(links["completed"]) == sorted([jobs["completed_fast"].pk, jobs["completed_slow"].pk])
    assert len(listed(data["today"]["total_url"])) == 5
    assert listed(data["failures_url"]) == sorted([jobs["failed"].pk, jobs["yesterday_failed"].pk])
    assert listed(data["queue"]["pending_url"]) == [jobs["pending"].pk]
    balcao = next(p for p in data["printers"] if p["name"] == "Balcão")
    assert listed(balcao["queued_url"]) == [jobs["pending"].pk]


def test_the_page_renders_the_figures_inside_the_admin(manager_client, known_day):
    response = manager_client.get(DASHBOARD_URL)

    assert response.status_code == 200
    assert "admin/base_site.html" in [template.name for template in response.templates]
    html = response.content.decode()
    assert "<h1>Print dashboard</h1>" in html
    assert 'data-url="/admin/print/data/"' in html and "admin_extra/dashboard.js" in html
    assert 'cantina-card--failed" href="/admin/printing/printjob/?status__exact=failed' in html
    assert "Dados inválidos" in html and "Sem papel" in html and "TM-T20III" in html
    assert "1 of 2 connected" in html
    assert "InMemoryChannelLayer" in html
    assert '<script src="http' not in html and '<link rel="stylesheet" href="http' not in html


def test_printer_names_are_escaped_on_the_page(manager_client, make_printer):
    make_printer("<script>alert(1)</script>")

    html = manager_client.get(DASHBOARD_URL).content.decode()

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_admin_index_links_to_the_dashboard(manager_client):
    html = manager_client.get("/admin/").content.decode()

    assert f'href="{DASHBOARD_URL}"' in html


@pytest.mark.parametrize("url", [DASHBOARD_URL, DATA_URL])
def test_only_staff_get_in(client, customer_client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith(f"/admin/login/?next={url}")

    response = customer_client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("url", [DASHBOARD_URL, DATA_URL])
def test_a_manager_may_watch_the_dashboard(client, manager_user, url):
    client.force_login(manager_user)

    response = client.get(url)

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("url", [DASHBOARD_URL, DATA_URL])
def test_staff_without_the_dashboard_permission_get_403(client, staff_user, attendant_user, url):
    # The dashboard names customers, printers, agents and server versions: Gerente only.
    for user in (staff_user, attendant_user):
        client.force_login(user)

        response = client.get(url)

        assert response.status_code == 403, user
        assert b"debug" not in response.content and b"Balc" not in response.content
