"""Roles: the staff pages, their JSON, the dashboard and the admin agree on what an account may do.

Atendente: counter, scheduled orders, printers and jobs pages, reprint/retry of today's jobs.
Gerente: everything. Staff with no permission: nothing (403). A superuser: everything.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orders.models import Order
from printing import services
from printing.models import PrintJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(make_printer, make_order, django_capture_on_commit_callbacks):
    """A printer, a confirmed counter order with its receipt, a pending order, a failed job."""
    printer = make_printer("Balcão", auto_print=["counter", "scheduled"])
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(status="confirmed")
    receipt = PrintJob.objects.get(order=order)
    pending = make_order(status="pending", channel="scheduled", scheduled_for=timezone.now() + timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        services.jobs_claim(printer_id=printer.pk)
        services.job_mark_status(job_id=receipt.pk, printer_id=printer.pk, status="failed", error_code="bad_data")
    receipt.refresh_from_db()
    assert receipt.status == "failed"
    queued = services.job_create_test_page(printer=printer)
    return {"printer": printer, "order": order, "receipt": receipt, "pending": pending, "queued": queued}


def client_for(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def pages(world):
    return {
        "counter": ("get", reverse("orders:counter")),
        "scheduled": ("get", reverse("orders:scheduled")),
        "scheduled_new": ("get", reverse("orders:scheduled_new")),
        "printers": ("get", reverse("printing:printers")),
        "printers_status": ("get", reverse("printing:printers_status")),
        "jobs": ("get", reverse("printing:jobs")),
        "jobs_status": ("get", reverse("printing:jobs_status") + f"?job={world['receipt'].pk}"),
        "job_detail": ("get", reverse("printing:job_detail", args=[world["receipt"].pk])),
        "dashboard": ("get", reverse("print_dashboard:index")),
        "dashboard_data": ("get", reverse("print_dashboard:data")),
        "confirm": ("post", reverse("orders:confirm", args=[world["pending"].pk])),
        "order_cancel": ("post", reverse("orders:cancel", args=[world["pending"].pk])),
        "order_reprint": ("post", reverse("printing:order_reprint", args=[world["order"].pk])),
        "job_retry": ("post", reverse("printing:job_retry", args=[world["receipt"].pk])),
        "job_reprint": ("post", reverse("printing:job_reprint", args=[world["receipt"].pk])),
        "job_cancel": ("post", reverse("printing:job_cancel", args=[world["queued"].pk])),
        "test_print": ("post", reverse("printing:printer_test_print", args=[world["printer"].pk])),
    }


ATTENDANT_MAY = {
    "counter",
    "scheduled",
    "scheduled_new",
    "printers",
    "printers_status",
    "jobs",
    "jobs_status",
    "job_detail",
    "confirm",
    "order_reprint",
    "job_retry",
    "job_reprint",
}
MANAGER_ONLY = {"dashboard", "dashboard_data", "order_cancel", "job_cancel", "test_print"}


def request(client, method, url):
    return client.get(url) if method == "get" else client.post(url)


@pytest.mark.parametrize("name", sorted(ATTENDANT_MAY | MANAGER_ONLY))
def test_staff_without_permissions_get_403_everywhere(world, staff_user, name):
    method, url = pages(world)[name]
    before = list(PrintJob.objects.order_by("pk").values_list("pk", "status"))

    response = request(client_for(staff_user), method, url)

    assert response.status_code == 403
    assert list(PrintJob.objects.order_by("pk").values_list("pk", "status")) == before
    assert Order.objects.get(pk=world["pending"].pk).status == "pending"


@pytest.mark.parametrize("name", sorted(ATTENDANT_MAY))
def test_an_attendant_may_sell_take_orders_and_reprint_todays_jobs(world, attendant_user, name):
    method, url = pages(world)[name]

    response = request(client_for(attendant_user), method, url)

    assert response.status_code in {200, 302}, response.status_code


@pytest.mark.parametrize("name", sorted(MANAGER_ONLY))
def test_an_attendant_gets_403_on_manager_actions(world, attendant_user, name):
    method, url = pages(world)[name]
    before = list(PrintJob.objects.order_by("pk").values_list("pk", "status"))

    response = request(client_for(attendant_user), method, url)

    assert response.status_code == 403
    assert list(PrintJob.objects.order_by("pk").values_list("pk", "status")) == before
    assert Order.objects.get(pk=world["pending"].pk).status == "pending"


@pytest.mark.parametrize("name", sorted(ATTENDANT_MAY | MANAGER_ONLY))
def test_a_manager_and_a_superuser_may_do_everything(world, manager_user, name):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-123")
    for user in (manager_user, superuser):
        method, url = pages(world)[name]
        response = request(client_for(user), method, url)
        assert response.status_code in {200, 302}, (user, response.status_code)


def test_manager_actions_really_act(world, manager_user):
    client = client_for(manager_user)
    client.post(pages(world)["job_cancel"][1])
    client.post(pages(world)["order_cancel"][1])
    assert PrintJob.objects.get(pk=world["queued"].pk).status == "cancelled"
    assert Order.objects.get(pk=world["pending"].pk).status == "cancelled"


def test_an_attendant_retries_a_job_of_today(world, attendant_user):
    client_for(attendant_user).post(pages(world)["job_retry"][1])

    assert PrintJob.objects.get(pk=world["receipt"].pk).status == "pending"


def test_an_attendant_may_not_reprint_or_retry_jobs_of_an_earlier_day_but_a_manager_may(
    world, attendant_user, manager_user
):
    # Own shift = jobs created today, in the shop's time zone.
    PrintJob.objects.filter(pk=world["receipt"].pk).update(created_at=timezone.now() - timedelta(days=1, hours=1))
    jobs_before = PrintJob.objects.count()

    for name in ("job_retry", "job_reprint", "order_reprint"):
        response = client_for(attendant_user).post(pages(world)[name][1])
        assert response.status_code == 403, name
        assert "Only a manager may reprint or retry jobs of an earlier day." in response.content.decode()
    assert PrintJob.objects.count() == jobs_before
    assert PrintJob.objects.get(pk=world["receipt"].pk).status == "failed"

    client_for(manager_user).post(pages(world)["job_retry"][1])
    assert PrintJob.objects.get(pk=world["receipt"].pk).status == "pending"


def test_pages_show_only_the_buttons_the_account_may_use(world, attendant_user, manager_user):
    scheduled_url = (
        reverse("orders:scheduled") + "?day=" + timezone.localdate(world["pending"].scheduled_for).isoformat()
    )
    attendant_page = client_for(attendant_user).get(scheduled_url).content.decode()
    manager_page = client_for(manager_user).get(scheduled_url).content.decode()
    assert 'data-action="confirm"' in attendant_page and 'data-action="cancel"' not in attendant_page
    assert 'data-action="confirm"' in manager_page and 'data-action="cancel"' in manager_page

    attendant_printers = client_for(attendant_user).get(reverse("printing:printers")).content.decode()
    assert 'data-action="test-print"' not in attendant_printers
    assert 'data-action="test-print"' in client_for(manager_user).get(reverse("printing:printers")).content.decode()


def test_the_admin_offers_an_attendant_the_same_actions_as_the_staff_pages(world, attendant_user, manager_user):
    jobs_admin = reverse("admin:printing_printjob_changelist")
    orders_admin = reverse("admin:orders_order_changelist")

    attendant = client_for(attendant_user)
    job_actions = {value for value, _label in attendant.get(jobs_admin).context["action_form"].fields["action"].choices}
    order_actions = {
        value for value, _label in attendant.get(orders_admin).context["action_form"].fields["action"].choices
    }
    assert {"retry_failed", "reprint"} <= job_actions and "cancel" not in job_actions
    assert "confirm_orders" in order_actions and "cancel_orders" not in order_actions

    manager = client_for(manager_user)
    job_actions = {value for value, _label in manager.get(jobs_admin).context["action_form"].fields["action"].choices}
    order_actions = {
        value for value, _label in manager.get(orders_admin).context["action_form"].fields["action"].choices
    }
    assert {"retry_failed", "reprint", "cancel"} <= job_actions and "cancel_orders" in order_actions

    # No dashboard link, no dashboard for the attendant in the admin either.
    assert reverse("print_dashboard:index") not in attendant.get(reverse("admin:index")).content.decode()
    assert reverse("print_dashboard:index") in manager.get(reverse("admin:index")).content.decode()


def test_the_admin_refuses_an_attendant_an_old_jobs_retry(world, attendant_user):
    PrintJob.objects.filter(pk=world["receipt"].pk).update(created_at=timezone.now() - timedelta(days=2))

    response = client_for(attendant_user).post(
        reverse("admin:printing_printjob_changelist"),
        {"action": "retry_failed", "_selected_action": [world["receipt"].pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert PrintJob.objects.get(pk=world["receipt"].pk).status == "failed"
    assert any("Only a manager" in str(message) for message in response.context["messages"])


def test_user_add_creates_an_attendant_with_a_generated_password(capsys):
    call_command("user_add", "joana", "--role", "atendente")

    password = capsys.readouterr().out.strip().splitlines()[-1]
    user = get_user_model().objects.get(username="joana")
    assert user.is_staff and not user.is_superuser and user.check_password(password) and len(password) >= 16
    assert [group.name for group in user.groups.all()] == ["Atendente"]
    assert user.has_perm("orders.sell_at_counter") and not user.has_perm("printing.view_dashboard")


def test_user_add_refuses_an_existing_name_and_an_unknown_role(staff_user):
    with pytest.raises(CommandError, match="already exists"):
        call_command("user_add", staff_user.username, "--role", "gerente")
    with pytest.raises(CommandError):
        call_command("user_add", "novo", "--role", "caixa")


def test_the_roles_are_groups_with_permissions_created_by_migrate():
    from django.contrib.auth.models import Group

    attendant = set(Group.objects.get(name="Atendente").permissions.values_list("content_type__app_label", "codename"))
    manager = set(Group.objects.get(name="Gerente").permissions.values_list("content_type__app_label", "codename"))
    assert ("orders", "sell_at_counter") in attendant and ("printing", "reprint_printjob") in attendant
    assert ("orders", "cancel_order") not in attendant and ("printing", "view_dashboard") not in attendant
    assert attendant < manager
    assert {
        ("printing", "view_dashboard"),
        ("printing", "change_printer"),
        ("axes", "delete_accessattempt"),
        ("api", "add_apikey"),
        ("api", "change_apikey"),
        ("webhooks", "change_webhooksubscription"),
    } <= manager
    assert not any(app == "auth" for app, _codename in manager), "user management stays with superusers"
