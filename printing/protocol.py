"""The agent wire protocol (v1), server side: message builders, close codes, status outcomes.

``printing.consumers`` speaks these messages over /ws/agent/; ``agent/`` is the other end (it
shares no code with the server). The message shapes are the contract in DESIGN.md.
"""

import base64
from dataclasses import dataclass

from django.utils import timezone

SERVER_NAME = "Cantina Print"
SERVER_VERSION = "1.0.0"
PROTOCOL_CAPABILITIES = ["order_print", "receipt_print", "status_update"]

# ``print_status`` values an agent may report.
AGENT_REPORTED_STATUSES = frozenset({"received", "printing", "completed", "failed"})


class CloseCode:
    UNAUTHORIZED = 4401
    PRINTER_DISABLED = 4403
    FORBIDDEN = 4403  # staff socket: an account without permission to see jobs or printers
    REPLACED = 4409
    MESSAGE_TOO_BIG = 4413
    TOO_MANY_MESSAGES = 4429
    # The database or the channel layer is not answering: try again shortly (an agent then gets
    # its in-flight jobs again and re-acknowledges them; a staff page shows it is not live).
    UNAVAILABLE = 4503


@dataclass(frozen=True)
class StatusOutcome:
    """What ``services.job_mark_status`` made of a ``print_status`` report."""

    ok: bool
    changed: bool = False
    status: str = ""
    error: str = ""  # protocol error code when not ok
    message: str = ""
    pending: bool = False  # after a finished job: the printer has pending jobs to deliver


def now_iso():
    return timezone.localtime().isoformat()


def job_payload(job):
    """The ``order`` object of a ``new_order`` message, from a row of ``statements.jobs_for_delivery``."""
    order_info = None
    if job["order_id"] is not None:
        order_info = {
            "id": job["order_id"],
            "number": job["order__number"],
            "status": job["order__status"],
            "channel": job["order__channel"],
            "total_amount": str(job["order__total"]),
            "customer_name": job["order__customer_name"],
        }
    return {
        "job_id": job["pk"],
        "order_id": job["order_id"],
        "type": job["kind"],
        "content": job["content"],
        "escpos": base64.b64encode(job["escpos"]).decode("ascii"),
        "copies": job["copies"],
        "priority": job["priority"],
        "order_info": order_info,
        "printer_config": {
            "paper_width": job["printer__paper_width"],
            "printer_type": "thermal",
            "profile": job["printer__profile"],
            "has_cutter": job["printer__has_cutter"],
        },
    }


def welcome_message(printer):
    """``welcome``, for ``printer`` as returned by ``services.printer_authenticate``."""
    return {
        "type": "welcome",
        "message": f"Connected to {SERVER_NAME} as printer “{printer['name']}”",
        "timestamp": now_iso(),
        "server_info": {"name": SERVER_NAME, "version": SERVER_VERSION, "capabilities": PROTOCOL_CAPABILITIES},
        "printer": {
            "id": printer["id"],
            "name": printer["name"],
            "paper_width": printer["paper_width"],
            "profile": printer["profile"],
            "has_cutter": printer["has_cutter"],
        },
    }


def new_order_message(payload):
    return {"type": "new_order", "timestamp": now_iso(), "order": payload}


def cancel_message(job_id):
    return {"type": "cancel", "job_id": job_id, "timestamp": now_iso()}


def local_job_recorded_message(*, local_id, job_id, status, error_code):
    """The server's receipt for an agent's ``local_job`` report: the agent stops re-sending it."""
    return {
        "type": "local_job_recorded",
        "local_id": local_id,
        "job_id": job_id,
        "status": status,
        "error_code": error_code or None,
        "timestamp": now_iso(),
    }


def error_message(code, message, ref=None):
    return {"type": "error", "code": code, "message": message, "ref": ref, "timestamp": now_iso()}


def ping_message():
    return {"type": "ping", "timestamp": now_iso()}


def pong_message():
    return {"type": "pong", "timestamp": now_iso()}
