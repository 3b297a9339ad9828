"""Fixtures for the staff pages: logged-in clients (English, so assertions read the msgids)."""

import pytest
from django.test import Client
from django.utils import translation


@pytest.fixture(autouse=True)
def english():
    """Code outside a request speaks the default language (pt-br); these tests read the msgids."""
    with translation.override("en"):
        yield


def english_client(**options):
    return Client(HTTP_ACCEPT_LANGUAGE="en", **options)


@pytest.fixture
def staff_user(staff_user):
    """The staff pages' tests act as a manager (group Gerente): everything on these pages."""
    from django.contrib.auth.models import Group

    staff_user.groups.add(Group.objects.get(name="Gerente"))
    return staff_user


@pytest.fixture
def staff_client(staff_user):
    client = english_client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def csrf_client(staff_user):
    """A logged-in client that, like a browser, gets no CSRF exemption."""
    client = english_client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    return client


@pytest.fixture
def customer_client(customer_user):
    client = english_client()
    client.force_login(customer_user)
    return client


@pytest.fixture
def anonymous_client():
    return english_client()


@pytest.fixture
def printer(make_printer):
    return make_printer("Balcão")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run on_commit callbacks (receipt jobs, notifications) as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]] if response.context else []
