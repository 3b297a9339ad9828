"""Fix 8: a WebSocket to a path the server does not serve is refused cleanly, with one log line."""

import logging

import pytest
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from printing.routing import websocket_urlpatterns

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(60)]


@pytest.mark.parametrize("path", ["/", "/ws", "/ws/unknown/"])
async def test_unknown_websocket_path_is_refused_without_a_traceback(path, caplog):
    caplog.set_level(logging.INFO)
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
    connected, _code = await communicator.connect()
    assert connected is False
    await communicator.disconnect()
    lines = [record for record in caplog.records if "websocket_refused" in record.getMessage()]
    assert len(lines) == 1 and path in lines[0].getMessage()
    assert not any(record.exc_info for record in caplog.records)
