"""Printer connections, written as URLs, on top of python-escpos connectors.

============================================  ==========================================
``tcp://HOST[:PORT][?timeout=30]``            network printer (raw port 9100), ``Network``
``usb://VID:PID[?in_ep=0x82&out_ep=0x01]``    USB printer, ids in hex, ``Usb``
``serial:///dev/ttyUSB0?baudrate=9600``       serial printer, ``Serial``
``file:///dev/usb/lp0``                       device file, ``File``
``cups://QUEUE``                              CUPS queue, ``CupsPrinter`` (or ``lp``)
``win32://Windows printer name``              a Windows printer (spooler, RAW), ``Win32Raw``
``fake:///path/to/dir``                       built-in fake printer writing files to a dir
============================================  ==========================================

Each job goes to the printer in one write. Status is read with the real-time ``DLE EOT``
queries wherever the connection can answer (network, USB, serial, fake); file and CUPS
connections cannot, and say ``unknown`` rather than pretend ``ready``.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TypeGuard
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

log = logging.getLogger("agent.printer")

READY = "ready"
PAPER_LOW = "paper_low"
PAPER_OUT = "paper_out"
COVER_OPEN = "cover_open"
OFFLINE = "offline"
ERROR = "error"
UNKNOWN = "unknown"

#: Statuses in which a job must not be sent: the server re-queues it (retryable failure).
BLOCKING_STATUSES = (PAPER_OUT, COVER_OPEN, OFFLINE)

DEFAULT_FAKE_DIR = "var/fake-printer"

# python-escpos has no type information: its printer objects (Network, Usb, Serial, File, ...) are Any.
EscposDevice = Any

_DLE_EOT = b"\x10\x04"


class PrinterURLError(ValueError):
    """The printer URL cannot be understood."""


class PrinterUnavailable(Exception):
    """The printer cannot be reached: nothing was sent to it."""


class PrinterWriteError(Exception):
    """Writing the job failed part-way: some of it may have printed."""


def status_from_dle_eot(printer: int | None, offline_cause: int | None, paper: int | None) -> str:
    """Turn the answers to ``DLE EOT 1``, ``2`` and ``4`` into a printer status.

    Each answer byte has the fixed pattern ``0xx1xx10``; anything else (or no answer) means
    the printer did not really answer, so the status is ``unknown``.
    """

    def valid(byte: int | None) -> TypeGuard[int]:
        return byte is not None and byte & 0x93 == 0x12

    if not valid(printer):
        return UNKNOWN
    if valid(paper) and paper & 0x60 == 0x60:
        return PAPER_OUT
    if printer & 0x08:  # offline: ask why
        if valid(offline_cause):
            if offline_cause & 0x04:
                return COVER_OPEN
            if offline_cause & 0x20:
                return PAPER_OUT
        return OFFLINE
    if valid(paper) and paper & 0x0C == 0x0C:
        return PAPER_LOW
    return READY


class Session:
    """One use of the printer: read its status, then write one job."""

    def read_status(self) -> str:
        return UNKNOWN

    def write(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class Printer:
    """A configured printer; ``open()`` returns a :class:`Session`."""

    scheme = ""
    reads_status = False

    def __init__(self, url: str) -> None:
        self.url = url
        self.last_error = ""  # why the printer was last found unreachable

    @property
    def display_name(self) -> str:
        """The name local clients see (``printers.find``); the URL unless the printer has a name."""
        return self.url

    def open(self) -> Session:
        raise NotImplementedError

    def probe_status(self) -> str:
        """Open, read the status, close. An unreachable printer is ``offline``."""
        try:
            with self.open() as session:
                status = session.read_status()
        except PrinterUnavailable as exc:
            self.last_error = str(exc)
            return OFFLINE
        self.last_error = ""
        return status

    def __str__(self) -> str:
        return self.url


# --- python-escpos based connections --------------------------------------------------------


def _reason(exc: Exception) -> str:
    """One line saying why a python-escpos connector failed to open."""
    text = getattr(exc, "msg", "") or str(exc) or type(exc).__name__
    return " ".join(text.split())


def _is_timeout(exc: Exception) -> bool:
    return isinstance(exc, TimeoutError) or "timeout" in type(exc).__name__.lower()


class _EscposSession(Session):
    """A session over a python-escpos printer object with ``_raw``/``_read``."""

    def __init__(self, device: EscposDevice, *, on_error: Callable[[], None] | None = None) -> None:
        self.device = device
        self._on_error = on_error

    def _query(self, n: int) -> int | None:
        try:
            answer = self.device.query_status(_DLE_EOT + bytes([n]))
        except Exception as exc:  # timeouts and I/O errors of any connector
            log.debug("status query DLE EOT %d failed: %s", n, exc)
            if not _is_timeout(exc) and self._on_error:
                self._on_error()  # e.g. USB unplugged: reopen the device next time
            return None
        return answer[0] if answer is not None and len(answer) else None

    def read_status(self) -> str:
        printer = self._query(1)
        if printer is None:
            return UNKNOWN
        offline_cause = self._query(2) if printer & 0x08 else None
        return status_from_dle_eot(printer, offline_cause, self._query(4))

    def write(self, data: bytes) -> None:
        try:
            self.device._raw(data)
        except Exception as exc:
            if self._on_error:
                self._on_error()
            raise PrinterWriteError(str(exc) or type(exc).__name__) from None


class _NetworkSession(_EscposSession):
    def __init__(self, device: EscposDevice, status_timeout: float, write_timeout: float) -> None:
        super().__init__(device)
        self.status_timeout = status_timeout
        self.write_timeout = write_timeout
        self._closed = False

    def read_status(self) -> str:
        self.device.device.settimeout(self.status_timeout)
        return super().read_status()

    def write(self, data: bytes) -> None:
        sock: socket.socket = self.device.device
        sock.settimeout(self.write_timeout)
        try:
            try:
                sock.sendall(data)
            except TimeoutError:
                # A printer that stopped reading mid-job (jammed, hung): part of it may be on paper.
                raise PrinterWriteError(
                    f"the printer stopped taking data for {self.write_timeout:g} s in the middle of the job"
                ) from None
            # Half-close and wait for the printer to close too: then it has read every
            # byte, and a close with unread data can't reset the connection and lose the end.
            sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + self.write_timeout
            while time.monotonic() < deadline:
                if not sock.recv(1024):
                    break
        except TimeoutError:
            # Some printers never close: fine if they took every byte, a stalled printer if not.
            unread = _unacknowledged_bytes(sock)
            if unread:
                raise PrinterWriteError(
                    f"the printer stopped reading: {unread} of {len(data)} bytes not taken "
                    f"after {self.write_timeout:g} s"
                ) from None
            log.debug("printer did not close the connection after the job; closing it")
        except OSError as exc:
            raise PrinterWriteError(str(exc)) from None
        finally:
            self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            sock = self.device._device
            if sock:
                sock.close()
            self.device._device = False


_SIOCOUTQ = 0x5411  # Linux: bytes in a TCP socket's send queue not yet acknowledged by the peer


def _unacknowledged_bytes(sock: socket.socket) -> int:
    """Bytes the printer has not acknowledged yet (0 where the system cannot say)."""
    try:
        import fcntl
        import struct

        answer = fcntl.ioctl(sock.fileno(), _SIOCOUTQ, struct.pack("i", 0))
        return int(struct.unpack("i", answer)[0])
    except (ImportError, OSError, ValueError):
        return 0


class NetworkPrinter(Printer):
    scheme = "tcp"
    reads_status = True

    def __init__(
        self,
        url: str,
        host: str,
        port: int,
        *,
        connect_timeout: float = 3.0,
        status_timeout: float = 2.0,
        write_timeout: float = 30.0,
    ) -> None:
        super().__init__(url)
        self.host, self.port = host, port
        self.connect_timeout = connect_timeout
        self.status_timeout = status_timeout
        self.write_timeout = write_timeout

    def open(self) -> Session:
        # A fresh connection per use: a printer that was power-cycled in between costs nothing,
        # and network printers usually serve one connection at a time anyway.
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Network

        device = Network(self.host, self.port, timeout=self.connect_timeout)
        try:
            device.open()
        except DeviceNotFoundError as exc:
            reason = (getattr(exc, "msg", "") or "connection failed").splitlines()[-1]
            raise PrinterUnavailable(f"cannot connect to {self.host}:{self.port} ({reason})") from None
        return _NetworkSession(device, self.status_timeout, self.write_timeout)


class _KeptOpenPrinter(Printer):
    """USB and serial: keep the device open between jobs and reopen it after an error."""

    reads_status = True

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._device = None

    def _make_device(self) -> EscposDevice:
        raise NotImplementedError

    def _forget(self) -> None:
        if self._device is not None:
            try:
                self._device.close()
            except Exception:
                pass
        self._device = None

    def open(self) -> Session:
        from escpos.exceptions import DeviceNotFoundError

        if self._device is None:
            device = self._make_device()
            try:
                device.open()
            except (DeviceNotFoundError, RuntimeError, OSError) as exc:
                raise PrinterUnavailable(_reason(exc)) from None
            self._device = device
        return _EscposSession(self._device, on_error=self._forget)


class UsbPrinter(_KeptOpenPrinter):
    scheme = "usb"

    def __init__(
        self, url: str, vendor_id: int, product_id: int, in_ep: int | None, out_ep: int | None, timeout: int = 5000
    ) -> None:
        super().__init__(url)
        self.vendor_id, self.product_id = vendor_id, product_id
        self.in_ep, self.out_ep, self.timeout = in_ep, out_ep, timeout

    def _make_device(self) -> EscposDevice:
        from escpos.printer import Usb

        kwargs = {"timeout": self.timeout}
        if self.in_ep is not None:
            kwargs["in_ep"] = self.in_ep
        if self.out_ep is not None:
            kwargs["out_ep"] = self.out_ep
        return Usb(self.vendor_id, self.product_id, **kwargs)


class SerialPrinter(_KeptOpenPrinter):
    scheme = "serial"

    def __init__(self, url: str, devfile: str, options: dict[str, Any]) -> None:
        super().__init__(url)
        self.devfile, self.options = devfile, options

    def _make_device(self) -> EscposDevice:
        from escpos.printer import Serial

        return Serial(self.devfile, **self.options)


class _FileSession(Session):
    def __init__(self, device: EscposDevice) -> None:
        self.device = device

    def write(self, data: bytes) -> None:
        try:
            self.device._raw(data)
            self.device.flush()
        except OSError as exc:
            raise PrinterWriteError(str(exc)) from None

    def close(self) -> None:
        try:
            self.device.close()
        except OSError:
            pass


class FilePrinter(Printer):
    """A device file such as ``/dev/usb/lp0``: write-only, so the status is ``unknown``."""

    scheme = "file"

    def __init__(self, url: str, path: str) -> None:
        super().__init__(url)
        self.path = path

    def open(self) -> Session:
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import File

        if self.path.startswith("/dev/") and not os.path.exists(self.path):
            raise PrinterUnavailable(f"{self.path} does not exist (printer off or unplugged?)")
        device = File(self.path, auto_flush=False)
        try:
            device.open()
        except DeviceNotFoundError as exc:
            raise PrinterUnavailable(_reason(exc)) from None
        return _FileSession(device)


class _CupsSession(Session):
    def __init__(self, device: EscposDevice) -> None:
        self.device = device

    def write(self, data: bytes) -> None:
        try:
            self.device._raw(data)
            self.device.close()  # submits the job to the CUPS queue
        except Exception as exc:
            raise PrinterWriteError(str(exc)) from None


class CupsPrinter(Printer):
    """A CUPS queue (raw). CUPS holds the job, so the printer's status is ``unknown``."""

    scheme = "cups"

    def __init__(self, url: str, queue: str) -> None:
        super().__init__(url)
        self.queue = queue

    def open(self) -> Session:
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import LP
        from escpos.printer import CupsPrinter as EscposCups

        if EscposCups.is_usable():  # pycups installed
            device = EscposCups(self.queue)
        elif shutil.which("lp"):
            device = LP(self.queue, auto_flush=False)
        else:
            raise PrinterUnavailable("neither pycups nor the lp command is available")
        try:
            device.open()
        except (DeviceNotFoundError, OSError, RuntimeError) as exc:
            raise PrinterUnavailable(_reason(exc)) from None
        return _CupsSession(device)


