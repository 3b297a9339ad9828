"""The fault scenarios' rig: servers, fake printers, agents and an order driver as real processes.

A :class:`Rig` owns every process it starts and kills them all in :meth:`Rig.close`, which the
``make_rig`` fixture calls even when the test fails. It reads the database with plain SQL (sqlite3 or
psycopg), so polling it costs no Django start-up, and it measures what the issue asks for:
the checker's counts and the recovery time, the time from the end of the last fault to an
empty queue.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.faults.checker import Job, by_entrance, by_printer, check, read_paper
from tests.faults.driver import read_orders
from tools.processes import (
    PYTHON,
    REPO,
    AgentProcess,
    ChildProcess,
    DaphneServer,
    Database,
    FakePrinterProcess,
    base_env,
)

ARTIFACTS = REPO / "artifacts" / "faults"
UNFINISHED = ("pending", "sent", "printing")


@dataclass
class Station:
    """One printer as a canteen has it: the fake printer, its agent, its journal."""

    name: str
    channels: tuple
    fake: FakePrinterProcess
    token: str = ""
    agent: AgentProcess | None = None


@dataclass
class Rig:
    """A canteen on loopback: servers, printers with their agents, and the order driver."""

    workdir: Path
    printers: dict  # name -> channels it auto-prints
    servers: int = 1
    database_url: str | None = None
    redis_url: str | None = None
    env: dict = field(default_factory=dict)
    stations: dict = field(default_factory=dict)
    daphnes: list = field(default_factory=list)
    driver: ChildProcess | None = None
    events: list = field(default_factory=list)
    fake_receive_buffer: int = 0  # SO_RCVBUF of the fake printers (small: a stall backs up to the agent)
    printer_query: str = ""  # appended to the agents' printer URLs, e.g. "?timeout=3"
    journal_dir: Path | None = None  # where the agents keep their journals (a small tmpfs, say)
    agent_env: dict = field(default_factory=dict)  # extra environment of the agents
    cloud: dict = field(default_factory=dict)  # name -> tests.faults.cloud_station.CloudStation
    listen: dict = field(default_factory=dict)  # name -> port of that agent's local listener (--listen)

    def __post_init__(self):
        self.workdir = Path(self.workdir)
        self.started = time.monotonic()
        self.orders_file = self.workdir / "orders.jsonl"

    # --- set-up ------------------------------------------------------------------------------

    def server_env(self):
        env = dict(self.env)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def start(self, agent_urls=None, server_ports=()):
        """Migrate, add the printers, start the servers, fake printers and agents.

        ``agent_urls`` maps a printer name to the server URL its agent uses (a proxy, say);
        by default agents are spread over the servers in turn. ``server_ports`` fixes the
        servers' ports (a proxy in front of them needs to know them beforehand).
        """
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.database_url:  # one SQLite file that every process of the rig shares
            self.database_url = f"sqlite:///{(self.workdir / 'db.sqlite3').resolve()}"
        for index in range(self.servers):
            port = server_ports[index] if index < len(server_ports) else None
            self.daphnes.append(
                DaphneServer(self.workdir / f"server{index}", port=port, migrate=index == 0, **self.server_env())
            )
        self.database = Database(self.daphnes[0].env["DATABASE_URL"])
        manage = self.daphnes[0].manage
        for name, channels in self.printers.items():
            fake = FakePrinterProcess(self.workdir / f"paper-{name}", receive_buffer=self.fake_receive_buffer).start()
            station = Station(name, tuple(channels), fake)
            station.token = manage.add_printer(name, "--auto-print", ",".join(channels))
            self.stations[name] = station
        for daphne in self.daphnes:
            daphne.start()
        for index, station in enumerate(self.stations.values()):
            url = (agent_urls or {}).get(station.name) or self.daphnes[index % self.servers].agent_url
            station.agent = AgentProcess(
                url,
                station.token,
                station.fake.url + self.printer_query,
                Path(self.journal_dir or self.workdir) / f"journal-{station.name}.sqlite3",
                self.workdir / f"agent-{station.name}.log",
                extra_args=("--listen", f"127.0.0.1:{self.listen[station.name]}")
                if station.name in self.listen
                else (),
                **self.agent_env,
            ).start()
        self.wait_connected()
        return self

    def add_cloud_printer(self, name, channels, base_url, mac="00:11:62:0f:a0:01"):
        """A Star CloudPRNT printer auto-printing ``channels``, polling ``base_url`` from a thread."""
        from tests.faults.cloud_station import CloudStation

        secret = self.daphnes[0].manage.add_printer(
            name, "--transport", "cloudprnt", "--mac", mac, "--auto-print", ",".join(channels)
        )
        self.printers = {**self.printers, name: tuple(channels)}
        self.cloud[name] = CloudStation(name, base_url, mac, secret, self.workdir / f"paper-{name}").start()
        return self.cloud[name]

    def paper_dirs(self):
        return {
            **{name: station.fake.out_dir for name, station in self.stations.items()},
            **{name: station.out_dir for name, station in self.cloud.items()},
        }

    def wait_connected(self, timeout=30):
        names = set(self.stations)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.database.rows("SELECT name FROM printing_printer WHERE connected")
            if names <= {row[0] for row in rows}:
                return
            time.sleep(0.2)
        raise AssertionError(f"agents did not connect within {timeout} s:\n{self.logs_tail()}")

    def start_driver(self, orders, batch=10, interval=0.5, items=2):
        env = base_env(self.workdir, **self.server_env())
        log = self.workdir / "driver.log"
        self.driver = ChildProcess(
            [
                PYTHON,
                "-m",
                "tests.faults.driver",
                "--orders",
                orders,
                "--batch",
                batch,
                "--interval",
                interval,
                "--out",
                self.orders_file,
                "--items",
                items,
            ],
            log,
            env=env,
        ).start()
        self.note("driver started", orders=orders, batch=batch, interval=interval)
        return self.driver

    def note(self, what, **details):
        entry = {"at": round(time.monotonic() - self.started, 2), "event": what, **details}
        self.events.append(entry)
        print(f"  [{entry['at']:7.2f}s] {what}" + "".join(f" {k}={v}" for k, v in details.items()), flush=True)
        return time.monotonic()

    # --- watching -----------------------------------------------------------------------------

    def jobs(self):
        return [Job(*row) for row in self.database.jobs()]

    def expected_receipts(self, orders):
        return sum(1 for channel in orders.values() for channels in self.printers.values() if channel in channels)

    def backlog(self):
        """Jobs not finished yet (pending, sent, printing)."""
        return sum(self.database.queue_by_printer().values())

    def wait_driver(self, timeout=120):
        try:
            self.driver.process.wait(timeout)
        except Exception as error:
            raise AssertionError(
                f"the order driver did not finish in {timeout} s:\n{self.driver.log()[-3000:]}"
            ) from error
        if self.driver.process.returncode != 0:
            raise AssertionError(f"the order driver failed:\n{self.driver.log()[-3000:]}")
        return self.note("driver finished", orders=len(read_orders(self.orders_file)))

    def wait_quiet(self, timeout=120, settle=1.0):
        """Wait until every expected job exists and is finished; return when (monotonic), or None.

        Quiet means: the driver is done, the database holds a job for every expected receipt,
        none is pending, sent or printing, and nothing new reached any paper for ``settle`` s.
        """
        deadline = time.monotonic() + timeout
        quiet_since = None
        last_paper = None
        while time.monotonic() < deadline:
            # The database says which orders are confirmed: a driver killed mid-batch never
            # wrote down its last orders, and their receipts may still be on their way.
            expected = self.expected_receipts({**read_orders(self.orders_file), **self.database.confirmed_orders()})
            jobs = self.jobs()
            unfinished = sum(1 for job in jobs if job.status in UNFINISHED)
            paper = sum(len(list(directory.glob("*.bin"))) for directory in self.paper_dirs().values())
            if len(jobs) >= expected and unfinished == 0:
                if quiet_since is None or paper != last_paper:
                    quiet_since, last_paper = time.monotonic(), paper
                elif time.monotonic() - quiet_since >= settle:
                    return quiet_since
            else:
                quiet_since = None
            time.sleep(0.25)
        return None

    def report(self):
        orders = read_orders(self.orders_file)
        confirmed = self.database.confirmed_orders()
        assert set(orders) <= set(confirmed), "the driver recorded orders the database does not hold as confirmed"
        paper = {name: read_paper(directory) for name, directory in self.paper_dirs().items()}
        self.local_paper = {
            name: [ref for receipt in receipts for ref in receipt.local_refs] for name, receipts in paper.items()
        }
        return check(
            orders=confirmed,  # every confirmed order in the database, the driver's and any other
            printers={name: set(channels) for name, channels in self.printers.items()},
            jobs=self.jobs(),
            paper=paper,
        )

    def finish(self, scenario, *, restored_at, max_interrupted=0, quiet_timeout=120, **extra):
        """Wait for quiet, run the checker, print and save the counts; return the report."""
        if self.driver is not None and self.driver.alive:
            self.wait_driver()
        drained_at = self.wait_quiet(timeout=quiet_timeout)
        report = self.report()
        recovery = round(drained_at - restored_at, 2) if drained_at is not None else None
        entrances = self.entrances(report)
        result = {
            "scenario": scenario,
            "counts": report.counts(),
            "entrances": entrances,
            "printers": by_printer(report, self.jobs()),
            "recovery_seconds": recovery,
            "drained": drained_at is not None,
            "max_interrupted": max_interrupted,
            "problems": report.problems(max_interrupted=max_interrupted),
            "runtime_seconds": round(time.monotonic() - self.started, 1),
            "events": self.events,
            **extra,
            "details": report.as_dict(),
        }
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"{scenario}.json").write_text(json.dumps(result, indent=2, default=str))
        print(f"\n{scenario}: {report.summary()} recovery_seconds={recovery}", flush=True)
        for entrance, counts in entrances.items():
            print(f"  {entrance}: " + " ".join(f"{k}={v}" for k, v in sorted(counts.items())), flush=True)
        if result["problems"] or not result["drained"]:
            print(self.logs_tail(), flush=True)
        return report, result

    def entrances(self, report):
        """Per way in (by the customer name each entrance gives its orders): api-N through the
        print API, web-N through the staff counter page, the rest by the ORM driver."""
        names = dict(self.database.rows("SELECT id, customer_name FROM orders_order"))

        def entrance_of(order_id):
            name = names.get(order_id) or ""
            if name.startswith("api-"):
                return "print API"
            if name.startswith("web-"):
                return "staff counter page"
            return "driver (ORM)" if order_id in names else "no order"

        return by_entrance(report, self.jobs(), entrance_of)

    def logs_tail(self, lines=25):
        parts = []
        for daphne in self.daphnes:
            parts.append(f"--- {daphne.log_path.name}\n" + "\n".join(daphne.log().splitlines()[-lines:]))
        for station in self.stations.values():
            if station.agent is not None:
                parts.append(f"--- agent {station.name}\n" + "\n".join(station.agent.log().splitlines()[-lines:]))
        if self.driver is not None:
            parts.append("--- driver\n" + "\n".join(self.driver.log().splitlines()[-lines:]))
        return "\n".join(parts)

    # --- tear-down ----------------------------------------------------------------------------

    def close(self):
        """Kill every process this rig started; safe to call twice, and after any failure."""
        for station in self.cloud.values():
            station.stop()
        processes = (
            [self.driver]
            + [s.agent for s in self.stations.values()]
            + self.daphnes
            + [s.fake for s in self.stations.values()]
        )
        for process in processes:
            try:
                if process is not None:
                    process.kill()
            except Exception as error:  # keep killing the others
                print(f"could not kill {process}: {error}")
