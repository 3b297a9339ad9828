"""An integrator's program placing orders through the print API while the scenarios break things.

Each order is ``POST /api/v1/orders`` with ``confirm: true`` (its receipts print like a counter
sale), an ``external_id`` and an ``Idempotency-Key``, both ``api-N``. Unlike the staff seller
(seller.py), this client never looks in the database: on a timeout, a connection error, a 5xx or
a 429 it sends the very same request again with the same key, as the API documentation tells
integrators to. Idempotency must make that safe: exactly one order per key, whatever happened.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


def prepare_api_key(manage):
    """An API key allowed to place orders (``apikey_add``: the key alone on the last line)."""
    return manage("apikey_add", "faults", "--scopes", "orders").stdout.strip().splitlines()[-1]


@dataclass
class ApiAttempt:
    key: str
    outcome: str  # "201", "200" (a replay), "5xx:503", "429", "no answer: TimeoutError"...
    seconds: float


@dataclass
class ApiClient:
    base_url: str
    api_key: str
    database: object  # tools.processes.Database, for the final count only
    attempts: list = field(default_factory=list)
    keys_confirmed: list = field(default_factory=list)
    thread: threading.Thread | None = None
    error: BaseException | None = None

    def __post_init__(self):
        split = urlsplit(self.base_url)
        self.host, self.port = split.hostname, split.port

    def post_order(self, key, timeout=30):
        body = json.dumps(
            {
                "external_id": key,
                "customer_name": key,
                "channel": "counter",
                "items": [{"name": "Pão de queijo", "quantity": 2, "unit_price": "4.50"}],
                "payment_method": "pix",
                "confirm": True,
            }
        )
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request("POST", "/api/v1/orders", body, headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, payload
        finally:
            connection.close()

    def place(self, key, max_attempts=60):
        """Place one order, retrying blindly with the same key until the API answers 2xx."""
        for _ in range(max_attempts):
            started = time.monotonic()
            try:
                status, payload = self.post_order(key)
            except (OSError, http.client.HTTPException) as error:
                self.attempts.append(ApiAttempt(key, f"no answer: {type(error).__name__}", time.monotonic() - started))
                time.sleep(0.5)
                continue
            outcome = str(status) if status < 500 else f"5xx:{status}"
            self.attempts.append(ApiAttempt(key, outcome, time.monotonic() - started))
            if status in (200, 201):
                self.keys_confirmed.append(key)
                return json.loads(payload)
            if status == 429 or status >= 500:
                time.sleep(0.5)
                continue
            raise AssertionError(f"the API refused order {key}: {status} {payload[:500]!r}")
        raise AssertionError(f"order {key} not placed after {max_attempts} attempts")

    def start(self, count, interval=0.5, prefix="api"):
        def run():
            try:
                for number in range(count):
                    started = time.monotonic()
                    self.place(f"{prefix}-{number}")
                    time.sleep(max(0.0, interval - (time.monotonic() - started)))
            except BaseException as error:  # reported by join()
                self.error = error

        self.thread = threading.Thread(target=run, name="api-client", daemon=True)
        self.thread.start()
        return self

    def join(self, timeout=180):
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError(f"the API client is still placing orders after {timeout} s")
        if self.error is not None:
            raise AssertionError(f"the API client failed: {self.error!r}")

    def orders_per_key(self):
        """{key: number of orders} for every key sent: exactly one each, or idempotency failed."""
        rows = self.database.rows(
            "SELECT customer_name, COUNT(*) FROM orders_order WHERE customer_name LIKE 'api-%' GROUP BY customer_name"
        )
        counts = dict.fromkeys({attempt.key for attempt in self.attempts}, 0)
        counts.update({name: count for name, count in rows})
        return counts

    def _requests_per_key(self):
        counts = {}
        for attempt in self.attempts:
            counts[attempt.key] = counts.get(attempt.key, 0) + 1
        return counts

    def summary(self):
        outcomes = {}
        for attempt in self.attempts:
            outcomes[attempt.outcome] = outcomes.get(attempt.outcome, 0) + 1
        per_key = self.orders_per_key()
        return {
            "orders_placed": len(self.keys_confirmed),
            "requests": len(self.attempts),
            "retried_keys": sum(1 for count in self._requests_per_key().values() if count > 1),
            "outcomes": outcomes,
            "keys_without_order": sorted(key for key, count in per_key.items() if count == 0),
            "keys_with_several_orders": sorted(key for key, count in per_key.items() if count > 1),
        }
