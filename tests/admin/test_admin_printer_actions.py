"""Printer admin: list, actions (test print, enable/disable, tokens) and who may use them."""

import pytest
from django.urls import reverse

from printing import notify, services
from printing.models import Printer, PrintJob
from tests.admin.helpers import PRINTERS_URL, messages_of, post_action

pytestmark = pytest.mark.django_db


def change_url(printer):
    return reverse("admin:printing_printer_change", args=[printer.pk])


def token_url(printer):
    return reverse("admin:printing_printer_token", args=[printer.pk])


def test_it_lists_printers_with_connection_status_and_queued_jobs(manager_client, make_printer, make_job):
    balcao = make_printer("Balcão")
    Printer.objects.filter(pk=balcao.pk).update(connected=True, status="paper_low", status_message="Pouco papel")
    cozinha = make_printer("Cozinha")
    make_job(balcao, "completed")
    make_job(balcao, "sent")
    make_job(balcao, "pending")
    make_job(cozinha, "failed")

    response = manager_client.get(PRINTERS_URL)

    assert response.status_code == 200
    rows = {printer.name: printer for printer in response.context["cl"].result_list}
    assert rows["Balcão"].queued == 2 and rows["Cozinha"].queued == 0
    html = response.content.decode()
    assert 'cantina-badge--ok">Connected<' in html
    assert 'cantina-badge--warn" title="Pouco papel">Paper low<' in html
    assert 'cantina-badge--muted">Not connected<' in html
    assert f"printer__id__exact={balcao.pk}&amp;status__in=pending,sent,printing" in html


def test_printer_list_query_count_does_not_grow_with_printers(
    manager_client, make_printer, make_job, django_assert_max_num_queries
):
    make_job(make_printer("P1"), "pending")
    manager_client.get(PRINTERS_URL)  # warm up sessions, content types
    with django_assert_max_num_queries(12) as few:
        manager_client.get(PRINTERS_URL)
    for number in range(2, 12):
        make_job(make_printer(f"P{number}"), "pending")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = manager_client.get(PRINTERS_URL)
    assert len(response.context["cl"].result_list) == 11


def test_print_test_page_action_queues_one_test_page_per_printer(manager_client, make_printer):
    balcao, cozinha = make_printer("Balcão"), make_printer("Cozinha")

    response = post_action(manager_client, PRINTERS_URL, "print_test_page", [balcao, cozinha])

    jobs = PrintJob.objects.filter(kind=PrintJob.Kind.TEST_PAGE)
    assert sorted(jobs.values_list("printer__name", "status")) == [("Balcão", "pending"), ("Cozinha", "pending")]
    job = jobs.get(printer=balcao)
    assert job.requested_by.username == "marta"
    assert f"Test page queued on “Balcão” (job #{job.pk})." in messages_of(response)


def test_print_test_page_on_a_disabled_printer_reports_the_refusal(manager_client, make_printer):
    printer = make_printer("Balcão", is_active=False)

    response = post_action(manager_client, PRINTERS_URL, "print_test_page", [printer])

    assert PrintJob.objects.count() == 0
    assert "Printer “Balcão” is disabled." in messages_of(response)


def test_disable_and_enable_actions_go_through_the_service_and_tell_the_live_agent(
    manager_client, make_printer, caplog, monkeypatch, django_capture_on_commit_callbacks
):
    # The admin message says the agent is disconnected: the action asks the printer's live
    # connection to re-check, which closes it with 4403 (tests/contract/test_close_codes.py).
    printer = make_printer("Balcão")
    rechecks = []
    monkeypatch.setattr(notify, "agent_recheck", rechecks.append)

    with caplog.at_level("INFO", logger="cantina.printing"), django_capture_on_commit_callbacks(execute=True):
        response = post_action(manager_client, PRINTERS_URL, "disable", [printer])
    printer.refresh_from_db()
    assert printer.is_active is False
    assert rechecks == [printer.pk]
    assert "“Balcão” disabled: its agent is disconnected." in messages_of(response)
    assert f"printer={printer.pk} event=disabled" in caplog.messages

    response = post_action(manager_client, PRINTERS_URL, "disable", [printer])
    assert "“Balcão” was already disabled." in messages_of(response)

    response = post_action(manager_client, PRINTERS_URL, "enable", [printer])
    printer.refresh_from_db()
    assert printer.is_active is True
    assert "“Balcão” enabled." in messages_of(response)