# --- Windows printers -------------------------------------------------------------------------

# Spooler status bits (winspool.h) that say the printer cannot print now.
_WIN32_STATUS = (
    (0x00000010, PAPER_OUT),  # PRINTER_STATUS_PAPER_OUT
    (0x00400000, COVER_OPEN),  # PRINTER_STATUS_DOOR_OPEN
    (0x00000080, OFFLINE),  # PRINTER_STATUS_OFFLINE
    (0x00001000, OFFLINE),  # PRINTER_STATUS_NOT_AVAILABLE
    (0x00000001, OFFLINE),  # PRINTER_STATUS_PAUSED: the spooler would only hold the job
    (0x00000008, ERROR),  # PRINTER_STATUS_PAPER_JAM
    (0x00000040, ERROR),  # PRINTER_STATUS_PAPER_PROBLEM
    (0x00100000, ERROR),  # PRINTER_STATUS_USER_INTERVENTION
    (0x00000002, ERROR),  # PRINTER_STATUS_ERROR
)


def win32_status(bits: int) -> str:
    """Map the spooler's status bits. No bits set is ``unknown``: the spooler says "no problem
    known", which is not the printer saying it is ready (it may be switched off)."""
    for mask, status in _WIN32_STATUS:
        if bits & mask:
            return status
    return UNKNOWN


