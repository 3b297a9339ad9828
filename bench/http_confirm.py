"""Confirmations the way users send them, over HTTP through daphne: jobs/s and CPU ms per job.

    .venv/bin/python -m bench.http_confirm [--orders 300] [--concurrency 4]

On loopback in a temporary directory: one real ``daphne`` (production settings, DJANGO_DEBUG=false,
plain HTTP as behind the TLS proxy,
in-memory channel layer, SQLite, sweep every 3 s), one printer that auto-prints counter orders and
one simulated agent (``bench.agents``: acknowledges every job ``completed`` at once). Two runs of
``--orders`` each, ``--concurrency`` clients on keep-alive connections:

- **staff confirm**: a staff member logged in (session cookie and CSRF token, as the browser has
  them) POSTs the order list's "confirm" action, ``/orders/<id>/confirm/``, for pending counter
  orders (the redirect it answers is not followed: the page it leads to is not the confirmation);
- **API**: ``POST /api/v1/orders`` with ``"confirm": true`` and an API key (``Authorization:
  Bearer``): the order is created and confirmed in one request.

jobs/s = jobs completed ÷ seconds from the first request to the last job's ``finished_at``;
CPU ms/job = the daphne process's CPU time meanwhile ÷ jobs completed.
"""

import argparse
import asyncio
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.agents import Fleet  # noqa: E402
from bench.runner import cpu_seconds  # noqa: E402
from tools.processes import DaphneServer, Database, StaffBrowser  # noqa: E402

ITEMS = [
    {"name": "Pão de queijo", "quantity": 2, "unit_price": "4.50"},
    {"name": "Suco de laranja natural", "quantity": 1, "unit_price": "6.00"},
    {"name": "Coxinha de frango", "quantity": 1, "unit_price": "7.25"},
]


def setup(server, orders):
    return server.manage.python(
        f"""
from api.models import ApiKey
from bench.server import orders_create
from printing import services
from printing.models import Printer
printer = Printer.objects.create(name="Balcão", auto_print=["counter"])
token = services.printer_issue_token(printer=printer)
key = ApiKey(name="bench", rate_per_minute=10**6)
secret = key.issue()
key.save()
print(json.dumps({{"token": token, "key": secret, "orders": orders_create({orders}, 3)}}))
""",
        timeout=300,
    )


class Client:
    """One keep-alive HTTP connection; ``post`` returns the status."""

    def __init__(self, port, headers):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = headers

    def post(self, path, body):
        self.connection.request("POST", path, body=body, headers=self.headers)
        response = self.connection.getresponse()
        response.read()
        return response.status


def staff_headers(server):
    server.manage.create_staff("bench", "bench-pass-123")
    browser = StaffBrowser(server.http_url).login("bench", "bench-pass-123")
    cookies = {cookie.name: cookie.value for cookie in browser.cookies}
    return {
        "Cookie": f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}",
        "X-CSRFToken": cookies["csrftoken"],
        "Content-Type": "application/x-www-form-urlencoded",
        "Referer": server.http_url + "/orders/",
    }


def drive(port, headers, requests, concurrency):
    """Send ``requests`` [(path, body)] from ``concurrency`` threads; return the statuses."""
    statuses = []
    lock = threading.Lock()
    queue = list(reversed(requests))

    def worker():
        client = Client(port, headers)
        while True:
            with lock:
                if not queue:
                    return
                path, body = queue.pop()
            status = client.post(path, body)
            with lock:
                statuses.append(status)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


async def measure(name, server, database, requests, concurrency, log):
    done_before = database.rows("SELECT COUNT(*) FROM printing_printjob WHERE status = 'completed'")[0][0]
    pid = server.process.pid
    cpu = cpu_seconds(pid)
    started_wall, started = time.time(), time.monotonic()
    statuses = await asyncio.to_thread(drive, server.port, HEADERS[name], requests, concurrency)
    accepted = sum(1 for status in statuses if status in (200, 201, 302))
    deadline = time.monotonic() + 120
    while True:
        completed, last = database.rows(
            "SELECT COUNT(*), MAX(finished_at) FROM printing_printjob WHERE status = 'completed'"
        )[0]
        if completed - done_before >= accepted or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    server_cpu = cpu_seconds(pid) - cpu
    jobs = completed - done_before
    from datetime import UTC, datetime

    last_at = datetime.fromisoformat(str(last)).replace(tzinfo=UTC).timestamp() if last else time.time()
    seconds = max(last_at - started_wall, time.monotonic() - started if jobs < accepted else 0.001)
    row = {
        "setup": name,
        "requests": len(requests),
        "accepted": accepted,
        "errors": sorted({status for status in statuses if status not in (200, 201, 302)}),
        "jobs_completed": jobs,
        "jobs_per_s": round(jobs / seconds, 1),
        "cpu_ms_per_job": round(1000 * server_cpu / max(1, jobs), 2),
    }
    log(f"{name}: {row}")
    return row


HEADERS = {}


async def run(args, log):
    with tempfile.TemporaryDirectory(prefix="cantina-http-bench-") as work:
        server = DaphneServer(
            Path(work),
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="bench-http-" + "x" * 40,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            CANTINA_SWEEP_INTERVAL="3",
            CANTINA_API_RATE_PER_MINUTE="1000000",
            # Plain HTTP on loopback: in production a TLS proxy stands in front.
            DJANGO_SECURE_SSL_REDIRECT="false",
            DJANGO_SECURE_COOKIES="false",
        )
        data = setup(server, args.orders)
        server.start(timeout=60)
        fleet = Fleet(ack=True, keepalive=True)
        try:
            await fleet.connect([(server.agent_url, data["token"])], timeout=60)
            HEADERS["staff confirm"] = staff_headers(server)
            HEADERS["API POST /api/v1/orders"] = {
                "Authorization": f"Bearer {data['key']}",
                "Content-Type": "application/json",
            }
            database = Database(server.env["DATABASE_URL"])
            rows = []
            confirms = [(f"/orders/{order_id}/confirm/", "") for order_id in data["orders"]]
            rows.append(await measure("staff confirm", server, database, confirms, args.concurrency, log))
            body = json.dumps({"customer_name": "Ana Luíza", "items": ITEMS, "payment_method": "pix", "confirm": True})
            posts = [("/api/v1/orders", body)] * args.orders
            rows.append(await measure("API POST /api/v1/orders", server, database, posts, args.concurrency, log))
            return rows
        finally:
            await fleet.close()
            server.stop()


def render(rows):
    lines = ["HTTP confirmations through 1 daphne · in-memory layer · SQLite (one printer, one agent)"]
    lines.append(f"{'how':28}  {'jobs':>5}  {'jobs/s':>7}  {'CPU ms/job':>10}  errors")
    for row in rows:
        lines.append(
            f"{row['setup']:28}  {row['jobs_completed']:>5}  {row['jobs_per_s']:>7}  {row['cpu_ms_per_job']:>10}  "
            f"{row['errors'] or '-'}"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.http_confirm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=300, help="confirmations per run")
    parser.add_argument("--concurrency", type=int, default=4, help="clients sending at once")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)

    def log(line):
        print(line, file=sys.stderr, flush=True)

    rows = asyncio.run(run(args, log))
    print(render(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
