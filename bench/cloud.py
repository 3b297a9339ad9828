"""Cloud printers bench: 1,000 simulated Star CloudPRNT printers polling one daphne process.

    .venv/bin/python -m bench.cloud                  # SQLite (the default deployment), about 2 minutes
    .venv/bin/python -m bench.cloud --database-url postgres://cantina:cantina@127.0.0.1:5432/cantina_bench_cloud
    .venv/bin/python -m bench.cloud --quick          # shorter phases

The server is the real ``daphne cantina.asgi:application`` with production settings
(``DJANGO_DEBUG=false``; the printers send ``X-Forwarded-Proto: https`` as a TLS proxy would).
The printers are one asyncio process speaking CloudPRNT over keep-alive HTTP/1.1 connections
(HTTP Basic with each printer's secret, a JSON status poll, GET of the job as text/plain, DELETE
with ``200 OK``), so they cost little CPU next to the server.

Measures:

1. **polls/s sustained**: 1,000 printers polling every 5 s, 2 s, 1 s (offered 200, 500, 1,000
   polls/s, staggered), then as fast as the server answers (each printer polls again as soon as
   its answer arrives). Achieved polls/s, answer time p50/p99, errors, server CPU.
2. **poll → job latency**: 1,000 printers polling every 5 s (Star's default interval) while
   another process queues test pages on random printers (10 jobs/s). Per job: the time from the
   job's commit to its printer's poll that hands it out (bounded by the poll interval), the
   hand-out poll's own answer time, and commit → fetched → confirmed. Clocks: CLOCK_MONOTONIC,
   shared by all processes.
"""

import argparse
import asyncio
import base64
import json
import os
import random
import tempfile
import time
from pathlib import Path

from bench.runner import (
    CpuMeter,
    machine_busy_seconds,
    percentile,
    raise_open_files_limit,
)
from tools.processes import DaphneServer

REPO = Path(__file__).resolve().parents[1]


class Printer:
    def __init__(self, index, mac, secret):
        self.index, self.mac = index, mac
        self.auth = "Basic " + base64.b64encode(f"printer:{secret}".encode()).decode()
        self.reader = self.writer = None
        self.handouts = []  # (token, poll sent, poll answered, fetched, confirmed)

    async def connect(self, port):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)

    async def request(self, method, target, body=b""):
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {self.auth}\r\n"
            f"X-Forwarded-Proto: https\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.writer.write(head.encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return status, await self.reader.readexactly(length) if length else b""

    async def poll(self):
        body = json.dumps(
            {
                "printerMAC": self.mac,
                "statusCode": "200%20OK",
                "status": "23 6 0 0 0 0 0 0 0 ",
                "printingInProgress": False,
            }
        ).encode()
        return await self.request("POST", "/cloudprnt/", body)

    async def cycle(self):
        """One poll, and the job if one is handed out. Returns the poll's answer time."""
        sent = time.monotonic()
        status, body = await self.poll()
        answered = time.monotonic()
        if status != 200:
            raise RuntimeError(f"poll answered {status}: {body[:200]!r}")
        answer = json.loads(body)
        if answer.get("jobReady"):
            token = answer["jobToken"]
            status, _ = await self.request("GET", f"/cloudprnt/?mac={self.mac}&type=text/plain&token={token}")
            fetched = time.monotonic()
            if status != 200:
                raise RuntimeError(f"fetch answered {status}")
            status, _ = await self.request("DELETE", f"/cloudprnt/?mac={self.mac}&code=200%20OK&token={token}")
            if status != 200:
                raise RuntimeError(f"confirmation answered {status}")
            self.handouts.append((token, sent, answered, fetched, time.monotonic()))
        return answered - sent


