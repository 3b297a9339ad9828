"""The bench run: start servers, drive agents and confirmations, measure, report.

Setups (each on fresh data, the production settings: DJANGO_DEBUG=false, sweep every 3 s):

- ``memory``: one daphne process, in-memory channel layer, SQLite (the default deployment);
- ``redis``: one daphne process, channels-redis on a private redis-server, SQLite;
- ``two_process``: two daphne processes, channels-redis, PostgreSQL (agents and confirmations
  split between them, so about half of the wake-ups cross processes through Redis);
- ``baseline``: ``bench.baseline``, the bare floor every project figure is compared with.

Measures: confirm → ``new_order`` latency at fixed offered rates (open loop), end-to-end
throughput at saturation (confirmations as fast as they are accepted, until every job is
completed in the database), and idle agents held by one server process with its RSS.
"""

import asyncio
import json
import math
import os
import platform
import random
import resource
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from bench import postgres, profile
from bench.agents import Fleet
from bench.control import Controlled, Reaper
from tools.processes import (
    PYTHON,
    REPO,
    DaphneServer,
    Manage,
    RedisServer,
    base_env,
    free_port,
)

SETUPS = {
    "memory": "1 daphne · in-memory layer · SQLite",
    "redis": "1 daphne · Redis layer · SQLite",
    "two_process": "2 daphne · Redis layer · PostgreSQL",
    "baseline": "bare asyncio websockets + sqlite3",
}

# What the project aims at (issue 9); reported against, never enforced.
TARGET_P99_MS = 25.0  # at 100 jobs/s with 100 agents
TARGET_THROUGHPUT = 400.0  # jobs/s in one process (issue 16)
TARGET_CPU_MS_PER_JOB = 2.5  # server CPU per job in one process (issue 16)
TARGET_IDLE_MB = 500.0  # for 5,000 idle agents in one daphne process


@dataclass(frozen=True)
class Scale:
    agents: int = 100
    rates: tuple = (20, 100, 200)
    warmup_seconds: float = 1.0
    latency_seconds: float = 10.0
    latency_max_jobs: int = 1000  # measured jobs per rate: 200/s runs 5 s (1,000 samples are plenty)
    saturation_seconds: float = 10.0
    saturation_concurrency: int = 8
    idle_counts: tuple = (1000, 5000)
    idle_hold_seconds: float = 6.0
    setups: tuple = ("memory", "redis", "two_process")
    idle_setups: tuple = ("memory", "redis", "two_process")
    drain_timeout: float = 60.0
    connect_timeout: float = 100.0


FULL = Scale()
QUICK = Scale(
    warmup_seconds=0.5,
    latency_seconds=3.0,
    latency_max_jobs=150,
    saturation_seconds=2.5,
    idle_counts=(1000,),
    idle_setups=("memory",),
    idle_hold_seconds=4.0,
    drain_timeout=30.0,
    connect_timeout=45.0,
)


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds():
    """CPU seconds spent by everything on the machine (all cores), from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU used between start() and stop(), in % of one core: by the server processes, by this
    process (the agents), and by everything else on the machine (other work skews the figures)."""

    def __init__(self, pids):
        self.pids = pids

    def start(self):
        self.wall = time.monotonic()
        self.server = sum(cpu_seconds(pid) for pid in self.pids)
        self.own = sum(os.times()[:2])
        self.machine = machine_busy_seconds()
        return self

    def stop(self):
        wall = time.monotonic() - self.wall
        server = sum(cpu_seconds(pid) for pid in self.pids) - self.server
        own = sum(os.times()[:2]) - self.own
        machine = machine_busy_seconds() - self.machine
        return {
            "server_cpu_seconds": round(server, 3),
            "server_cpu_pct": round(100 * server / wall, 1),
            "agents_cpu_pct": round(100 * own / wall, 1),
            "other_cpu_pct": round(100 * max(0.0, machine - server - own) / wall, 1),
        }