class _Win32Session(Session):
    def __init__(self, printer: Win32Printer) -> None:
        self.printer = printer
        self.device = None

    def read_status(self) -> str:
        return self.printer.spooler_status()

    def write(self, data: bytes) -> None:
        from escpos.exceptions import DeviceNotFoundError
        from escpos.printer import Win32Raw

        # One spooler document per job: open, write, close (EndDocPrinter hands it to the spooler).
        device = Win32Raw(self.printer.name)
        try:
            device.open(job_name="Cantina Print")
        except DeviceNotFoundError as exc:
            raise PrinterWriteError(_reason(exc)) from None
        try:
            device._raw(data)
        except Exception as exc:
            raise PrinterWriteError(_reason(exc)) from None
        finally:
            try:
                device.close()
            except Exception as exc:  # the document may not have reached the spooler
                log.warning("closing the Windows print job failed: %s", _reason(exc))


class Win32Printer(Printer):
    """A printer installed in Windows, written RAW through the spooler (python-escpos ``Win32Raw``,
    which needs pywin32). The spooler's own status bits give a coarse status."""

    scheme = "win32"
    reads_status = True

    def __init__(self, url: str, name: str) -> None:
        super().__init__(url)
        self.name = name

    @property
    def display_name(self) -> str:
        return self.name

    def _win32print(self) -> ModuleType:
        try:
            import win32print
        except ImportError:
            raise PrinterUnavailable("pywin32 is not installed (pip install pywin32; Windows only)") from None
        return win32print

    def spooler_status(self) -> str:
        win32print = self._win32print()
        try:
            handle = win32print.OpenPrinter(self.name)
        except Exception as exc:
            self.last_error = _reason(exc)
            return OFFLINE
        try:
            return win32_status(int(win32print.GetPrinter(handle, 2).get("Status", 0)))
        except Exception as exc:
            log.debug("GetPrinter(%r) failed: %s", self.name, exc)
            return UNKNOWN
        finally:
            win32print.ClosePrinter(handle)

    def open(self) -> Session:
        win32print = self._win32print()
        if self.name not in win32_printer_names(win32print):
            raise PrinterUnavailable(f"Windows has no printer named {self.name!r} (see --list-printers)")
        return _Win32Session(self)