async def run_fleet(printers, seconds, interval):
    """Every printer polls every ``interval`` s (0: back to back) for ``seconds``; returns stats."""
    answer_times, errors = [], []
    stop_at = time.monotonic() + seconds

    async def one(printer):
        if interval:
            await asyncio.sleep(random.random() * min(interval, seconds / 2))  # staggered, as real printers are
        while time.monotonic() < stop_at:
            started = time.monotonic()
            try:
                answer_times.append(await printer.cycle())
            except Exception as error:  # noqa: BLE001 (counted and reported)
                errors.append(repr(error))
                await asyncio.sleep(0.5)
                continue
            if interval:
                await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))

    started = time.monotonic()
    await asyncio.gather(*(one(printer) for printer in printers))
    wall = time.monotonic() - started
    return {
        "polls": len(answer_times),
        "polls_per_s": round(len(answer_times) / wall, 1),
        "answer_p50_ms": round(1000 * (percentile(answer_times, 50) or 0), 1),
        "answer_p99_ms": round(1000 * (percentile(answer_times, 99) or 0), 1),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


def create_printers(manage, count):
    return manage.python(
        f"""
from printing.models import Printer, CLOUD_SECRET_BYTES
printers, secrets = [], []
for index in range({count}):
    mac = "02:00:00:%02x:%02x:%02x" % (index >> 16 & 255, index >> 8 & 255, index & 255)
    printer = Printer(name=f"Star {{index:04d}}", transport="cloudprnt", mac=mac, auto_print=[], poll_interval=5)
    secrets.append(printer.issue_token(nbytes=CLOUD_SECRET_BYTES))
    printers.append(printer)
Printer.objects.bulk_create(printers, batch_size=500)
print(json.dumps([[p.mac, s] for p, s in zip(printers, secrets)]))
""",
        timeout=300,
    )


CREATE_JOBS = """
import random, time
from printing import services
from printing.models import Printer
printers = list(Printer.objects.filter(transport="cloudprnt").order_by("id"))
rng = random.Random(7)
created = []
start = time.monotonic()
for n in range({count}):
    due = start + n / {rate}
    time.sleep(max(0.0, due - time.monotonic()))
    job = services.job_create_test_page(printer=rng.choice(printers))
    created.append([job.pk, time.monotonic()])
print(json.dumps(created))
"""


async def main_async(args):
    raise_open_files_limit(args.printers * 2 + 200)
    work = Path(tempfile.mkdtemp(prefix="bench-cloud-"))
    env = {
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-cloud-" + os.urandom(8).hex(),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CANTINA_LOG_LEVEL": "WARNING",
        "CANTINA_CLOUD_CONFIRM_SECONDS": "3600",
    }
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
        env["DATABASE_CONN_MAX_AGE"] = "60"
    server = DaphneServer(work / "var", **env)
    if args.database_url:
        server.manage("flush", "--noinput")
    server.start()
    rows = []
    try:
        secrets = create_printers(server.manage, args.printers)
        printers = [Printer(index, mac, secret) for index, (mac, secret) in enumerate(secrets)]
        for printer in printers:
            await printer.connect(server.port)
        database = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"{len(printers)} CloudPRNT printers connected to one daphne process ({database}); "
            f"server pid {server.process.pid}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
            flush=True,
        )

        seconds = args.seconds or (8 if args.quick else 20)
        for interval in (5.0, 2.0, 1.0, 0.0):
            meter = CpuMeter([server.process.pid]).start()
            spy = None
            if args.profile and interval == 2.0:
                import subprocess

                spy = subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--pid",
                        str(server.process.pid),
                        "--duration",
                        str(seconds - 1),
                        "--format",
                        "raw",
                        "--output",
                        args.profile,
                        "--nonblocking",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            stats = await run_fleet(printers, seconds, interval)
            if spy is not None:
                spy.wait(30)
            offered = f"{len(printers) / interval:.0f}/s" if interval else "as fast as answered"
            cpu = meter.stop()
            # The machine is shared: polls per second of the server's own CPU is the figure that
            # does not depend on what else runs.
            server_cpu_s = cpu["server_cpu_pct"] / 100 * seconds
            row = {
                "phase": f"polls, every {interval:g} s" if interval else "polls, back to back",
                "offered": offered,
                **stats,
                **cpu,
                "polls_per_server_cpu_s": round(stats["polls"] / server_cpu_s, 1) if server_cpu_s else None,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)

        # Latency: polling every 5 s while another process queues jobs.
        count = args.jobs or (60 if args.quick else 200)
        rate = args.job_rate
        loop = asyncio.get_running_loop()
        meter = CpuMeter([server.process.pid]).start()
        creator = loop.run_in_executor(
            None, lambda: server.manage.python(CREATE_JOBS.format(count=count, rate=rate), timeout=600)
        )
        slack = max(12, 2 * args.latency_interval)  # the last job's printer polls once more at least
        fleet = asyncio.ensure_future(run_fleet(printers, count / rate + slack, args.latency_interval))
        created = await creator
        stats = await fleet
        cpu = meter.stop()
        tokens = server.manage.python(
            "from printing.models import PrintJob\n"
            "print(json.dumps(dict(PrintJob.objects.exclude(handout_token='').values_list('handout_token', 'pk'))))"
        )
        created_at = {job_id: moment for job_id, moment in created}
        to_handout, handout_answer, to_fetched, to_confirmed = [], [], [], []
        for printer in printers:
            for token, sent, answered, fetched, confirmed in printer.handouts:
                job_id = tokens.get(token)
                if job_id not in created_at:
                    continue
                to_handout.append(answered - created_at[job_id])
                handout_answer.append(answered - sent)
                to_fetched.append(fetched - created_at[job_id])
                to_confirmed.append(confirmed - created_at[job_id])

        def ms(values, p):
            value = percentile(values, p)
            return round(1000 * value, 1) if value is not None else None

        row = {
            "phase": f"poll → job latency, polls every {args.latency_interval:g} s, {rate:g} jobs/s",
            "jobs_created": len(created),
            "jobs_printed": len(to_confirmed),
            "commit_to_handout_p50_ms": ms(to_handout, 50),
            "commit_to_handout_p99_ms": ms(to_handout, 99),
            "commit_to_handout_max_ms": ms(to_handout, 100),
            "handout_poll_answer_p50_ms": ms(handout_answer, 50),
            "handout_poll_answer_p99_ms": ms(handout_answer, 99),
            "commit_to_fetched_p50_ms": ms(to_fetched, 50),
            "commit_to_confirmed_p99_ms": ms(to_confirmed, 99),
            "background_polls_per_s": stats["polls_per_s"],
            "poll_answer_p50_ms": stats["answer_p50_ms"],
            "errors": stats["errors"],
            **cpu,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    finally:
        for printer in printers if "printers" in locals() else []:
            if printer.writer:
                printer.writer.close()
        server.stop()
    print("\nTraceback lines in the server log:", server.log().count("Traceback"))
    out = REPO / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "cloud-latest.json").write_text(
        json.dumps({"rows": rows, "cpus": os.cpu_count(), "machine_busy_s": machine_busy_seconds()}, indent=2)
    )
    return rows


def parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--printers", type=int, default=1000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seconds", type=float, default=0, help="length of each polls/s phase")
    parser.add_argument("--jobs", type=int, default=0, help="jobs queued in the latency phase")
    parser.add_argument("--job-rate", type=float, default=10.0, help="jobs queued per second in the latency phase")
    parser.add_argument("--latency-interval", type=float, default=5.0, help="poll interval in the latency phase")
    parser.add_argument(
        "--profile", default="", help="py-spy the server (raw stacks) during the 2 s phase into this file"
    )
    return parser


def main():
    asyncio.run(main_async(parser().parse_args()))


if __name__ == "__main__":
    main()
