"""Printer URLs, status decoding, and real reads from the fake printer over TCP."""

import asyncio
import base64

import pytest
import pytest_asyncio

from agent.client import BadJob, job_bytes
from agent.printers import (
    CupsPrinter,
    FakePrinter,
    FilePrinter,
    NetworkPrinter,
    PrinterUnavailable,
    PrinterURLError,
    PrinterWriteError,
    SerialPrinter,
    UsbPrinter,
    build_test_page,
    open_printer,
    status_from_dle_eot,
)


def test_tcp_url_defaults_to_port_9100():
    printer = open_printer("tcp://192.168.1.50")
    assert isinstance(printer, NetworkPrinter)
    assert (printer.host, printer.port) == ("192.168.1.50", 9100)
    assert open_printer("tcp://printer.local:9101").port == 9101


def test_usb_url_takes_hex_ids_and_endpoints():
    printer = open_printer("usb://04b8:0e15?in_ep=0x81&out_ep=0x02")
    assert isinstance(printer, UsbPrinter)
    assert (printer.vendor_id, printer.product_id, printer.in_ep, printer.out_ep) == (0x04B8, 0x0E15, 0x81, 0x02)


def test_serial_url_takes_device_and_options():
    printer = open_printer("serial:///dev/ttyUSB0?baudrate=19200&parity=even")
    assert isinstance(printer, SerialPrinter)
    assert printer.devfile == "/dev/ttyUSB0"
    assert printer.options == {"baudrate": 19200, "parity": "E"}


def test_file_cups_and_fake_urls(tmp_path):
    assert open_printer("file:///dev/usb/lp0").path == "/dev/usb/lp0"
    assert open_printer("cups://Kitchen_TM20").queue == "Kitchen_TM20"
    fake = open_printer(f"fake://{tmp_path}")
    assert isinstance(fake, FakePrinter) and fake.store.directory == tmp_path
    assert isinstance(open_printer("file:///tmp/x"), FilePrinter)
    assert isinstance(open_printer("cups://q"), CupsPrinter)


@pytest.mark.parametrize(
    "url",
    [
        "lpt://1",
        "tcp://",
        "usb://04b8",
        "usb://zz:01",
        "serial://",
        "cups://",
        "tcp://host:notaport",
        "serial:///dev/ttyS0?baudrate=fast",
    ],
)
def test_bad_printer_urls_are_rejected_with_a_reason(url):
    with pytest.raises(PrinterURLError):
        open_printer(url)


@pytest.mark.parametrize(
    "answers, status",
    [
        ((0x12, None, 0x12), "ready"),
        ((0x12, None, 0x1E), "paper_low"),
        ((0x1A, 0x32, 0x72), "paper_out"),
        ((0x1A, 0x16, 0x12), "cover_open"),
        ((0x1A, 0x12, 0x12), "offline"),
        ((None, None, None), "unknown"),
        ((0xFF, None, None), "unknown"),  # not a status byte at all
    ],
)
def test_dle_eot_answers_become_a_status(answers, status):
    assert status_from_dle_eot(*answers) == status


@pytest.mark.asyncio
@pytest.mark.parametrize("state", ["ready", "paper_low", "paper_out", "cover_open", "offline"])
async def test_network_printer_reads_the_real_status(fake_printer, state):
    fake_printer.set_state(state)
    printer = open_printer(fake_printer.url)
    assert await asyncio.to_thread(printer.probe_status) == state


@pytest.mark.asyncio
async def test_network_printer_writes_the_job_in_one_connection(fake_printer):
    printer = open_printer(fake_printer.url)

    def print_job():
        with printer.open() as session:
            assert session.read_status() == "ready"
            session.write(b"\x1b@receipt\n\x1dV\x00")

    await asyncio.to_thread(print_job)
    # write() returns once the printer has read everything and closed: the file is there.
    assert fake_printer.jobs() == [b"\x1b@receipt\n\x1dV\x00"]


def test_unreachable_network_printer_is_offline(unused_tcp_port):
    printer = open_printer(f"tcp://127.0.0.1:{unused_tcp_port}")
    assert printer.probe_status() == "offline"
    with pytest.raises(PrinterUnavailable):
        printer.open()


def test_file_printer_status_is_unknown_not_ready(tmp_path):
    printer = open_printer(f"file://{tmp_path}/lp0")
    assert printer.probe_status() == "unknown"
    with printer.open() as session:
        session.write(b"abc")
    assert (tmp_path / "lp0").read_bytes() == b"abc"


def test_missing_device_file_is_offline():
    assert open_printer("file:///dev/usb/lp-does-not-exist").probe_status() == "offline"


def test_fake_directory_printer_stores_jobs_and_follows_its_state_file(tmp_path):
    printer = open_printer(f"fake://{tmp_path}")
    assert printer.probe_status() == "ready"
    with printer.open() as session:
        session.write(b"hello\n")
    assert [p.read_bytes() for p in tmp_path.glob("*.bin")] == [b"hello\n"]
    (tmp_path / "state").write_text("paper_out")
    assert printer.probe_status() == "paper_out"