def test_unticking_active_in_the_change_form_disables_through_the_service(manager_client, make_printer, caplog):
    printer = make_printer("Balcão")
    form = {
        "name": "Balcão",
        "location": "",
        "paper_width": 80,
        "profile": "",
        "has_cutter": "on",
        "copies": 1,
        "auto_print": ["counter"],
    }
    with caplog.at_level("INFO", logger="cantina.printing"):
        response = manager_client.post(change_url(printer), form)
    assert response.status_code == 302
    printer.refresh_from_db()
    assert printer.is_active is False and printer.auto_print == ["counter"]
    assert f"printer={printer.pk} event=disabled" in caplog.messages


def test_change_form_rejects_an_unknown_printer_profile(manager_client, make_printer):
    printer = make_printer("Balcão")
    form = {"name": "Balcão", "paper_width": 80, "profile": "NoSuchPrinter-9000", "copies": 1, "is_active": "on"}

    response = manager_client.post(change_url(printer), form)

    assert response.status_code == 200
    assert "Unknown printer profile “NoSuchPrinter-9000”" in response.content.decode()


def test_issue_token_action_shows_the_new_token_once_with_the_agent_command(manager_client, make_printer):
    printer = make_printer("Balcão")
    old_token = printer.token

    response = post_action(manager_client, PRINTERS_URL, "issue_token", [printer])

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [issued] = response.context["issued"]
    token = issued["token"]
    assert services.printer_authenticate(token)["id"] == printer.pk
    assert services.printer_authenticate(old_token) is None
    html = response.content.decode()
    assert token in html
    # The token goes through the environment: arguments are visible to every user (ps).
    assert f"CANTINA_TOKEN={token} python -m agent --server ws://testserver/ws/agent/ --printer tcp://IP:9100" in html
    assert "--token" not in html
    assert all(token not in message for message in messages_of(response))
    # Shown once: nothing else shows it again.
    for url in (
        PRINTERS_URL,
        change_url(printer),
        reverse("admin:index"),
        reverse("admin:printing_printer_history", args=[printer.pk]),
    ):
        assert token not in manager_client.get(url).content.decode()


def test_the_agent_command_uses_wss_behind_https(manager_client, make_printer, settings):
    printer = make_printer("Balcão")

    response = manager_client.post(
        PRINTERS_URL, {"action": "issue_token", "_selected_action": [printer.pk]}, secure=True
    )

    token = response.context["issued"][0]["token"]
    assert f"CANTINA_TOKEN={token} python -m agent --server wss://testserver/ws/agent/ " in response.content.decode()


def test_change_page_button_confirms_then_issues_a_token(manager_client, make_printer):
    printer = make_printer("Balcão")
    old_token = printer.token

    change_page = manager_client.get(change_url(printer)).content.decode()
    assert f'href="{token_url(printer)}"' in change_page and "Issue new token" in change_page

    confirmation = manager_client.get(token_url(printer))
    assert confirmation.status_code == 200
    assert "already has an agent token" in confirmation.content.decode()
    assert services.printer_authenticate(old_token) is not None, "a GET changes nothing"

    response = manager_client.post(token_url(printer))
    token = response.context["issued"][0]["token"]
    assert token in response.content.decode()
    assert services.printer_authenticate(token)["id"] == printer.pk
    assert services.printer_authenticate(old_token) is None


