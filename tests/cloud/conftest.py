"""Cloud printers added as ``printer_add`` adds them, and simulators speaking to the test client."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tools.cloud_printers import (
    CloudPrntPrinter,
    DjangoClientTransport,
    EpsonSdpPrinter,
)


@pytest.fixture
def make_cloud_printer(transactional_db):
    from printing.cloud.services import cloud_printer_issue_secret
    from printing.models import Printer, normalize_mac

    def make(name, *, mac="", device_id="", **fields):
        transport = Printer.Transport.CLOUDPRNT if mac else Printer.Transport.EPSON_SDP
        printer = Printer.objects.create(
            name=name, transport=transport, mac=normalize_mac(mac) if mac else "", device_id=device_id, **fields
        )
        printer.secret = cloud_printer_issue_secret(printer=printer)
        return printer

    return make


@pytest.fixture
def star(make_cloud_printer, client):
    """A Star printer in the database and its simulator."""

    def make(name="Balcão Star", mac="00:11:62:AA:BB:01", **fields):
        printer = make_cloud_printer(name, mac=mac, **fields)
        return printer, CloudPrntPrinter(DjangoClientTransport(client, secure=True), mac.upper(), printer.secret)

    return make


@pytest.fixture
def epson(make_cloud_printer, client):
    def make(name="Cozinha Epson", device_id="cozinha-01", **fields):
        printer = make_cloud_printer(name, device_id=device_id, **fields)
        return printer, EpsonSdpPrinter(DjangoClientTransport(client, secure=True), device_id, printer.secret)

    return make


@pytest.fixture
def staff_events():
    """Everything the server pushes to staff pages (the in-memory channel layer's staff group)."""
    from printing.groups import STAFF_GROUP

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(STAFF_GROUP, channel)

    def drain():
        messages = []
        while True:
            try:
                message = async_to_sync(_receive_nowait)(layer, channel)
            except TimeoutError:
                return messages
            messages.append(message)

    return drain


async def _receive_nowait(layer, channel):
    import asyncio

    return await asyncio.wait_for(layer.receive(channel), 0.05)
