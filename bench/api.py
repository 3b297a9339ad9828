"""Print API bench: POST → completed latency, and POST /api/v1/print-jobs requests per second.

    .venv/bin/python -m bench.api [--latency-jobs 30] [--requests 600] [--concurrency 8]
                                  [--database-url postgres://…]

Starts, on loopback and in a temporary directory, one real daphne (production settings:
DJANGO_DEBUG=false, INFO logging to a file), the fake printer and a real agent process.

- latency: one job at a time, ``POST /api/v1/print-jobs`` (a small poster document) until
  ``GET /api/v1/print-jobs/{id}`` says ``completed`` (polled every 5 ms), so it includes the wake-up,
  the agent, the fake printer and the acknowledgement. Median, p95 and max.
- throughput: ``--concurrency`` clients on keep-alive connections send ``--requests`` POSTs
  (documents, then raw bytes) to the one daphne process; requests/s = answered 201s ÷ wall time.
  The agent keeps printing meanwhile, as in production.
"""

import argparse
import base64
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.polling import wait_for  # noqa: E402
from tools.processes import AgentProcess, DaphneServer, FakePrinterProcess  # noqa: E402

DOCUMENT = {
    "version": "1.0",
    "commands": [
        {"type": "text", "data": {"content": "Senha 42", "style": {"bold": True, "size": "2x2", "align": "center"}}},
        {"type": "separator", "data": {}},
        {"type": "text", "data": {"content": "Pão de queijo x2   R$ 9,00"}},
        {"type": "cut", "data": {}},
    ],
}
RAW = base64.b64encode(b"^XA^FO40,40^A0N,40,40^FDSenha 42^FS^XZ").decode()


class Api:
    def __init__(self, port, key):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def call(self, method, path, body=None):
        self.connection.request(method, path, body=None if body is None else json.dumps(body), headers=self.headers)
        response = self.connection.getresponse()
        return response.status, json.loads(response.read())


def _at(value):
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()


def latency(api, count, stages=None):
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        status, job = api.call("POST", "/api/v1/print-jobs", {"printer": "Balcão", "document": DOCUMENT})
        assert status == 201, job
        while job["status"] != "completed":
            assert job["status"] not in {"failed", "cancelled"}, job
            time.sleep(0.005)
            _, job = api.call("GET", f"/api/v1/print-jobs/{job['id']}")
        samples.append((time.perf_counter() - started) * 1000)
        if stages is not None:
            created, sent, printing, finished = (
                _at(job[name]) for name in ("created_at", "sent_at", "started_at", "finished_at")
            )
            stages.append(((sent - created) * 1000, (printing - sent) * 1000, (finished - printing) * 1000))
    return samples


def throughput(port, key, total, concurrency, body):
    per_client = total // concurrency
    done, errors = [], []

    def client():
        api = Api(port, key)
        for _ in range(per_client):
            status, _answer = api.call("POST", "/api/v1/print-jobs", body)
            (done if status == 201 else errors).append(status)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(done) / elapsed, len(done), errors


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--latency-jobs", type=int, default=30)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: SQLite in the temporary directory")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cantina-bench-api-") as tmp:
        tmp = Path(tmp)
        env = {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench",
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_SECURE_COOKIES": "false",
            "CANTINA_LOG_FILE": str(tmp / "server.log"),
            "CANTINA_SWEEP_INTERVAL": "3",
            "CANTINA_API_BURST": "100000",
            "CANTINA_API_RATE_PER_MINUTE": "6000000",
        }
        if args.database_url:
            env["DATABASE_URL"] = args.database_url
            # Django runs each sync view in a thread of its own under ASGI: connections kept for
            # 60 s pile up, one per request, until PostgreSQL refuses more ("too many clients").
            # The connection pool DESIGN.md asks for fixes that; until then, one per request.
            env["DATABASE_CONN_MAX_AGE"] = os.getenv("DATABASE_CONN_MAX_AGE", "0")
        server = DaphneServer(tmp / "server", **env)
        token = server.manage.add_printer("Balcão")
        key = server.manage("apikey_add", "bench").stdout.strip().splitlines()[-1]
        printer = FakePrinterProcess(tmp / "paper").start()
        server.start()
        agent = AgentProcess(
            server.agent_url, token, printer.url, tmp / "agent" / "journal.sqlite3", tmp / "agent.log"
        ).start()
        try:
            wait_for(lambda: "connected to" in agent.log(), 30, message="the agent to connect")
            api = Api(server.port, key)
            latency(api, 3)  # warm-up
            stages = []
            samples = latency(api, args.latency_jobs, stages)
            quantiles = statistics.quantiles(samples, n=20, method="inclusive")
            database = "PostgreSQL" if args.database_url else "SQLite"
            print(
                f"POST → completed ({database}, fake printer, {len(samples)} jobs one at a time): "
                f"median {statistics.median(samples):.0f} ms, p95 {quantiles[18]:.0f} ms, max {max(samples):.0f} ms"
            )
            medians = [statistics.median(stage[i] for stage in stages) for i in range(3)]
            print(
                "  medians by stage (server clock): created → sent {:.0f} ms, sent → printing {:.0f} ms, "
                "printing → completed {:.0f} ms".format(*medians)
            )
            print(f"  load average while measuring: {open('/proc/loadavg').read().split()[0]} on {os.cpu_count()} CPUs")
            for name, body in (
                ("document", {"printer": "Balcão", "document": DOCUMENT}),
                ("raw", {"printer": "Balcão", "raw": RAW, "raw_format": "zpl"}),
            ):
                rate, created, errors = throughput(server.port, key, args.requests, args.concurrency, body)
                print(
                    f"POST /api/v1/print-jobs ({name}, one daphne process, {args.concurrency} clients): "
                    f"{rate:.0f} requests/s ({created} created, {len(errors)} errors {sorted(set(errors))})"
                )
                if errors:
                    log = (tmp / "server.log").read_text(errors="replace")
                    print(
                        "  server errors:\n"
                        + "\n".join(line for line in log.splitlines() if " ERROR " in line or "Error" in line)[-3000:]
                    )
        finally:
            agent.stop()
            server.stop()
            printer.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
