"""/ws/staff/: live updates for logged-in staff only, from this site's own pages only, and only
the events the account may see on the pages."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client

from cantina.asgi import application
from printing import notify, services
from printing.models import Printer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(60)]

OWN_HOST = b"print.example.com:8110"
OWN_ORIGIN = b"http://print.example.com:8110"


@pytest.fixture(autouse=True)
def _hosts(settings):
    settings.ALLOWED_HOSTS = ["print.example.com", "localhost"]
    settings.CSRF_TRUSTED_ORIGINS = []


@database_sync_to_async
def session_cookie(is_staff=True, role="Gerente"):
    user = get_user_model().objects.create_user("carol", password="carol-pass-123", is_staff=is_staff)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(cookie=None, origin=OWN_ORIGIN, host=OWN_HOST, scheme="ws", extra=()):
    headers = list(extra)
    if host is not None:
        headers.append((b"host", host))
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie is not None:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, "/ws/staff/", headers=headers)
    communicator.scope["scheme"] = scheme
    connected, _ = await communicator.connect()
    return communicator, connected


@database_sync_to_async
def queue_test_page():
    printer = Printer.objects.create(name="Balcão")
    return services.job_create_test_page(printer=printer).pk


async def test_staff_session_receives_job_and_printer_updates():
    communicator, connected = await open_socket(await session_cookie())
    assert connected

    job_id = await queue_test_page()
    message = await communicator.receive_json_from(timeout=10)
    assert message["type"] == "job.updated"
    assert message["job"]["id"] == job_id and message["job"]["status"] == "pending"

    @database_sync_to_async
    def disable_printer():
        printer = Printer.objects.get(name="Balcão")
        services.printer_set_active(printer=printer, active=False)
        return printer.pk

    printer_id = await disable_printer()
    message = await communicator.receive_json_from(timeout=10)
    assert message["type"] == "printer.updated"
    assert message["printer"]["id"] == printer_id and message["printer"]["name"] == "Balcão"
    assert {"connected", "status", "last_seen_at", "queued"} <= set(message["printer"])
    assert message["printer"]["queued"] == 1
    await communicator.disconnect()


async def test_anonymous_visitor_is_refused():
    _communicator, connected = await open_socket(cookie=None)
    assert not connected


async def test_non_staff_user_is_refused():
    _communicator, connected = await open_socket(await session_cookie(is_staff=False, role=None))
    assert not connected


async def test_staff_without_permission_to_see_jobs_or_printers_is_refused():
    _communicator, connected = await open_socket(await session_cookie(role=None))
    assert not connected


async def test_an_attendant_receives_job_updates():
    communicator, connected = await open_socket(await session_cookie(role="Atendente"))
    assert connected
    job_id = await queue_test_page()
    message = await communicator.receive_json_from(timeout=5)
    assert message["type"] == "job.updated" and message["job"]["id"] == job_id
    await communicator.disconnect()


async def test_a_staff_socket_receives_only_the_events_its_account_may_see():
    @database_sync_to_async
    def printers_only_cookie():
        user = get_user_model().objects.create_user("dora", password="dora-pass-123", is_staff=True)
        user.user_permissions.add(Permission.objects.get(codename="view_printer"))
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    communicator, connected = await open_socket(await printers_only_cookie())
    assert connected

    await queue_test_page()  # a job.updated, which this account may not see
    await database_sync_to_async(notify.staff_printer_updated)({"id": 1, "name": "Balcão"})

    received = [await communicator.receive_json_from(timeout=5)]
    while not await communicator.receive_nothing(timeout=1):
        received.append(await communicator.receive_json_from(timeout=5))
    assert received and {message["type"] for message in received} == {"printer.updated"}
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        b"http://evil.example.com",
        b"http://print.example.com:8120",  # same host, another port (another app on the machine)
        b"https://print.example.com:8110",  # same host and port, another scheme
        b"http://print.example.com",  # the default port is another port
        b"null",  # sandboxed iframes, file:// pages
        b"http://print.example.com:8110/path",
        b"http://user@print.example.com:8110",
        b"",
        None,  # no Origin at all
    ],
)
async def test_valid_session_from_any_other_origin_is_refused(origin):
    _communicator, connected = await open_socket(await session_cookie(), origin=origin)
    assert not connected


async def test_the_exact_own_origin_is_accepted_case_insensitively():
    communicator, connected = await open_socket(await session_cookie(), origin=b"http://PRINT.example.com:8110")
    assert connected
    await communicator.disconnect()


async def test_a_host_outside_allowed_hosts_is_refused_even_when_origin_matches_it():
    _communicator, connected = await open_socket(
        await session_cookie(), origin=b"http://attacker.test:8110", host=b"attacker.test:8110"
    )
    assert not connected


async def test_behind_a_tls_proxy_only_the_https_origin_is_accepted(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    cookie = await session_cookie()
    proxied = [(b"x-forwarded-proto", b"https")]

    communicator, connected = await open_socket(
        cookie, origin=b"https://print.example.com", host=b"print.example.com", extra=proxied
    )
    assert connected
    await communicator.disconnect()

    for origin in (b"http://print.example.com", b"http://print.example.com:8080", b"https://print.example.com:8080"):
        communicator, connected = await open_socket(cookie, origin=origin, host=b"print.example.com", extra=proxied)
        assert not connected, origin


async def test_wss_without_a_proxy_means_https():
    communicator, connected = await open_socket(
        await session_cookie(), origin=b"https://print.example.com", host=b"print.example.com", scheme="wss"
    )
    assert connected
    await communicator.disconnect()


async def test_csrf_trusted_origins_are_accepted_exactly(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://caixa.example.com", "https://*.cantina.example.org"]
    cookie = await session_cookie()

    for origin in (b"https://caixa.example.com", b"https://loja.cantina.example.org"):
        communicator, connected = await open_socket(cookie, origin=origin)
        assert connected, origin
        await communicator.disconnect()
    for origin in (
        b"http://caixa.example.com",
        b"https://caixa.example.com:8443",
        b"https://cantina.example.org.evil.test",
    ):
        communicator, connected = await open_socket(cookie, origin=origin)
        assert not connected, origin