def test_missing_usb_printer_is_unavailable():
    printer = open_printer("usb://ffff:fffe")
    assert printer.probe_status() == "offline"


def test_test_page_is_escpos_with_accents():
    from agent.escpos_parser import render_text

    text = render_text(build_test_page("tcp://x:9100", None))
    assert "Pão de queijo, coração" in text
    assert "cut" in text


def test_job_bytes_prefers_escpos_over_content():
    order = {"escpos": base64.b64encode(b"\x1b@hi").decode(), "content": "other"}
    assert job_bytes(order, None) == b"\x1b@hi"


def test_job_without_escpos_or_content_is_bad_data():
    with pytest.raises(BadJob):
        job_bytes({"job_id": 1}, None)


class FakeUsbDevice:
    """Stands in for escpos.printer.Usb: a USB printer cannot exist in this test machine."""

    opened = 0
    fail_next_write = False
    status = {1: 0x12, 2: 0x12, 4: 0x12}
    written: list = []

    def __init__(self, *args, **kwargs):
        self._pending = []

    def open(self):
        FakeUsbDevice.opened += 1

    def close(self):
        pass

    def query_status(self, mode):
        return bytes([FakeUsbDevice.status[mode[-1]]])

    def _raw(self, data):
        if FakeUsbDevice.fail_next_write:
            FakeUsbDevice.fail_next_write = False
            raise OSError("[Errno 19] No such device")
        FakeUsbDevice.written.append(data)


def test_usb_printer_stays_open_between_jobs_and_reopens_after_an_error(monkeypatch):
    import escpos.printer

    monkeypatch.setattr(escpos.printer, "Usb", FakeUsbDevice)
    FakeUsbDevice.opened, FakeUsbDevice.written = 0, []
    printer = open_printer("usb://04b8:0e15")

    assert printer.probe_status() == "ready"
    with printer.open() as session:
        session.write(b"one")
    assert FakeUsbDevice.opened == 1  # kept open

    FakeUsbDevice.fail_next_write = True
    with pytest.raises(PrinterWriteError):
        with printer.open() as session:
            session.write(b"two")
    with printer.open() as session:
        session.write(b"three")
    assert FakeUsbDevice.opened == 2  # reopened after the error
    assert FakeUsbDevice.written == [b"one", b"three"]


def test_usb_printer_reports_paper_out_from_dle_eot(monkeypatch):
    import escpos.printer

    monkeypatch.setattr(escpos.printer, "Usb", FakeUsbDevice)
    monkeypatch.setattr(FakeUsbDevice, "status", {1: 0x1A, 2: 0x32, 4: 0x72})
    assert open_printer("usb://04b8:0e15").probe_status() == "paper_out"


def test_tcp_url_takes_a_timeout_in_seconds():
    assert open_printer("tcp://printer.local").write_timeout == 30.0
    assert open_printer("tcp://printer.local:9100?timeout=2.5").write_timeout == 2.5
    for bad in ("tcp://p?timeout=soon", "tcp://p?timeout=0", "tcp://p?timeout=9999"):
        with pytest.raises(PrinterURLError, match="timeout"):
            open_printer(bad)


@pytest_asyncio.fixture
async def stalling_printer(tmp_path):
    """The fake printer with a tiny receive window, hanging after 100 bytes of each job."""
    from agent.fakeprinter import FakePrinterServer, JobStore

    directory = tmp_path / "stalling"
    directory.mkdir()
    (directory / "stall").write_text("100")
    server = FakePrinterServer(JobStore(directory, echo=False), "127.0.0.1", 0, receive_buffer=1)
    await server.start()
    yield server, directory
    (directory / "stall").unlink(missing_ok=True)
    await server.stop()


@pytest.mark.asyncio
@pytest.mark.timeout(60)
@pytest.mark.parametrize("size", [3_000, 8_000_000])  # backs up in the socket; blocks sendall itself
async def test_a_printer_that_stops_reading_mid_job_is_a_write_error_not_a_print(stalling_printer, size):
    server, directory = stalling_printer
    printer = open_printer(f"tcp://127.0.0.1:{server.port}?timeout=1")

    def print_job():
        with printer.open() as session:
            session.write(b"\x1b@" + b"x" * size + b"\n\x1dV\x00")

    with pytest.raises(PrinterWriteError, match="stopped"):
        await asyncio.to_thread(print_job)


@pytest.mark.asyncio
async def test_a_printer_that_takes_every_byte_but_never_closes_still_printed(tmp_path):
    """Some printers keep the connection open after the job: that is not a stall."""
    received = bytearray()
    done = asyncio.Event()

    async def never_closes(reader, writer):
        while len(received) < 3_000:
            received.extend(await reader.read(65536))
        done.set()
        await asyncio.sleep(30)

    server = await asyncio.start_server(never_closes, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    printer = open_printer(f"tcp://127.0.0.1:{port}?timeout=1")

    def print_job():
        with printer.open() as session:
            session.write(b"y" * 3_000)

    try:
        await asyncio.to_thread(print_job)
        assert done.is_set() and bytes(received) == b"y" * 3_000
    finally:
        server.close()
