"""Epson Server Direct Print: the printer's form POSTs and the ePOS-Print XML the server answers.

- ``ConnectionType=GetRequest&ID=…&Name=…``: the server answers a ``PrintRequestInfo`` holding
  one ``ePOSPrint`` (``Parameter``: ``devid``, ``timeout``, ``printjobid``; ``PrintData``: the job
  as ``<epos-print>``), or an empty body when there is nothing to print.
- ``ConnectionType=SetResponse&ID=…&ResponseFile=<PrintResponseInfo …>``: the result per
  ``printjobid`` (``<response success= code= status=>``; version 3 adds ``ServerDirectPrint``'s own
  verdict on the XML it received).
- ``ConnectionType=SetStatus&ID=…&Status=<statusmonitor …>``: the status notification (ASB bits).

XML from printers is parsed with defusedxml (no DTD, no entities, no external references). Pure: no ORM.
"""

from dataclasses import dataclass
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from printing.models import Printer

PrinterStatus = Printer.Status
DEVICE_ID = "local_printer"
PRINT_TIMEOUT_MS = 10000

# ASB (automatic status back) bits Epson reports.
ASB_NO_RESPONSE = 0x00000001
ASB_OFF_LINE = 0x00000008
ASB_COVER_OPEN = 0x00000020
ASB_RECEIPT_NEAR_END = 0x00020000
ASB_RECEIPT_END = 0x00080000

# ePOS-Print error codes -> the job's error code (retryable ones wait for the printer).
ERROR_CODES = {
    "EPTR_REC_EMPTY": "paper_out",
    "EPTR_COVER_OPEN": "cover_open",
    "EX_BADPORT": "offline",
    "DeviceNotFound": "offline",
    "EX_TIMEOUT": "offline",
    "EX_ENPC_TIMEOUT": "offline",
    "SchemaError": "bad_data",
    "ParameterError": "bad_data",
    "TooManyRequests": "offline",
    "EPTR_MECHANICAL": "printer_error",
    "EPTR_AUTOCUTTER": "printer_error",
    "EPTR_UNRECOVERABLE": "printer_error",
    "EPTR_AUTOMATICAL": "printer_error",
    "PrintSystemError": "printer_error",
}


class ProtocolError(ValueError):
    """A request the server cannot read; ``str()`` says what is wrong."""


@dataclass(frozen=True)
class JobResult:
    job_token: str  # the printjobid ("" when the printer's answer names none)
    success: bool
    error_code: str = ""
    message: str = ""


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _parse(xml: str, what: str) -> Element:
    if not xml or not xml.strip():
        raise ProtocolError(f"{what} is empty")
    try:
        # No printer sends a DOCTYPE: refusing any keeps entity tricks and external DTDs out
        # altogether. An unknown encoding in the declaration is a LookupError.
        return fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError, LookupError) as error:
        raise ProtocolError(f"{what} is not well-formed XML: {error}") from None


def print_request(job_token: str, epos_print_xml: str) -> bytes:
    """The GetRequest answer for one job (``epos_print_xml`` is an ``<epos-print>`` element)."""
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<PrintRequestInfo Version="2.00"><ePOSPrint><Parameter>'
        f"<devid>{DEVICE_ID}</devid><timeout>{PRINT_TIMEOUT_MS}</timeout>"
        f"<printjobid>{escape(job_token)}</printjobid>"
        f"</Parameter><PrintData>{epos_print_xml}</PrintData></ePOSPrint></PrintRequestInfo>"
    ).encode()


def asb_status(asb: int) -> tuple[Printer.Status, str]:
    """(Printer.Status, detail) for an ASB value."""
    if asb & ASB_NO_RESPONSE:
        return PrinterStatus.OFFLINE, "no response"
    if asb & ASB_RECEIPT_END:
        return PrinterStatus.PAPER_OUT, "receipt paper end"
    if asb & ASB_COVER_OPEN:
        return PrinterStatus.COVER_OPEN, "cover open"
    if asb & ASB_OFF_LINE:
        return PrinterStatus.OFFLINE, "off line"
    if asb & ASB_RECEIPT_NEAR_END:
        return PrinterStatus.PAPER_LOW, "receipt paper near end"
    return PrinterStatus.READY, ""


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip(), 0) if value.strip().lower().startswith("0x") else int(value.strip())
    except ValueError:
        return None


def parse_response_file(xml: str) -> tuple[list[JobResult], str]:
    """The per-job results of a SetResponse, and the printer's complaint about the whole
    request ("" when none: version 3's ``ServerDirectPrint/Response Success="false"``)."""
    root = _parse(xml, "ResponseFile")
    if _local(root.tag) != "PrintResponseInfo":
        raise ProtocolError(f"ResponseFile must be a PrintResponseInfo, not {_local(root.tag)!r}")
    complaint = ""
    for element in root:
        if _local(element.tag) == "ServerDirectPrint":
            for answer in element:
                if _local(answer.tag) == "Response" and (answer.get("Success") or "").lower() == "false":
                    parts = [(child.text or "").strip() for child in answer]
                    complaint = " / ".join(part for part in parts if part)[:200] or "request refused"
    results = []
    for epos in root:
        if _local(epos.tag) != "ePOSPrint":
            continue
        token = ""
        response: Element | None = None
        for part in epos:
            if _local(part.tag) == "Parameter":
                for field in part:
                    if _local(field.tag) == "printjobid":
                        token = (field.text or "").strip()
            elif _local(part.tag) == "PrintResponse":
                for child in part:
                    if _local(child.tag) == "response":
                        response = child
        if response is None:
            raise ProtocolError("an ePOSPrint result has no PrintResponse/response element")
        success = (response.get("success") or "").lower() == "true"
        code = (response.get("code") or "").strip()
        if success:
            results.append(JobResult(token, True))
            continue
        error_code = ERROR_CODES.get(code)
        asb = _int(response.get("status"))
        if error_code is None and asb:
            status, _detail = asb_status(asb)
            error_code = {
                PrinterStatus.PAPER_OUT: "paper_out",
                PrinterStatus.COVER_OPEN: "cover_open",
                PrinterStatus.OFFLINE: "offline",
            }.get(status)
        results.append(JobResult(token, False, error_code or "printer_error", f"ePOS-Print {code or 'error'}"[:200]))
    return results, complaint


def parse_status(xml: str) -> tuple[str, str]:
    """(Printer.Status, detail) from a status notification's ``statusmonitor``."""
    root = _parse(xml, "Status")
    if _local(root.tag) != "statusmonitor":
        raise ProtocolError(f"Status must be a statusmonitor, not {_local(root.tag)!r}")
    entries = [element for element in root if _local(element.tag) == "printerstatus"]
    chosen = next((e for e in entries if e.get("devicename") == DEVICE_ID), entries[0] if entries else None)
    if chosen is None:
        raise ProtocolError("statusmonitor has no printerstatus")
    asb = _int(chosen.get("asbstatus"))
    if asb is None:
        raise ProtocolError("printerstatus has no valid asbstatus")
    return asb_status(asb)
