"""The bare baseline: the same job done by the smallest plain-Python server we could write.

One asyncio process with ``websockets`` and the standard library's ``sqlite3`` (WAL,
``synchronous=NORMAL``, as the project's SQLite settings): per job one INSERT (the row holds the
receipt's text and ESC/POS like a PrintJob), one push of a ``new_order`` message of the same size
as the project's, and one UPDATE when the agent acknowledges. No framework, no channel layer, no
thread hops, no history rows, no staff notifications: it is the floor, not a rival design.

Run as ``python -m bench.baseline --port PORT --db PATH --tokens PATH --payload PATH``; commands
come from the bench on stdin (``bench.control``), as for ``bench.server``.
"""

import argparse
import asyncio
import itertools
import json
import sqlite3
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import serve

from bench.control import Confirmations, ControlServer


def now_iso():
    return datetime.now(UTC).isoformat()


class Baseline(Confirmations):
    def __init__(self, db_path, tokens, template):
        super().__init__()
        self.db = sqlite3.connect(db_path, isolation_level=None)  # autocommit: one commit per statement
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS job (id INTEGER PRIMARY KEY, printer_id INTEGER NOT NULL,"
            " order_id INTEGER, status TEXT NOT NULL, content TEXT, escpos TEXT, created_at REAL, finished_at REAL)"
        )
        self.db.execute("CREATE INDEX IF NOT EXISTS job_order ON job (order_id)")
        self.tokens = tokens  # token → printer id
        self.template = template  # a project new_order "order" object: same content, same size
        self.connections = {}
        self.order_ids = itertools.count(1)

    async def agent(self, websocket):
        query = parse_qs(urlsplit(websocket.request.path).query)
        printer_id = self.tokens.get((query.get("token") or [""])[0])
        if printer_id is None:
            await websocket.close(4401)
            return
        previous = self.connections.get(printer_id)
        self.connections[printer_id] = websocket
        if previous is not None:
            await previous.close(4409)
        await websocket.send(json.dumps({"type": "welcome", "timestamp": now_iso(), "printer": {"id": printer_id}}))
        try:
            async for raw in websocket:
                message = json.loads(raw)
                kind = message.get("type")
                if kind == "print_status" and message.get("status") == "completed":
                    self.db.execute(
                        "UPDATE job SET status = 'completed', finished_at = ? WHERE id = ? AND printer_id = ?"
                        " AND status = 'sent'",
                        (time.time(), message.get("job_id"), printer_id),
                    )
                elif kind == "ping":
                    await websocket.send(json.dumps({"type": "pong", "timestamp": now_iso()}))
        finally:
            if self.connections.get(printer_id) is websocket:
                del self.connections[printer_id]

    async def confirm_one(self, order_id, printer_id):
        websocket = self.connections.get(printer_id)
        job_id = self.db.execute(
            "INSERT INTO job (printer_id, order_id, status, content, escpos, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                printer_id,
                order_id,
                "sent" if websocket else "pending",
                self.template["content"],
                self.template["escpos"],
                time.time(),
            ),
        ).lastrowid
        if websocket is not None:
            order = dict(self.template, job_id=job_id, order_id=order_id)
            await websocket.send(json.dumps({"type": "new_order", "timestamp": now_iso(), "order": order}))

    async def orders_create(self, count, seed=1):
        return [next(self.order_ids) for _ in range(count)]

    async def jobs_done(self, first, last, expect, timeout=60, until=None):
        deadline = time.monotonic() + timeout
        while True:
            by_status = dict(
                self.db.execute(
                    "SELECT status, count(*) FROM job WHERE order_id BETWEEN ? AND ? GROUP BY status", (first, last)
                ).fetchall()
            )
            if by_status.get("completed", 0) >= expect or time.monotonic() > deadline:
                last_finished = self.db.execute(
                    "SELECT max(finished_at) FROM job WHERE order_id BETWEEN ? AND ? AND status = 'completed'",
                    (first, last),
                ).fetchone()[0]
                completed_by = None
                if until is not None:
                    completed_by = self.db.execute(
                        "SELECT count(*) FROM job WHERE order_id BETWEEN ? AND ? AND status = 'completed'"
                        " AND finished_at <= ?",
                        (first, last, until),
                    ).fetchone()[0]
                return {"by_status": by_status, "last_finished_at": last_finished, "completed_by": completed_by}
            await asyncio.sleep(0.25)


async def run(args):
    with open(args.tokens) as file:
        tokens = {token: int(printer_id) for token, printer_id in json.load(file).items()}
    with open(args.payload) as file:
        template = json.load(file)
    baseline = Baseline(args.db, tokens, template)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    # Same framing as daphne: no per-message compression, 1 MiB messages, pings every 20 s.
    async with serve(
        baseline.agent, "127.0.0.1", args.port, compression=None, max_size=2**20, ping_interval=20, ping_timeout=30
    ):
        ControlServer(baseline.handlers(), loop, on_eof=stop.set).start()
        await stop.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.baseline")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--tokens", required=True, help="JSON file {token: printer id}")
    parser.add_argument("--payload", required=True, help="JSON file: one new_order 'order' object to copy")
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
