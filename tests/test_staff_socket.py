"""/ws/staff/: live updates for logged-in staff only, from this site's own pages only."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.test import Client

from cantina.asgi import application
from printing import services
from printing.models import Printer

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(60)]


@database_sync_to_async
def session_cookie(is_staff=True):
    user = get_user_model().objects.create_user("carol", password="carol-pass-123", is_staff=is_staff)
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def open_socket(cookie=None, origin=b"http://localhost"):
    headers = []
    if origin is not None:
        headers.append((b"origin", origin))
    if cookie is not None:
        headers.append((b"cookie", cookie))
    communicator = WebsocketCommunicator(application, "/ws/staff/", headers=headers)
    connected, _ = await communicator.connect()
    return communicator, connected


async def test_staff_session_receives_job_and_printer_updates():
    communicator, connected = await open_socket(await session_cookie())
    assert connected

    @database_sync_to_async
    def queue_test_page():
        printer = Printer.objects.create(name="Balcão")
        return services.job_create_test_page(printer=printer).pk

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
    communicator, connected = await open_socket(cookie=None)
    assert not connected


async def test_non_staff_user_is_refused():
    communicator, connected = await open_socket(await session_cookie(is_staff=False))
    assert not connected


@pytest.mark.parametrize("origin", [b"http://evil.example.com", None])
async def test_valid_session_from_a_foreign_origin_or_none_is_refused(origin):
    communicator, connected = await open_socket(await session_cookie(), origin=origin)
    assert not connected
