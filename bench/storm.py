"""Reconnect storm and 10,000 idle agents on one daphne process (Redis layer, SQLite).

    .venv/bin/python -m bench.storm [--agents 5000] [--idle-agents 10000] [--clients 2]
                                    [--ping-interval 8] [--json PATH]

Everything on loopback in a temporary directory: a private ``redis-server``, one real ``daphne``
(production settings: DJANGO_DEBUG=false, sweep every 3 s), and ``--clients`` client processes
that each hold a share of the agents (plain ``websockets`` clients speaking protocol v1:
``printer_info`` after the welcome, a JSON ping every ``--ping-interval`` s, pongs, every
``new_order`` acknowledged ``completed`` at once; after a close they reconnect with the real
agent's backoff, ``agent.client.Backoff``: first retry after 0.5–1 s, doubling up to 30 s).

1. **Storm**: ``--agents`` agents connect at once; connects/s = agents ÷ seconds until the last is
   welcomed (target ≥ 500/s). Then ``kill -9`` of the server and a restart on the same port: the
   seconds from the kill until every agent is welcomed again, and one order confirmed (in another
   process, as a counter sale's receipt for one agent's printer) as soon as the new server answers
   ``/health``: seconds from its commit to the agent's ``new_order`` (target ≤ 15 s).
2. **Idle**: a fresh server, ``--idle-agents`` agents connected, held 10 s: the server's RSS per
   agent (RSS with agents − RSS before, ÷ agents; target ≤ 40 KB) and its CPU while idle, in % of
   one core (target ≤ 10 %), measured at ``--ping-interval`` and at a 4× faster ping rate (idle
   cost must not grow with the ping rate: an agent's ping costs no query).

How the machine's cores are shared: the server process (one Python thread running the event loop
plus its database thread) competes with the client processes, Redis and whatever else runs; the
table prints the server's CPU and everything else's beside each figure.
"""

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.runner import cpu_seconds, machine_busy_seconds, raise_open_files_limit  # noqa: E402
from tools.processes import PYTHON, REPO, DaphneServer, RedisServer  # noqa: E402

HOLD_SECONDS = 10.0


# --- client process -----------------------------------------------------------------------


class StormAgent:
    def __init__(self, client, url, token):
        self.client, self.url = client, f"{url}?token={token}"
        self.open = False

    async def run(self):
        import websockets

        attempt = 0
        while True:
            try:
                async with websockets.connect(
                    self.url, open_timeout=60, ping_interval=None, close_timeout=1, max_size=2**20
                ) as websocket:
                    keepalive = asyncio.create_task(self.keepalive(websocket))
                    try:
                        async for raw in websocket:
                            message = json.loads(raw)
                            kind = message.get("type")
                            if kind == "welcome":
                                attempt = 0
                                self.open = True
                                self.client.welcomes += 1
                                await websocket.send(
                                    json.dumps({"type": "printer_info", "printer": {"status": "ready"}})
                                )
                            elif kind == "ping":
                                await websocket.send('{"type":"pong"}')
                            elif kind == "new_order":
                                job_id = message["order"]["job_id"]
                                self.client.arrivals.setdefault(job_id, time.monotonic())
                                await websocket.send(
                                    json.dumps({"type": "print_status", "job_id": job_id, "status": "completed"})
                                )
                    finally:
                        keepalive.cancel()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001  (the server is gone or refused: retry like the agent)
                pass
            self.open = False
            delay = min(30.0, 2**attempt)
            attempt += 1
            await asyncio.sleep(random.uniform(delay / 2, delay))

    async def keepalive(self, websocket):
        await asyncio.sleep(random.uniform(0, self.client.ping_interval))
        while True:
            await websocket.send('{"type":"ping"}')
            await asyncio.sleep(self.client.ping_interval)


class Client:
    def __init__(self, url, tokens, ping_interval):
        self.ping_interval = ping_interval
        self.welcomes = 0
        self.arrivals = {}
        self.agents = [StormAgent(self, url, token) for token in tokens]

    async def run(self):
        self.started = time.monotonic()
        tasks = [asyncio.create_task(agent.run()) for agent in self.agents]
        reader = asyncio.StreamReader()
        await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        stdin_closed = asyncio.create_task(reader.read())
        while not stdin_closed.done():
            status = {
                "started": self.started,
                "open": sum(agent.open for agent in self.agents),
                "welcomes": self.welcomes,
                "arrivals": self.arrivals,
            }
            print(json.dumps(status), flush=True)
            await asyncio.wait([stdin_closed], timeout=0.2)
        for task in tasks:
            task.cancel()


def client_main(url, tokens_path, start, stop, ping_interval):
    raise_open_files_limit(stop - start + 256)
    tokens = json.loads(Path(tokens_path).read_text())[start:stop]
    try:
        asyncio.run(Client(url, [token for _, token in tokens], ping_interval).run())
    except KeyboardInterrupt:
        pass  # Ctrl-C reaches the whole process group: the bench itself reports and cleans up


# --- the bench ----------------------------------------------------------------------------


