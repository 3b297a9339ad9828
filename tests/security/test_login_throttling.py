"""Password guessing stops: django-axes locks a username+address after the configured failures,
on the staff login and the admin login, with a clear message, until the cool-off or an unlock."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db

STAFF_LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
LOCKED_MESSAGE = "Too many failed login attempts for this username."


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def marta(db):
    return get_user_model().objects.create_superuser("marta", "marta@example.com", "marta-pass-123")


def log_in(client, url, password, username="marta", address="10.0.0.7"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def english():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.parametrize("url", [STAFF_LOGIN, ADMIN_LOGIN])
def test_after_the_configured_failures_even_the_right_password_is_refused(marta, url):
    client = english()
    for _attempt in range(2):
        response = log_in(client, url, "wrong")
        assert response.status_code == 200 and LOCKED_MESSAGE not in response.content.decode()

    third = log_in(client, url, "wrong")
    right = log_in(client, url, "marta-pass-123")

    for response in (third, right):
        assert response.status_code == 429
        html = response.content.decode()
        assert LOCKED_MESSAGE in html and "15 minutes" in html
        assert 'name="password"' in html, "the login page itself, not a bare error text"
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username="marta", ip_address="10.0.0.7").exists()


def test_the_lockout_message_is_translated_to_portuguese(marta):
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-br")
    for _attempt in range(3):
        response = log_in(client, STAFF_LOGIN, "wrong")
    assert response.status_code == 429
    assert "Muitas tentativas de login" in response.content.decode()


def test_the_lockout_is_per_username_and_address(marta):
    get_user_model().objects.create_user("ana", password="ana-pass-123", is_staff=True)
    client = english()
    for _attempt in range(3):
        log_in(client, STAFF_LOGIN, "wrong")

    other_address = log_in(english(), STAFF_LOGIN, "marta-pass-123", address="10.0.0.8")
    other_user = log_in(english(), STAFF_LOGIN, "ana-pass-123", username="ana")

    assert other_address.status_code == 302
    assert other_user.status_code == 302


def test_the_lockout_ends_after_the_cool_off(marta):
    for _attempt in range(3):
        log_in(english(), STAFF_LOGIN, "wrong")
    assert log_in(english(), STAFF_LOGIN, "marta-pass-123").status_code == 429

    with time_machine.travel(timezone.now() + timedelta(minutes=16), tick=False):
        response = log_in(english(), STAFF_LOGIN, "marta-pass-123")

    assert response.status_code == 302


def test_a_manager_unlocks_in_the_admin(marta):
    get_user_model().objects.create_user("ana", password="ana-pass-123", is_staff=True)
    for _attempt in range(3):
        log_in(english(), STAFF_LOGIN, "wrong", username="ana")
    assert log_in(english(), STAFF_LOGIN, "ana-pass-123", username="ana").status_code == 429
    manager = english()
    manager.force_login(marta)

    listing = manager.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200 and "ana" in listing.content.decode()
    attempt = AccessAttempt.objects.get(username="ana")
    manager.post(
        reverse("admin:axes_accessattempt_changelist"),
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )

    assert not AccessAttempt.objects.filter(username="ana").exists()
    assert log_in(english(), STAFF_LOGIN, "ana-pass-123", username="ana").status_code == 302


def test_a_gerente_may_see_and_unlock_lockouts(manager_user):
    client = english()
    client.force_login(manager_user)
    assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 200


def test_unlock_with_the_command(marta):
    for _attempt in range(3):
        log_in(english(), STAFF_LOGIN, "wrong")
    assert log_in(english(), STAFF_LOGIN, "marta-pass-123").status_code == 429

    call_command("axes_reset_username", "marta")

    assert log_in(english(), STAFF_LOGIN, "marta-pass-123").status_code == 302


def test_a_successful_login_forgets_earlier_failures(marta):
    for _attempt in range(2):
        log_in(english(), STAFF_LOGIN, "wrong")
    assert log_in(english(), STAFF_LOGIN, "marta-pass-123").status_code == 302
    for _attempt in range(2):
        log_in(english(), STAFF_LOGIN, "wrong")

    assert log_in(english(), STAFF_LOGIN, "marta-pass-123").status_code == 302


def test_the_defaults_are_five_failures_and_fifteen_minutes():
    from cantina import settings as project_settings

    assert project_settings.AXES_FAILURE_LIMIT == 5
    assert project_settings.AXES_COOLOFF_TIME == timedelta(minutes=15)
    assert project_settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_guesses_with_very_long_usernames_are_locked_out_too(db):
    # PostgreSQL refused axes' record of a 5,000-character username with a 500 (found by fuzzing).
    client = english()
    statuses = [log_in(client, STAFF_LOGIN, "wrong", username="x" * 5000).status_code for _attempt in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert AccessAttempt.objects.get().username == "x" * 150
