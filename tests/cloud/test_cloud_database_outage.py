"""Cloud printers while the database is not answering (PostgreSQL restarting).

Their paths skip the site's middleware (printing.cloud.asgi), so the site's 503 for a lost database
did not apply: a poll or a confirmation meeting the outage was a 500 with a traceback in the log.
It must be a 503 with Retry-After (the printer polls again, and sends an undelivered confirmation
again), and the job must come out once the database is back. Requests go through the real ASGI
application, as daphne serves them. Fault scenario r2-3 (tests/faults/test_postgres_restart.py)
found it with a real PostgreSQL.
"""

import base64
import json

import pytest
from asgiref.sync import async_to_sync
from channels.testing import ApplicationCommunicator
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper

from cantina.asgi import application
from printing.models import PrintJob

pytestmark = pytest.mark.django_db(transaction=True)

OUTAGE = "terminating connection due to administrator command"


def asgi_request(method, path, *, query="", body=b"", headers=()):
    """(status, headers, body) of one request to the ASGI application daphne serves, over https."""
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "query_string": query.encode(),
        "headers": [(b"host", b"testserver"), *((k.lower().encode(), v.encode()) for k, v in headers)],
        "server": ("testserver", 443),
        "client": ("127.0.0.1", 50000),
    }

    async def run():
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": body})
        start = await communicator.receive_output(10)
        content = b""
        while True:
            chunk = await communicator.receive_output(10)
            content += chunk.get("body", b"")
            if not chunk.get("more_body"):
                break
        await communicator.wait(10)
        return start["status"], {k.decode().lower(): v.decode() for k, v in start.get("headers", [])}, content

    return async_to_sync(run)()


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def database_down(monkeypatch):
    """Every new cursor fails as a restarting PostgreSQL makes it fail, until ``monkeypatch.undo()``."""

    def fail(*args, **kwargs):
        raise OperationalError(OUTAGE)

    return lambda: monkeypatch.setattr(BaseDatabaseWrapper, "cursor", fail)


def star_poll(printer, mac):
    body = json.dumps({"printerMAC": mac, "statusCode": "200 OK"}).encode()
    return asgi_request(
        "POST",
        "/cloudprnt/",
        body=body,
        headers=[("Content-Type", "application/json"), ("Authorization", basic(mac, printer.secret))],
    )


def test_a_star_printer_polling_during_a_database_outage_gets_a_503_and_its_job_afterwards(
    star, make_order, database_down, monkeypatch, caplog
):
    mac = "00:11:62:AA:BB:01"
    printer, sim = star(mac=mac)
    order = make_order()
    job = PrintJob.objects.get(order=order, printer=printer)

    database_down()
    status, headers, content = star_poll(printer, mac)
    monkeypatch.undo()
    log = "\n".join(f"{r.levelname} {r.getMessage()}" + (" Traceback" if r.exc_info else "") for r in caplog.records)

    assert status == 503, content[:500]
    assert headers["retry-after"] == "5"
    assert b"database_unavailable" in content and b"Traceback" not in content and OUTAGE.encode() not in content
    assert "Traceback" not in log and "Internal Server Error" not in log, log
    assert "event=database_unavailable method=POST path=/cloudprnt/" in log
    job.refresh_from_db()
    assert job.status == "pending"

    # The database is back: the next poll hands the job out.
    assert sim.poll()["jobReady"] is True
    job.refresh_from_db()
    assert job.status == "sent"


def test_an_epson_printer_during_a_database_outage_gets_a_503_not_a_traceback(
    make_cloud_printer, database_down, monkeypatch, caplog
):
    printer = make_cloud_printer("Cozinha Epson", device_id="cozinha-01")

    database_down()
    status, headers, content = asgi_request(
        "POST",
        "/epson/sdp/",
        body=b"ConnectionType=GetRequest&ID=cozinha-01",
        headers=[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Authorization", basic("cozinha-01", printer.secret)),
        ],
    )
    monkeypatch.undo()
    log = "\n".join(f"{r.levelname} {r.getMessage()}" + (" Traceback" if r.exc_info else "") for r in caplog.records)

    assert status == 503, content[:500]
    assert headers["retry-after"] == "5"
    assert b"Traceback" not in content and OUTAGE.encode() not in content
    assert "Traceback" not in log and "event=database_unavailable method=POST path=/epson/sdp/" in log, log
