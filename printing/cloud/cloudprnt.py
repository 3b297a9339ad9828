"""Star CloudPRNT (HTTP version): what the printer sends and what the server answers.

The printer POSTs a JSON status every few seconds (``printerMAC``, ``statusCode`` such as
``200%20OK`` or ``410 Out of paper``, ``status``, ``printingInProgress``, ``clientAction``); the
server answers ``{"jobReady": false}`` or ``{"jobReady": true, "mediaTypes": [...], "jobToken": …}``.
The printer then GETs ``?mac=&type=&token=`` and, after printing, DELETEs ``?mac=&code=&token=``
(``code`` is ``OK``/``2xx`` when printed, else a printer status code). Pure: no ORM here.
"""

import json
import re
from dataclasses import dataclass
from urllib.parse import unquote

from printing.models import Printer, normalize_mac

MEDIA_TEXT = "text/plain"
MEDIA_PNG = "image/png"

PrinterStatus = Printer.Status


class ProtocolError(ValueError):
    """A request the server cannot read; ``str()`` says what is wrong, for the printer's log."""


@dataclass(frozen=True)
class Poll:
    mac: str
    status_code: str  # e.g. "200 OK" ("" when the printer sent none)
    printing_in_progress: bool
    client_action: list


def parse_poll(body: bytes) -> Poll:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ProtocolError(f"the poll body is not JSON: {error}") from None
    if not isinstance(data, dict):
        raise ProtocolError("the poll body must be a JSON object")
    raw_mac = data.get("printerMAC")
    if not isinstance(raw_mac, str) or not normalize_mac(raw_mac):
        raise ProtocolError("printerMAC is missing or is not a MAC address")
    code = data.get("statusCode", "")
    if not isinstance(code, str) or len(code) > 200:
        raise ProtocolError("statusCode must be a string")
    in_progress = data.get("printingInProgress", False)
    if not isinstance(in_progress, bool):
        raise ProtocolError("printingInProgress must be true or false")
    actions = data.get("clientAction") or []
    if not isinstance(actions, list):
        raise ProtocolError("clientAction must be a list")
    return Poll(normalize_mac(raw_mac), unquote(code).strip(), in_progress, actions)


def _code_number(code: str) -> int | None:
    match = re.match(r"\s*(\d{3,4})", code or "")
    return int(match.group(1)) if match else None


def printer_status(status_code: str) -> str | None:
    """The ``Printer.Status`` a poll's ``statusCode`` says (None when it says nothing).

    Star's codes: 2xx online (21x paper low), 41x paper (410 out, 411 jam), 42x cover open, other
    4xx printer errors, 5xx problems of the client with a job (the printer itself can print).
    """
    number = _code_number(status_code)
    if number is None:
        return None
    if 200 <= number < 300:
        return PrinterStatus.PAPER_LOW if 210 <= number < 220 else PrinterStatus.READY
    if number == 410:
        return PrinterStatus.PAPER_OUT
    if 420 <= number < 430:
        return PrinterStatus.COVER_OPEN
    if 400 <= number < 500:
        return PrinterStatus.OFFLINE  # jam or another printer error: jobs wait
    if 500 <= number < 600:
        return PrinterStatus.READY
    return PrinterStatus.UNKNOWN


@dataclass(frozen=True)
class Result:
    success: bool
    error_code: str = ""
    message: str = ""


def confirmation_result(code: str) -> Result:
    """What a DELETE's ``code`` means for the job: printed, a retryable failure, or a failure."""
    code = unquote(code or "").strip()
    if code.upper() == "OK":
        return Result(True, message="")
    number = _code_number(code)
    if number is None:
        raise ProtocolError("code must be OK or a printer status code such as 200 or 410")
    if 200 <= number < 300:
        return Result(True)
    message = f"CloudPRNT {code}"[:200]
    if number == 410:
        return Result(False, "paper_out", message)
    if 420 <= number < 430:
        return Result(False, "cover_open", message)
    if number == 520:  # the printer could not download the job: nothing printed
        return Result(False, "offline", message)
    if 510 <= number < 530:
        return Result(False, "bad_data", message)
    if 400 <= number < 500:
        return Result(False, "printer_error", message)  # e.g. a jam: it may have printed part
    return Result(False, "printer_error", message)


def poll_response(handout, media_types) -> dict:
    if handout is None:
        return {"jobReady": False}
    return {"jobReady": True, "mediaTypes": list(media_types), "jobToken": handout.token}


def render_text(job) -> bytes:
    """The job as plain text: every copy, with blank lines to tear between them."""
    copies = max(1, job.copies)
    text = "\n\n\n".join([job.content.rstrip("\n")] * copies) + "\n\n\n"
    return text.encode("utf-8")