def win32_printer_names(win32print: ModuleType | None = None) -> list[str]:
    if win32print is None:
        import win32print as spooler
    else:
        spooler = win32print
    flags = spooler.PRINTER_ENUM_LOCAL | spooler.PRINTER_ENUM_CONNECTIONS
    return [entry[2] for entry in spooler.EnumPrinters(flags, None, 1)]


# --- the built-in fake printer ---------------------------------------------------------------


class _FakeSession(Session):
    def __init__(self, printer: FakePrinter) -> None:
        self.printer = printer

    def read_status(self) -> str:
        return self.printer.store.state()

    def write(self, data: bytes) -> None:
        try:
            self.printer.store.save(data)
        except OSError as exc:
            raise PrinterWriteError(str(exc)) from None


class FakePrinter(Printer):
    """Writes each job to ``DIR/<timestamp>-<seq>.bin`` (+ ``.txt``), like agent.fakeprinter.

    Its status comes from ``DIR/state`` (``ready`` when the file is absent).
    """

    scheme = "fake"
    reads_status = True

    def __init__(self, url: str, directory: str) -> None:
        super().__init__(url)
        from agent.fakeprinter import JobStore

        self.store = JobStore(Path(directory))

    def open(self) -> Session:
        if self.store.state() == OFFLINE:
            raise PrinterUnavailable("fake printer is offline")
        return _FakeSession(self)


