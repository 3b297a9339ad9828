"""A staff member selling at the counter over HTTP while the scenarios break things.

Each sale is a real ``POST /`` (the counter page: create and confirm in one transaction) with a
client-side reference as the customer's name, so a sale whose answer never came (the server died
mid-request, the proxy cut it) can be checked in the database before it is tried again: it is
retried only when the database shows it did not apply. A 503 (the database restarting) is
retried too, after checking that it left nothing behind.
"""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from tools.processes import StaffBrowser


def answer_name(status):
    if status == 302:
        return "confirmed"
    if status == 503:
        return "503"
    return f"{status // 100}xx:{status}"


def prepare_counter(manage):
    """A staff account and a product to sell, made with ``manage`` (a tools.processes Manage)."""
    credentials = manage.create_staff("seller", "seller-pass-123")
    product_id = manage.python(
        """
from decimal import Decimal
from orders.models import Product
print(json.dumps(Product.objects.create(name="Pão de queijo", category="Salgados", price=Decimal("4.50")).pk))
"""
    )
    return credentials, product_id


@dataclass
class Attempt:
    ref: str
    outcome: str  # "confirmed", "503", "5xx:<code>", "no answer: <error>", "4xx:<code>"
    seconds: float
    applied: bool | None = None  # for attempts without a clean answer: what the database said
    started_at: float = 0.0  # time.monotonic() when the request was sent

    def overlaps(self, start, end):
        return self.started_at < end and self.started_at + self.seconds > start


@dataclass
class HttpSeller:
    base_url: str
    credentials: tuple
    product_id: int
    database: object  # tools.processes.Database
    settled: threading.Event = field(default_factory=threading.Event)  # set: no server is mid-shutdown
    attempts: list = field(default_factory=list)
    refs_confirmed: list = field(default_factory=list)
    thread: threading.Thread | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None

    def __post_init__(self):
        self.settled.set()
        browser = StaffBrowser(self.base_url).login(*self.credentials)
        self.cookies = {cookie.name: cookie.value for cookie in browser.cookies}
        split = urlsplit(self.base_url)
        self.host, self.port = split.hostname, split.port

    # --- one request ---------------------------------------------------------------------------

    def post_sale(self, ref, timeout=60):
        body = urlencode(
            {
                "csrfmiddlewaretoken": self.cookies["csrftoken"],
                "product": self.product_id,
                "quantity": 1,
                "customer_name": ref,
                "payment_method": "cash",
            }
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{name}={value}" for name, value in self.cookies.items()),
            "Referer": self.base_url + "/",
            "X-CSRFToken": self.cookies["csrftoken"],
        }
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("POST", "/", body, headers)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def orders_with_ref(self, ref, timeout=60):
        """The orders this sale made; waits for the database to answer (it may be restarting)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.database.rows(f"SELECT id, status FROM orders_order WHERE customer_name = '{ref}'")
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def sell(self, ref, max_attempts=30):
        """Sell once, retrying only what certainly did not apply; True once confirmed."""
        for _ in range(max_attempts):
            started = time.monotonic()
            try:
                status = self.post_sale(ref)
            except (OSError, http.client.HTTPException) as error:
                attempt = Attempt(
                    ref, f"no answer: {type(error).__name__}", time.monotonic() - started, started_at=started
                )
                # Did it apply? Only a server that has finished dying can say for sure.
                self.settled.wait(60)
                attempt.applied = bool(self.orders_with_ref(ref))
                self.attempts.append(attempt)
                if attempt.applied:
                    self.refs_confirmed.append(ref)
                    return True
                time.sleep(0.3)
                continue
            attempt = Attempt(ref, answer_name(status), time.monotonic() - started, started_at=started)
            self.attempts.append(attempt)
            if status == 302:
                self.refs_confirmed.append(ref)
                return True
            attempt.applied = bool(self.orders_with_ref(ref))
            if attempt.applied:  # a failure answer for a sale that applied: the worst kind of lie
                return True
            time.sleep(0.5)
        return False

    # --- in the background -----------------------------------------------------------------------

    def start(self, count, interval=0.3, prefix="web"):
        def run():
            try:
                for number in range(count):
                    if self.stop.is_set():
                        break
                    started = time.monotonic()
                    self.sell(f"{prefix}-{number}")
                    time.sleep(max(0.0, interval - (time.monotonic() - started)))
            except BaseException as error:  # reported by join()
                self.error = error

        self.thread = threading.Thread(target=run, name="http-seller", daemon=True)
        self.thread.start()
        return self

    def join(self, timeout=180):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError(f"the HTTP seller is still selling after {timeout} s")
        if self.error is not None:
            raise AssertionError(f"the HTTP seller failed: {self.error!r}")

    def summary(self):
        outcomes = {}
        for attempt in self.attempts:
            key = attempt.outcome if attempt.applied is None else f"{attempt.outcome} (applied={attempt.applied})"
            outcomes[key] = outcomes.get(key, 0) + 1
        return {
            "sales_confirmed": len(self.refs_confirmed),
            "requests": len(self.attempts),
            "outcomes": outcomes,
            "slowest_request_seconds": round(max((a.seconds for a in self.attempts), default=0), 2),
        }

    def doubled_sales(self):
        """References with more than one order: a retry of a sale that had applied."""
        return self.database.rows(
            "SELECT customer_name, COUNT(*) FROM orders_order WHERE customer_name LIKE 'web-%' "
            "GROUP BY customer_name HAVING COUNT(*) > 1"
        )

    def bad_answers(self):
        """Answers no client should get: a 5xx other than the database's 503, a 4xx, or a
        failure answer for a sale that did apply."""
        return [a for a in self.attempts if a.outcome.startswith(("5xx", "4xx")) or (a.outcome == "503" and a.applied)]