def raise_open_files_limit(needed):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard == resource.RLIM_INFINITY else min(hard, max(soft, needed))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Bench:
    def __init__(self, scale, work_dir, log=print, profile_dir=None):
        self.scale = scale
        self.profile_dir = Path(profile_dir) if profile_dir else None
        self.work = Path(work_dir)
        self.log = log
        self.reaper = Reaper()
        self.rows = []
        self.sample_payload = None
        self.rng = random.Random(9)
        self.redis = None
        self.postgres_url = None
        self.postgres_error = None

    # --- infrastructure ---------------------------------------------------------------------

    def redis_url(self):
        if self.redis is None:
            self.redis = RedisServer(self.work).start()
            self.reaper.add(self.redis.stop)
        return self.redis.url

    def postgres(self):
        if self.postgres_url is None and self.postgres_error is None:
            try:
                self.postgres_url, cleanup = postgres.provide()
                self.reaper.add(cleanup)
            except postgres.Unavailable as error:
                self.postgres_error = str(error)
        if self.postgres_error:
            raise postgres.Unavailable(self.postgres_error)
        return self.postgres_url

    def environment(self, setup):
        """Overrides for tools.processes.base_env: production settings for this setup."""
        env = {
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": "bench-" + secrets.token_hex(16),
            "CANTINA_SWEEP_INTERVAL": "3",
        }
        if setup in ("redis", "two_process"):
            env["REDIS_URL"] = self.redis_url()
        if setup == "two_process":
            env["DATABASE_URL"] = self.postgres()
        return env

    def create_printers(self, manage, total, active):
        """``active`` printers through ``manage.py printer_add`` and the idle fleet's rest in bulk.

        Every printer has ``--auto-print none``: the bench routes each order to one printer.
        Returns [(printer id, token)].
        """
        return manage.python(
            f"""
import io
from django.core.management import call_command
from printing.models import Printer
printers = []
for index in range({active}):
    out = io.StringIO()
    call_command("printer_add", f"Escola {{index + 1:04d}}", "--auto-print", "none", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    printers.append([Printer.objects.get(name=f"Escola {{index + 1:04d}}").pk, token])
# The rest only hold idle connections: same fields and token scheme as printer_add, in one
# statement, disabled until the idle phase.
rest, tokens = [], []
for index in range({active}, {total}):
    printer = Printer(name=f"Escola {{index + 1:04d}}", auto_print=[], is_active=False)
    tokens.append(printer.issue_token())
    rest.append(printer)
for printer, token in zip(Printer.objects.bulk_create(rest, batch_size=500), tokens):
    printers.append([printer.pk, token])
print(json.dumps(printers))
""",
            timeout=300,
        )

    def start_bench_servers(self, setup, env, count):
        servers = []
        for index in range(count):
            port = free_port()
            server = Controlled(
                f"{setup}-server-{index + 1}",
                [PYTHON, "-m", "bench.server", "--port", str(port)],
                env=env,
                cwd=REPO,
                log_path=self.work / setup / f"server-{index + 1}.log",
            ).start()
            self.reaper.add(server.stop)
            server.port = port
            servers.append(server)
        for server in servers:
            server.call("ping", timeout=90)
        return servers

    # --- measures ---------------------------------------------------------------------------

    def record(self, **row):
        self.rows.append(row)
        return row

    async def latency(self, setup, servers, fleet, printer_ids, rate):
        scale = self.scale
        warm = int(rate * scale.warmup_seconds)
        count = warm + min(int(rate * scale.latency_seconds), scale.latency_max_jobs)
        order_ids = await servers[0].acall("orders_create", count=count, seed=rate, timeout=180)
        pairs = [(order_id, self.rng.choice(printer_ids)) for order_id in order_ids]
        parts = [pairs[index :: len(servers)] for index in range(len(servers))]
        meter = CpuMeter([server.pid for server in servers]).start()
        results = await asyncio.gather(
            *(
                server.acall("confirm_at_rate", pairs=part, rate=rate / len(servers), timeout=count / rate * 4 + 120)
                for server, part in zip(servers, parts, strict=True)
            )
        )
        missing = await fleet.wait_arrivals(order_ids, scale.drain_timeout)
        usage = meter.stop()
        scheduled = {}
        for part, result in zip(parts, results, strict=True):
            scheduled.update((order_id, at) for (order_id, _), at in zip(part, result["scheduled_ns"], strict=True))
        measured = order_ids[warm:]  # the first second's jobs warm up; servers share the order of the list
        latencies = [(fleet.arrivals[o] - scheduled[o]) / 1e6 for o in measured if o in fleet.arrivals]
        done = await servers[0].acall(
            "jobs_done", first=min(order_ids), last=max(order_ids), expect=count, timeout=scale.drain_timeout + 30
        )
        errors = sum(result["error_count"] for result in results)
        row = self.record(
            setup=setup,
            measure="latency",
            rate=rate,
            agents=len(printer_ids),
            p50_ms=_round(percentile(latencies, 50)),
            p99_ms=_round(percentile(latencies, 99)),
            max_ms=_round(max(latencies) if latencies else None),
            samples=len(latencies),
            missing=missing,
            duplicates=fleet.duplicates,
            confirm_errors=errors,
            completed=done["by_status"].get("completed", 0),
            jobs=count,
            max_start_lag_ms=_round(max(result["max_start_lag_ms"] for result in results)),
            **usage,
        )
        if errors:
            row["error_sample"] = [error for result in results for error in result["errors"]][:3]
        self.log(
            f"  latency @{rate}/s: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms"
            f" ({len(latencies)} samples, {missing} missing, server CPU {usage['server_cpu_pct']}%)"
        )
        return row

    async def throughput(self, setup, servers, fleet, printer_ids, orders_per_second):
        scale = self.scale
        count = int(scale.saturation_seconds * orders_per_second)
        order_ids = await servers[0].acall("orders_create", count=count, seed=7, timeout=300)
        pairs = [(order_id, self.rng.choice(printer_ids)) for order_id in order_ids]
        parts = [pairs[index :: len(servers)] for index in range(len(servers))]
        recordings = self.profile_start(setup, servers, scale.saturation_seconds)
        meter = CpuMeter([server.pid for server in servers]).start()
        results = await asyncio.gather(
            *(
                server.acall(
                    "confirm_flat_out",
                    pairs=part,
                    concurrency=scale.saturation_concurrency,
                    duration=scale.saturation_seconds,
                    timeout=scale.saturation_seconds + 120,
                )
                for server, part in zip(servers, parts, strict=True)
            )
        )
        confirmed = sum(result["confirmed"] for result in results)
        started = min(result["started_at"] for result in results)
        confirm_seconds = max(result["confirm_seconds"] for result in results)
        done = await servers[0].acall(
            "jobs_done",
            first=min(order_ids),
            last=max(order_ids),
            expect=confirmed,
            timeout=scale.drain_timeout + 30,
            until=started + confirm_seconds,
        )
        usage = meter.stop()
        completed = done["by_status"].get("completed", 0)
        seconds = (done["last_finished_at"] or started) - started
        row = self.record(
            setup=setup,
            measure="throughput",
            agents=len(printer_ids),
            concurrency=scale.saturation_concurrency,
            jobs_per_s=_round(completed / seconds if seconds > 0 else None),
            completed=completed,
            confirmed=confirmed,
            seconds=_round(seconds),
            confirms_per_s=_round(confirmed / confirm_seconds),
            not_completed=confirmed - completed,
            # Printed while the confirmations went on, not after them: a rush must not stop printing.
            printed_during_pct=_round(
                100 * done["completed_by"] / confirmed if confirmed and done.get("completed_by") is not None else None
            ),
            duplicates=fleet.duplicates,
            confirm_errors=sum(result["error_count"] for result in results),
            # Server CPU (all its processes) per completed job: confirm, render, claim, send, acknowledge.
            cpu_ms_per_job=_round(1000 * usage["server_cpu_seconds"] / completed if completed else None),
            **usage,
        )
        self.log(
            f"  throughput: {row['jobs_per_s']} jobs/s ({completed} jobs completed in {row['seconds']} s,"
            f" server CPU {usage['server_cpu_pct']}%)"
        )
        await self.profile_finish(setup, recordings)
        return row

    def profile_start(self, setup, servers, seconds):
        if self.profile_dir is None:
            return []
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        recordings = []
        for index, server in enumerate(servers):
            recording = profile.Recording(server.pid, seconds, self.profile_dir / f"{setup}-{index + 1}.txt")
            self.reaper.add(recording.stop)
            recordings.append(recording)
        return recordings

    async def profile_finish(self, setup, recordings):
        for index, recording in enumerate(recordings):
            error = await asyncio.to_thread(recording.wait)
            if error:
                self.record(setup=setup, measure="profile", process=index + 1, error=error)
                self.log(f"  profile of {setup} process {index + 1} failed: {error}")
                continue
            summary = profile.summarize(recording.output)
            self.record(setup=setup, measure="profile", process=index + 1, file=str(recording.output), **summary)
            self.log(profile.render(summary, f"  profile of {setup} process {index + 1} at saturation"))

    async def idle(self, setup, pids, targets_for, counts):
        """Connect idle agents up to each count, hold them, and measure RSS and CPU."""
        fleet = Fleet(ack=True, keepalive=True)
        rss0 = sum(rss_mb(pid) for pid in pids)
        connected, previous_rss = 0, rss0
        try:
            for count in counts:
                open_before = fleet.open_count()
                seconds, complete = await fleet.connect(
                    targets_for(connected, count), timeout=self.scale.connect_timeout
                )
                connected = count
                newly_open = fleet.open_count() - open_before
                meter = CpuMeter(pids).start()
                await asyncio.sleep(self.scale.idle_hold_seconds)
                usage = meter.stop()
                rss = sum(rss_mb(pid) for pid in pids)
                row = self.record(
                    setup=setup,
                    measure="idle",
                    agents=count,
                    processes=len(pids),
                    open=fleet.open_count(),
                    failures=fleet.failures(),
                    connect_seconds=_round(seconds),
                    connects_per_s=_round(newly_open / seconds if seconds else None),
                    rss_mb=_round(rss),
                    rss_before_mb=_round(rss0),
                    kb_per_agent=_round((rss - rss0) * 1024 / fleet.open_count()) if fleet.open_count() else None,
                    marginal_kb_per_agent=_round((rss - previous_rss) * 1024 / newly_open) if newly_open > 0 else None,
                    hold_seconds=self.scale.idle_hold_seconds,
                    connect_timed_out=not complete,
                    **usage,
                )
                previous_rss = rss
                self.log(
                    f"  idle {count}: {row['open']} open, RSS {row['rss_mb']} MB"
                    f" ({row['kb_per_agent']} KB/agent), {row['connects_per_s']} connects/s,"
                    f" idle server CPU {usage['server_cpu_pct']}%"
                )
        finally:
            await fleet.close()

    # --- setups -----------------------------------------------------------------------------

    async def project(self, setup):
        scale = self.scale
        processes = 2 if setup == "two_process" else 1
        self.log(f"{SETUPS[setup]}:")
        var = self.work / setup
        var.mkdir(parents=True, exist_ok=True)
        try:
            overrides = self.environment(setup)
        except postgres.Unavailable as error:
            self.skip(setup, f"PostgreSQL unavailable: {error}")
            return
        env = base_env(var, **overrides)
        manage = Manage(env)
        manage("migrate", "--noinput", timeout=300)
        idle_counts = scale.idle_counts if setup in scale.idle_setups else ()
        if processes > 1:
            idle_counts = idle_counts[-1:]  # the largest fleet only, split between the processes
        printers = self.create_printers(manage, max((scale.agents, *idle_counts)), scale.agents)
        printer_ids = [printer_id for printer_id, _ in printers[: scale.agents]]

        servers = self.start_bench_servers(setup, env, processes)
        fleet = Fleet(ack=True, keepalive=True)
        try:
            urls = [f"ws://127.0.0.1:{server.port}/ws/agent/" for server in servers]
            await fleet.connect(
                [(urls[index % processes], token) for index, (_, token) in enumerate(printers[: scale.agents])],
                timeout=scale.connect_timeout,
            )
            if fleet.open_count() < scale.agents:
                raise RuntimeError(f"only {fleet.open_count()} of {scale.agents} agents connected: {fleet.failures()}")
            for rate in scale.rates:
                await self.latency(setup, servers, fleet, printer_ids, rate)
            await self.throughput(setup, servers, fleet, printer_ids, orders_per_second=1000)
            if self.sample_payload is None:
                self.sample_payload = fleet.sample
            self.record_payload(setup, fleet)
        finally:
            await fleet.close()
            for server in servers:
                server.stop()

        if idle_counts:
            manage.python("from printing.models import Printer\nPrinter.objects.update(is_active=True)\nprint(1)")
            daphnes = []
            for _ in range(processes):
                # The real ``daphne`` command (tools.processes), nothing of the bench loaded.
                daphne = DaphneServer(var, migrate=False, **overrides)
                self.reaper.add(daphne.stop)
                daphnes.append(daphne.start(timeout=90))
            try:

                def targets(start, stop):
                    return [
                        (f"ws://127.0.0.1:{daphnes[index % processes].port}/ws/agent/", printers[index][1])
                        for index in range(start, stop)
                    ]

                await self.idle(setup, [daphne.process.pid for daphne in daphnes], targets, idle_counts)
            finally:
                for daphne in daphnes:
                    daphne.stop()

    def record_payload(self, setup, fleet):
        sizes = fleet.payload_bytes
        if sizes:
            self.record(
                setup=setup,
                measure="payload",
                bytes_min=min(sizes),
                bytes_max=max(sizes),
                bytes_mean=_round(sum(sizes) / len(sizes)),
            )

    async def baseline(self):
        scale = self.scale
        self.log(f"{SETUPS['baseline']}:")
        var = self.work / "baseline"
        var.mkdir(parents=True, exist_ok=True)
        count = max((scale.agents, *scale.idle_counts))
        tokens = list({secrets.token_urlsafe(32): index + 1 for index in range(count)}.items())
        (var / "tokens.json").write_text(json.dumps(dict(tokens)))
        (var / "payload.json").write_text(json.dumps(self.sample_payload or synthetic_payload()))

        server, url = self.start_baseline(var, "jobs")
        fleet = Fleet(ack=True, keepalive=True)
        try:
            await fleet.connect([(url, token) for token, _ in tokens[: scale.agents]], timeout=scale.connect_timeout)
            printer_ids = [printer_id for _, printer_id in tokens[: scale.agents]]
            for rate in scale.rates:
                await self.latency("baseline", [server], fleet, printer_ids, rate)
            await self.throughput("baseline", [server], fleet, printer_ids, orders_per_second=25000)
            self.record_payload("baseline", fleet)
        finally:
            await fleet.close()
            server.stop()

        if scale.idle_counts:
            # A fresh process, as for the project's idle rows: its RSS is not the jobs' leftovers.
            server, url = self.start_baseline(var, "idle")
            try:
                await self.idle(
                    "baseline",
                    [server.pid],
                    lambda start, stop: [(url, token) for token, _ in tokens[start:stop]],
                    scale.idle_counts,
                )
            finally:
                server.stop()

    def start_baseline(self, var, name):
        port = free_port()
        server = Controlled(
            "baseline",
            [
                PYTHON,
                "-m",
                "bench.baseline",
                "--port",
                str(port),
                "--db",
                str(var / f"{name}.sqlite3"),
                "--tokens",
                str(var / "tokens.json"),
                "--payload",
                str(var / "payload.json"),
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=REPO,
            log_path=var / f"{name}.log",
        ).start()
        self.reaper.add(server.stop)
        server.call("ping", timeout=60)
        return server, f"ws://127.0.0.1:{port}/ws/agent/"

    def skip(self, setup, reason):
        self.log(f"  skipped: {reason}")
        self.record(setup=setup, measure="skipped", reason=reason)

    async def run(self):
        for setup in self.scale.setups:
            try:
                await self.project(setup)
            except Exception as error:  # noqa: BLE001  (one broken setup must not hide the others)
                self.skip(setup, f"failed: {type(error).__name__}: {error}")
        await self.baseline()


def synthetic_payload():
    """Only if no project setup ran: a payload of a typical receipt's size."""
    return {
        "job_id": 0,
        "order_id": 0,
        "type": "order_receipt",
        "content": "x" * 900,
        "escpos": "A" * 1800,
        "copies": 1,
        "priority": 1,
        "order_info": None,
        "printer_config": {"paper_width": 80, "printer_type": "thermal", "profile": "", "has_cutter": True},
    }


def _round(value, digits=2):
    return None if value is None else round(value, digits)


def git_commit():
    """The commit measured, with "+dirty" when the tree has uncommitted changes (BENCH_COMMIT
    names it when the bench runs from an exported tree without .git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        commit, dirty = "", ""
    if not commit:
        return os.environ.get("BENCH_COMMIT", "")
    return commit + ("+dirty" if dirty else "")


def run(scale=FULL, json_path=None, log=print, keep_work_dir=False, profile_dir=None):
    """Run the bench; print progress with ``log``; write and return the results dict.

    With ``profile_dir``, py-spy records each project server during the saturation phase.
    """
    if profile_dir and profile.py_spy() is None:
        raise SystemExit("--profile needs py-spy: pip install py-spy")
    limit = raise_open_files_limit(max(scale.idle_counts or (0,)) * 2 + 1024)
    with open("/proc/loadavg") as loadavg:
        load_average = [float(value) for value in loadavg.read().split()[:3]]
    if load_average[0] > 0.5:
        log(
            f"note: the machine is busy (load average {load_average[0]:.1f}); figures will be lower than on an idle machine"
        )
    work = Path(tempfile.mkdtemp(prefix="cantina-bench-"))
    bench = Bench(scale, work, log=log, profile_dir=profile_dir)
    started = time.monotonic()
    try:
        asyncio.run(bench.run())
    finally:
        bench.reaper.stop_all()
        if keep_work_dir:
            log(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results = {
        "meta": {
            "date": datetime.now().astimezone().isoformat(timespec="seconds"),
            "commit": git_commit(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "machine": platform.machine(),
            "open_files_limit": limit,
            "load_average_at_start": load_average,
            "seconds": round(time.monotonic() - started, 1),
            "scale": asdict(scale),
            "setups": {name: SETUPS[name] for name in (*scale.setups, "baseline")},
            "targets": {
                "p99_ms_at_100_per_s": TARGET_P99_MS,
                "jobs_per_s_one_process": TARGET_THROUGHPUT,
                "cpu_ms_per_job_one_process": TARGET_CPU_MS_PER_JOB,
                "mb_for_5000_idle_agents": TARGET_IDLE_MB,
            },
        },
        "rows": bench.rows,
    }
    if json_path:
        path = Path(json_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return results