def test_adding_a_printer_in_the_admin_leads_to_its_token(manager_client):
    form = {
        "name": "Cozinha",
        "location": "Fundos",
        "paper_width": 58,
        "profile": "TM-T20II",
        "has_cutter": "on",
        "copies": 1,
        "is_active": "on",
        "auto_print": ["counter", "scheduled"],
    }

    response = manager_client.post(reverse("admin:printing_printer_add"), form)

    assert response.status_code == 200
    printer = Printer.objects.get(name="Cozinha")
    assert printer.auto_print == ["counter", "scheduled"] and printer.paper_width == 58
    token = response.context["issued"][0]["token"]
    assert services.printer_authenticate(token)["id"] == printer.pk
    html = response.content.decode()
    assert f"CANTINA_TOKEN={token} python -m agent" in html and "--token" not in html
    assert "The printer “Cozinha” was added. Its agent token is below." in html


def test_revoke_token_action_blocks_the_token_and_tells_the_live_agent(
    manager_client, make_printer, monkeypatch, django_capture_on_commit_callbacks
):
    # The live connection re-checks and closes with 4401 (tests/contract/test_close_codes.py).
    printer = make_printer("Balcão")
    rechecks = []
    monkeypatch.setattr(notify, "agent_recheck", rechecks.append)

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(manager_client, PRINTERS_URL, "revoke_token", [printer])

    assert rechecks == [printer.pk]
    assert services.printer_authenticate(printer.token) is None
    assert "Token of “Balcão” revoked: its agent is disconnected and cannot reconnect." in messages_of(response)
    response = post_action(manager_client, PRINTERS_URL, "revoke_token", [printer])
    assert "“Balcão” has no agent token." in messages_of(response)


# --- who may do it -------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["print_test_page", "disable", "issue_token", "revoke_token"])
def test_non_staff_users_are_sent_to_the_login_page(customer_client, make_printer, action):
    printer = make_printer("Balcão")

    response = customer_client.post(PRINTERS_URL, {"action": action, "_selected_action": [printer.pk]})

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    printer.refresh_from_db()
    assert printer.is_active and services.printer_authenticate(printer.token) is not None
    assert PrintJob.objects.count() == 0


def test_staff_without_printer_permissions_is_forbidden(staff_client, make_printer):
    printer = make_printer("Balcão")

    assert (
        staff_client.post(PRINTERS_URL, {"action": "issue_token", "_selected_action": [printer.pk]}).status_code == 403
    )
    assert staff_client.get(token_url(printer)).status_code == 403
    assert staff_client.post(token_url(printer)).status_code == 403
    assert services.printer_authenticate(printer.token) is not None


@pytest.mark.parametrize("action", ["print_test_page", "enable", "disable", "issue_token", "revoke_token"])
def test_staff_who_may_only_view_printers_cannot_run_actions(viewer_client, make_printer, action):
    printer = make_printer("Balcão")

    listing = viewer_client.get(PRINTERS_URL)
    assert listing.status_code == 200
    assert f'value="{action}"' not in listing.content.decode()
    response = viewer_client.post(PRINTERS_URL, {"action": action, "_selected_action": [printer.pk]}, follow=True)

    printer.refresh_from_db()
    assert printer.is_active and services.printer_authenticate(printer.token) is not None
    assert PrintJob.objects.count() == 0
    assert "token" not in response.context or not response.context.get("issued")


def test_staff_who_may_only_view_printers_cannot_get_a_token(viewer_client, make_printer):
    printer = make_printer("Balcão")

    assert viewer_client.get(token_url(printer)).status_code == 403
    assert viewer_client.post(token_url(printer)).status_code == 403
    assert "Issue new token" not in viewer_client.get(change_url(printer)).content.decode()


def test_the_token_page_of_an_unknown_printer_is_not_found(manager_client):
    url = reverse("admin:printing_printer_token", args=[999])

    assert manager_client.get(url).status_code == 404