# --- URLs ------------------------------------------------------------------------------------


def _int(text: str, what: str, base: int = 10) -> int:
    try:
        return int(text, base)
    except ValueError:
        raise PrinterURLError(f"{what} must be a number, got {text!r}") from None


def _seconds(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PrinterURLError(f"{what} must be a number of seconds, got {text!r}") from None
    if not 0.5 <= value <= 600:
        raise PrinterURLError(f"{what} must be between 0.5 and 600 seconds, got {text!r}")
    return value


def _query_options(query: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(query, keep_blank_values=True).items()}


def _path_of(parts: SplitResult) -> str:
    """``scheme:///abs/path`` → ``/abs/path``; ``scheme://rel/path`` → ``rel/path``."""
    return unquote(parts.netloc + parts.path)


def open_printer(url: str) -> Printer:
    """Build the :class:`Printer` for a printer URL; raise :class:`PrinterURLError` if bad."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    options = _query_options(parts.query)
    if scheme == "tcp":
        if not parts.hostname:
            raise PrinterURLError(f"missing host in {url!r} (expected tcp://HOST:9100)")
        try:
            port = parts.port or 9100
        except ValueError:
            raise PrinterURLError(f"bad port in {url!r}") from None
        timeout = _seconds(options["timeout"], "timeout") if "timeout" in options else 30.0
        return NetworkPrinter(url, parts.hostname, port, write_timeout=timeout)
    if scheme == "usb":
        ids = parts.netloc.split(":")
        if len(ids) != 2 or not all(ids):
            raise PrinterURLError(f"expected usb://VID:PID with hex ids, got {url!r}")
        vendor_id = _int(ids[0], "USB vendor id", 16)
        product_id = _int(ids[1], "USB product id", 16)
        in_ep = _int(options["in_ep"], "in_ep", 0) if "in_ep" in options else None
        out_ep = _int(options["out_ep"], "out_ep", 0) if "out_ep" in options else None
        return UsbPrinter(url, vendor_id, product_id, in_ep, out_ep)
    if scheme == "serial":
        devfile = _path_of(parts)
        if not devfile:
            raise PrinterURLError(f"missing device in {url!r} (expected serial:///dev/ttyUSB0)")
        serial_options: dict[str, Any] = {"baudrate": _int(options.get("baudrate", "9600"), "baudrate")}
        for key in ("bytesize", "stopbits"):
            if key in options:
                serial_options[key] = _int(options[key], key)
        if "parity" in options:
            serial_options["parity"] = options["parity"].upper()[:1]
        for key in ("xonxoff", "dsrdtr"):
            if key in options:
                serial_options[key] = options[key].lower() in ("1", "true", "yes", "on")
        return SerialPrinter(url, devfile, serial_options)
    if scheme == "file":
        path = _path_of(parts)
        if not path:
            raise PrinterURLError(f"missing path in {url!r} (expected file:///dev/usb/lp0)")
        return FilePrinter(url, path)
    if scheme == "cups":
        queue = _path_of(parts).strip("/")
        if not queue:
            raise PrinterURLError(f"missing queue name in {url!r} (expected cups://NAME)")
        return CupsPrinter(url, queue)
    if scheme == "fake":
        return FakePrinter(url, _path_of(parts) or DEFAULT_FAKE_DIR)
    if scheme == "win32":
        # The name is everything after "win32://", spaces and slashes included (as Windows shows it).
        name = unquote(url.strip()[len("win32://") :]) if url.strip().lower().startswith("win32://") else ""
        if not name:
            raise PrinterURLError(f"missing printer name in {url!r} (expected win32://NAME, see --list-printers)")
        return Win32Printer(url, name)
    raise PrinterURLError(
        f"unsupported printer {url!r}: use tcp://HOST:9100, usb://VID:PID, "
        "serial:///dev/ttyUSB0, file:///dev/usb/lp0, cups://NAME, win32://NAME or fake:///DIR"
    )


# --- discovery ----------------------------------------------------------------------------


@dataclass
class FoundPrinter:
    url: str
    description: str
    extra: dict[str, Any] = field(default_factory=dict)


def find_printers() -> tuple[list[FoundPrinter], list[str]]:
    """Printers this machine can see: USB devices, serial ports, CUPS queues.

    Returns ``(printers, notes)``; a note explains a source that could not be searched.
    """
    found: list[FoundPrinter] = []
    notes: list[str] = []
    try:
        import win32print
    except ImportError:
        if sys.platform == "win32":
            notes.append("Windows printers: pywin32 is not installed (pip install pywin32)")
    else:
        try:
            default = win32print.GetDefaultPrinter()
        except Exception:
            default = ""
        try:
            for name in win32_printer_names(win32print):
                found.append(
                    FoundPrinter(
                        f"win32://{name}",
                        "Windows printer" + (" (default)" if name == default else ""),
                        {"name": name, "is_default": name == default},
                    )
                )
        except Exception as exc:
            notes.append(f"Windows printers: cannot list them ({exc})")
    try:
        import usb.core
        import usb.util

        for device in usb.core.find(find_all=True):
            is_printer = device.bDeviceClass == 7 or any(
                interface.bInterfaceClass == 7 for config in device for interface in config
            )
            try:
                name = " ".join(
                    filter(
                        None,
                        (
                            usb.util.get_string(device, device.iManufacturer),
                            usb.util.get_string(device, device.iProduct),
                        ),
                    )
                )
            except Exception:  # strings need access rights to the device
                name = ""
            if is_printer or name:
                description = (name or "USB device") + ("" if is_printer else " (not a printer class)")
                found.append(FoundPrinter(f"usb://{device.idVendor:04x}:{device.idProduct:04x}", description))
    except ImportError:
        notes.append("USB: pyusb is not installed")
    except Exception as exc:  # usb.core.NoBackendError and permission problems
        notes.append(f"USB: cannot list devices ({exc}); install libusb-1.0")
    try:
        from serial.tools import list_ports

        for port in list_ports.comports():
            if port.device.startswith(("/dev/ttyS",)) and port.description in ("n/a", ""):
                continue  # built-in UARTs with nothing behind them
            found.append(FoundPrinter(f"serial://{port.device}?baudrate=9600", port.description or "serial port"))
    except ImportError:
        notes.append("serial: pyserial is not installed")
    if shutil.which("lpstat"):
        try:
            result = subprocess.run(["lpstat", "-e"], capture_output=True, text=True, timeout=10)
            for queue in result.stdout.split():
                found.append(FoundPrinter(f"cups://{queue}", "CUPS queue"))
        except (OSError, subprocess.SubprocessError) as exc:
            notes.append(f"CUPS: lpstat failed ({exc})")
    else:
        notes.append("CUPS: lpstat not found")
    return found, notes


def build_test_page(printer_url: str, profile: str | None, paper_width: int = 48) -> bytes:
    """A test page built with python-escpos calls (not sent anywhere)."""
    from escpos.printer import Dummy

    from agent import __version__

    page = Dummy(profile=profile) if profile else Dummy()
    page.set(align="center", bold=True, double_height=True, double_width=True)
    page.textln("TESTE")
    page.set(align="center", normal_textsize=True)
    page.textln("Cantina Print - test page")
    page.textln(time.strftime("%Y-%m-%d %H:%M:%S"))
    page.set(align="left")
    page.textln("-" * paper_width)
    page.textln(f"printer: {printer_url}"[:paper_width])
    page.textln(f"profile: {profile or 'default'}")
    page.textln(f"agent:   {__version__}")
    page.textln("-" * paper_width)
    page.textln("Pão de queijo, coração, açaí, maçã")
    page.textln("ÁÉÍÓÚ ÂÊÔ ÃÕ À Ç  áéíóú âêô ãõ à ç")
    page.textln("0123456789" * (paper_width // 10))
    page.set(bold=True)
    page.textln("bold")
    page.set(bold=False, underline=1)
    page.textln("underline")
    page.set(underline=0)
    page.cut()
    return bytes(page.output)
