"""A Star CloudPRNT printer (tools/cloud_printers.py) polling the server while the scenarios break things.

It runs in a thread of the test: poll every ``interval`` seconds; when a job is offered, fetch it as
plain text, "print" it (a ``.txt``/``.bin`` pair in ``out_dir``, like the fake network printer's, so
the checker reads both the same way) and confirm it. A request that fails (a server restarting, the
proxy cutting it) is tried again, and a confirmation that did not get through is repeated with the
same job token before anything else, as the printer's firmware does: printed once, confirmed once.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tools.cloud_printers import CloudPrntPrinter, HttpTransport, ProtocolFailure


class CloudStation:
    def __init__(self, name, base_url, mac, secret, out_dir, interval=0.5):
        self.name = name
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.printer = CloudPrntPrinter(HttpTransport(base_url, timeout=10), mac, secret, supported=("text/plain",))
        self.interval = interval
        self.failures = 0
        self.confirm_retries = 0
        self._unconfirmed = None  # the token of a job printed but not confirmed yet
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"cloudprnt-{name}", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self._stop.set()
        self.thread.join(15)

    def _save(self, body):
        seq = len(list(self.out_dir.glob("*.bin"))) + 1
        base = self.out_dir / f"{time.strftime('%Y%m%dT%H%M%S')}-{seq:04d}"
        base.with_suffix(".txt").write_bytes(body)
        base.with_suffix(".bin").write_bytes(body)

    def _step(self):
        if self._unconfirmed is not None:
            self.printer.current = {"token": self._unconfirmed, "type": "text/plain"}
            self.printer.confirm("200 OK", token=self._unconfirmed)
            self._unconfirmed = None
            return True
        answer = self.printer.poll()
        if not answer.get("jobReady"):
            return False
        body = self.printer.fetch()
        self._save(body)
        self._unconfirmed = self.printer.current["token"]
        self.printer.confirm("200 OK")
        self._unconfirmed = None
        return True  # a printer polls again at once after a job

    def _run(self):
        while not self._stop.is_set():
            try:
                if self._step():
                    continue
            except (ProtocolFailure, OSError, ValueError) as error:
                self.failures += 1
                if self._unconfirmed is not None:
                    self.confirm_retries += 1
                self.printer.transport.close()
                if isinstance(error, ProtocolFailure) and 400 <= error.status < 500:
                    self._unconfirmed = None  # refused, not unreachable: the next poll says what is due
                self._stop.wait(self.interval)
                continue
            self._stop.wait(self.interval)

    def summary(self):
        return {"failed_requests": self.failures, "confirm_retries": self.confirm_retries}