SPAWNED = []  # everything started, stopped on the way out whatever happens (Ctrl-C included)


def stop_spawned():
    for stop in reversed(SPAWNED):
        try:
            stop()
        except Exception:  # noqa: BLE001, S110  (best effort on the way out)
            pass


class Clients:
    """``count`` client processes sharing ``agents`` agents; their latest status, summed."""

    def __init__(self, url, tokens_path, agents, count, ping_interval):
        self.url, self.tokens_path, self.agents, self.count = url, tokens_path, agents, count
        self.ping_interval = ping_interval
        self.processes, self.status, self.readers = [], {}, []

    async def start(self):
        share = -(-self.agents // self.count)
        for index in range(self.count):
            start, stop = index * share, min(self.agents, (index + 1) * share)
            process = await asyncio.create_subprocess_exec(
                PYTHON,
                "-m",
                "bench.storm",
                "--client",
                self.url,
                str(self.tokens_path),
                str(start),
                str(stop),
                str(self.ping_interval),
                cwd=REPO,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=2**24,
            )
            self.processes.append(process)
            SPAWNED.append(lambda process=process: process.returncode is None and process.kill())
            self.readers.append(asyncio.create_task(self.read(index, process)))
        return self

    async def read(self, index, process):
        while line := await process.stdout.readline():
            self.status[index] = json.loads(line)

    def started(self):
        """When the last client process started its agents (interpreter start-up not counted)."""
        return max(status["started"] for status in self.status.values())

    async def wait_started(self):
        while len(self.status) < self.count:
            await asyncio.sleep(0.01)
        return self.started()

    def open(self):
        return sum(status["open"] for status in self.status.values())

    def arrival(self, job_id):
        for status in self.status.values():
            if str(job_id) in status["arrivals"]:
                return status["arrivals"][str(job_id)]
        return None

    def pids(self):
        return [process.pid for process in self.processes]

    async def wait_open(self, count, timeout):
        deadline = time.monotonic() + timeout
        while self.open() < count and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return self.open() >= count

    async def stop(self):
        for process in self.processes:
            if process.returncode is None:
                process.stdin.close()
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        for reader in self.readers:
            reader.cancel()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Bench:
    def __init__(self, args, work, log):
        self.args, self.work, self.log = args, Path(work), log
        self.redis = RedisServer(self.work).start()
        SPAWNED.append(self.redis.stop)
        self.results = {}

    def server(self, name, agents):
        server = DaphneServer(
            self.work / name,
            migrate=True,
            DJANGO_DEBUG="false",
            DJANGO_SECRET_KEY="bench-storm-" + "x" * 40,
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            REDIS_URL=self.redis.url,
            CANTINA_SWEEP_INTERVAL="3",
        )
        tokens = server.manage.python(
            f"""
from printing.models import Printer
printers, tokens = [], []
for index in range({agents}):
    printer = Printer(name=f"Escola {{index + 1:05d}}", auto_print=[])
    tokens.append(printer.issue_token())
    printers.append(printer)
created = Printer.objects.bulk_create(printers, batch_size=500)
print(json.dumps([[printer.pk, token] for printer, token in zip(created, tokens)]))
""",
            timeout=600,
        )
        tokens_path = self.work / name / "tokens.json"
        tokens_path.write_text(json.dumps(tokens))
        return server, tokens, tokens_path

    async def storm(self):
        agents = self.args.agents
        server, tokens, tokens_path = self.server("storm", agents)
        server.start(timeout=60)
        SPAWNED.append(server.kill)
        clients = await Clients(
            server.agent_url, tokens_path, agents, self.args.clients, self.args.ping_interval
        ).start()
        try:
            started = await clients.wait_started()
            all_in = await clients.wait_open(agents, timeout=300)
            seconds = time.monotonic() - started
            row = {
                "agents": agents,
                "connected": clients.open(),
                "connect_seconds": round(seconds, 2),
                "connects_per_s": round(clients.open() / seconds, 1),
                "all_connected": all_in,
            }
            self.log(f"storm: {row}")
            await asyncio.sleep(2)
            killed = time.monotonic()
            server.kill()
            while clients.open() > agents // 100:  # the clients have seen the server go
                await asyncio.sleep(0.05)
            server.start(timeout=60)
            answering = time.monotonic()
            printer_id = tokens[0][0]
            confirmed = server.manage.python(
                f"""
import time
from bench.server import orders_create, confirm_for_printer
from printing.models import PrintJob
[order_id] = orders_create(1, 7)
confirm_for_printer(order_id, {printer_id})
print(json.dumps([PrintJob.objects.get(order_id=order_id).pk, time.monotonic()]))
""",
                timeout=120,
            )
            job_id, committed = confirmed
            back = await clients.wait_open(agents, timeout=300)
            back_at = time.monotonic()
            deadline = time.monotonic() + 60
            while clients.arrival(job_id) is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            arrival = clients.arrival(job_id)
            row |= {
                "restart_server_answering_s": round(answering - killed, 2),
                "restart_all_back_s": round(back_at - killed, 2) if back else None,
                "restart_back": clients.open(),
                "restart_job_printed_s": round(arrival - committed, 2) if arrival else None,
            }
            self.log(f"storm after kill -9: {row}")
            self.results["storm"] = row
        finally:
            await clients.stop()
            server.stop()

    async def idle(self):
        agents = self.args.idle_agents
        server, tokens, tokens_path = self.server("idle", agents)
        server.start(timeout=60)
        SPAWNED.append(server.kill)
        rows = []
        try:
            for ping in (self.args.ping_interval, self.args.ping_interval / 4):
                await asyncio.sleep(2)
                before = rss_kb(server.process.pid)
                clients = await Clients(server.agent_url, tokens_path, agents, self.args.clients, ping).start()
                try:
                    started = await clients.wait_started()
                    all_in = await clients.wait_open(agents, timeout=300)
                    connect_seconds = time.monotonic() - started
                    await asyncio.sleep(3)  # connect work settles (printer_info, first sweep)
                    pid = server.process.pid
                    cpu, machine, wall = cpu_seconds(pid), machine_busy_seconds(), time.monotonic()
                    await asyncio.sleep(HOLD_SECONDS)
                    wall = time.monotonic() - wall
                    server_cpu = cpu_seconds(pid) - cpu
                    others = machine_busy_seconds() - machine - server_cpu
                    rss = rss_kb(pid)
                    row = {
                        "agents": agents,
                        "open": clients.open(),
                        "all_connected": all_in,
                        "ping_interval_s": ping,
                        "connects_per_s": round(clients.open() / connect_seconds, 1),
                        "rss_mb": round(rss / 1024, 1),
                        "rss_kb_per_agent": round((rss - before) / max(1, clients.open()), 1),
                        "rss_kb_per_agent_total": round(rss / max(1, clients.open()), 1),
                        "server_cpu_pct": round(100 * server_cpu / wall, 1),
                        "others_cpu_pct": round(100 * others / wall, 1),
                    }
                    self.log(f"idle: {row}")
                    rows.append(row)
                finally:
                    await clients.stop()
        finally:
            server.stop()
        self.results["idle"] = rows


def render(results):
    lines = []
    storm = results.get("storm")
    if storm:
        lines += [
            f"Reconnect storm, 1 daphne · Redis layer · SQLite, {storm['agents']:,} agents in {results['clients']} client processes",
            f"  connect: {storm['connected']:,} in {storm['connect_seconds']} s = {storm['connects_per_s']:,} connects/s"
            "  (target ≥ 500/s)",
            f"  kill -9 + restart: server answering after {storm['restart_server_answering_s']} s, "
            f"all {storm['restart_back']:,} back after {storm['restart_all_back_s']} s (from the kill)",
            f"  a job confirmed right after the restart: new_order at its agent {storm['restart_job_printed_s']} s"
            " after the commit  (target ≤ 15 s)",
        ]
    for row in results.get("idle", []):
        lines.append(
            f"Idle, 1 daphne · Redis layer · SQLite, {row['open']:,}/{row['agents']:,} agents, ping every "
            f"{row['ping_interval_s']} s: RSS {row['rss_mb']} MB, {row['rss_kb_per_agent']} KB/agent over the "
            f"empty server ({row['rss_kb_per_agent_total']} KB/agent in all; target ≤ 40), server CPU "
            f"{row['server_cpu_pct']} % of a core (target ≤ 10 %), everything else {row['others_cpu_pct']} %, "
            f"connected at {row['connects_per_s']:,}/s"
        )
    return "\n".join(lines)


async def run(args, log):
    with tempfile.TemporaryDirectory(prefix="cantina-storm-") as work:
        bench = Bench(args, work, log)
        try:
            if args.agents:
                await bench.storm()
            if args.idle_agents:
                await bench.idle()
        finally:
            bench.redis.stop()
        bench.results["clients"] = args.clients
        return bench.results


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--client"]:
        url, tokens_path, start, stop, ping = argv[1:]
        client_main(url, tokens_path, int(start), int(stop), float(ping))
        return
    parser = argparse.ArgumentParser(prog="python -m bench.storm", description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=5000, help="agents in the reconnect storm (0: skip)")
    parser.add_argument("--idle-agents", type=int, default=10000, help="idle agents (0: skip)")
    parser.add_argument("--clients", type=int, default=2, help="client processes holding the agents")
    parser.add_argument("--ping-interval", type=float, default=8.0, help="seconds between an agent's pings")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args(argv)
    # The server and the clients inherit it: one descriptor per connection on each side.
    limit = raise_open_files_limit(max(args.agents, args.idle_agents) + 1024)
    if limit < max(args.agents, args.idle_agents) + 256:
        sys.exit(f"open files limit {limit} is too low for {max(args.agents, args.idle_agents)} agents")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")

    def log(line):
        print(line, file=sys.stderr, flush=True)

    try:
        results = asyncio.run(run(args, log))
    finally:
        stop_spawned()
    print(render(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
