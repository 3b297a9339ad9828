"""FAKE ``win32print`` for tests on Linux — NOT pywin32. It implements only the calls python-escpos's
``Win32Raw`` and the agent make, with printers and their spooler status taken from the environment:

- ``FAKE_WIN32_PRINTERS``: printer names separated by ``;`` (the first is the default);
- ``FAKE_WIN32_SPOOL``: a directory; each finished document (StartDocPrinter … EndDocPrinter)
  becomes ``<printer>-<n>.prn`` there, holding exactly the bytes written;
- ``FAKE_WIN32_STATUS``: the spooler status bits GetPrinter(h, 2)["Status"] reports (default 0).
"""

import itertools
import os
from pathlib import Path

import pywintypes

PRINTER_ENUM_LOCAL = 2
PRINTER_ENUM_CONNECTIONS = 4
PRINTER_ENUM_NAME = 8

_documents = itertools.count(1)
_open = {}


def _printers():
    return [name for name in os.environ.get("FAKE_WIN32_PRINTERS", "").split(";") if name]


def EnumPrinters(flags, name=None, level=1):
    if level == 4:
        return [{"pPrinterName": printer, "pServerName": None, "Attributes": 0} for printer in _printers()]
    return [(8388608, f"{printer},Fake driver,", printer, "") for printer in _printers()]


def GetDefaultPrinter():
    printers = _printers()
    if not printers:
        raise pywintypes.error(2, "GetDefaultPrinter", "No default printer")
    return printers[0]


class _Handle:
    def __init__(self, name):
        self.name = name
        self.data = None

    def __bool__(self):
        return True


def OpenPrinter(name, defaults=None):
    if name not in _printers():
        raise pywintypes.error(1801, "OpenPrinter", "The printer name is invalid.")
    return _Handle(name)


def GetPrinter(handle, level=2):
    return {"pPrinterName": handle.name, "Status": int(os.environ.get("FAKE_WIN32_STATUS", "0"))}


def StartDocPrinter(handle, level, info):
    handle.data = bytearray()
    return next(_documents)


def StartPagePrinter(handle):
    pass


def WritePrinter(handle, data):
    if handle.data is None:
        raise pywintypes.error(6, "WritePrinter", "The handle is invalid.")
    handle.data += bytes(data)
    return len(data)


def EndPagePrinter(handle):
    pass


def EndDocPrinter(handle):
    spool = Path(os.environ["FAKE_WIN32_SPOOL"])
    spool.mkdir(parents=True, exist_ok=True)
    count = len(list(spool.glob("*.prn"))) + 1
    (spool / f"{handle.name}-{count:03d}.prn").write_bytes(bytes(handle.data or b""))
    handle.data = None


def ClosePrinter(handle):
    pass
