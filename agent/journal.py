"""The agent's durable print journal (DESIGN.md, delivery rule 7).

One row per job, keyed by (scope, job id); the scope is the server URL plus the printer URL,
so two agents, or one agent pointed at two servers, never mix their job ids. ``started`` is
committed (and fsynced: ``synchronous=FULL``) before any byte goes to the printer and
``completed`` after the write, so after a crash the journal tells exactly which jobs may be
half printed (``started``) and which are done (``completed``):

- a redelivered ``completed`` job is acknowledged again, not printed again;
- a ``started`` job found at startup becomes ``interrupted``: reported failed, never
  reprinted automatically (a person decides whether to reprint).

This module imports only the standard library, so it stays fast to load.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTED = "started"
COMPLETED = "completed"
INTERRUPTED = "interrupted"

KEEP_FINISHED_SECONDS = 7 * 24 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS print_journal (
    scope        TEXT    NOT NULL,
    job_id       INTEGER NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('started', 'completed', 'interrupted')),
    byte_count   INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    started_at   REAL    NOT NULL,
    finished_at  REAL,
    PRIMARY KEY (scope, job_id)
);
"""


# Jobs that local clients (the --listen WebSocket listeners) hand to this agent. They have no
# server job id: the agent names them (``local_id``), prints them through the same queue, and
# reports each finished one to the server (``local_job``) until the server confirms it.
QUEUED = "queued"
FAILED = "failed"
LOCAL_TERMINAL = (COMPLETED, FAILED, INTERRUPTED)

_LOCAL_SCHEMA = """
CREATE TABLE IF NOT EXISTS local_job (
    local_id     TEXT    PRIMARY KEY,
    printer      TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    client_ref   TEXT    NOT NULL DEFAULT '',
    origin       TEXT    NOT NULL DEFAULT '',
    content      TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL
                 CHECK (state IN ('queued', 'started', 'completed', 'failed', 'interrupted')),
    byte_count   INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    error_code   TEXT    NOT NULL DEFAULT '',
    message      TEXT    NOT NULL DEFAULT '',
    created_at   REAL    NOT NULL,
    started_at   REAL,
    finished_at  REAL,
    reported     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS local_job_unreported ON local_job (reported, state);
CREATE INDEX IF NOT EXISTS local_job_client_ref ON local_job (source, client_ref);
CREATE TABLE IF NOT EXISTS journal_probe (id INTEGER PRIMARY KEY, checked_at REAL NOT NULL);
"""

KEEP_UNREPORTED_SECONDS = 60 * 24 * 3600


@dataclass(frozen=True)
class LocalEntry:
    local_id: str
    printer: str
    source: str
    kind: str
    client_ref: str
    origin: str
    content: str
    state: str
    byte_count: int
    sha256: str
    error_code: str
    message: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    reported: int


_LOCAL_COLUMNS = ", ".join(LocalEntry.__dataclass_fields__)


class JournalError(Exception):
    """The journal cannot be opened or written (bad path, permissions, corrupt file)."""


class JournalUnwritable(JournalError):
    """The journal's disk is full, read-only or failing: a passing condition, unlike a bad row.

    Nothing may print while it lasts (a job without a durable ``started`` could print twice
    after a crash); the agent keeps the job and tries again once :meth:`Journal.probe` succeeds.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason  # "disk_full", "read_only" or "io_error"


# SQLite primary result codes that mean the file system, not the data (sqlite3.h).
_SQLITE_UNWRITABLE = {13: "disk_full", 8: "read_only", 10: "io_error", 14: "io_error", 3: "read_only"}
_ERRNO_REASONS = {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EROFS: "read_only"}
REASON_TEXT = {
    "disk_full": "disk full",
    "read_only": "file system is read-only",
    "io_error": "disk error",
}
# Tests only: while the file this names exists, every journal write fails as with the errno
# named in it (ENOSPC by default, or EROFS) — a full disk without mount privileges.
FAULT_FILE_ENV = "CANTINA_AGENT_JOURNAL_FAULT"


def _injected_fault() -> OSError | None:
    path = os.environ.get(FAULT_FILE_ENV)
    if not path:
        return None
    try:
        name = Path(path).read_text().strip().upper() or "ENOSPC"
    except OSError:
        return None
    number = errno.EROFS if name == "EROFS" else errno.ENOSPC
    return OSError(number, os.strerror(number))


def _unwritable(exc: BaseException) -> str | None:
    """The reason a write failed when it is the file system's fault, else None."""
    if isinstance(exc, OSError):
        return _ERRNO_REASONS.get(exc.errno or 0, "io_error")
    code = getattr(exc, "sqlite_errorcode", None)
    return _SQLITE_UNWRITABLE.get(code & 0xFF) if isinstance(code, int) else None


@dataclass(frozen=True)
class Entry:
    job_id: int
    state: str
    byte_count: int
    sha256: str
    started_at: float
    finished_at: float | None


class Journal:
    """Durable job journal for one (server, printer) scope in a SQLite file."""

    def __init__(self, path: str | os.PathLike[str], scope: str) -> None:
        self.path = Path(path)
        self.scope = scope
        # The agent reads from the event loop and writes from worker threads: one at a time.
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so every write is one
            # explicit, immediately durable transaction.
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA + _LOCAL_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise JournalError(f"cannot open the journal {self.path}: {exc}") from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> int:
        try:
            injected = _injected_fault()
            if injected is not None:
                raise injected
            with self._lock, self._db:  # BEGIN ... COMMIT (ROLLBACK on error)
                self._db.execute("BEGIN IMMEDIATE")
                return self._db.execute(sql, params).rowcount
        except (sqlite3.Error, OSError) as exc:
            reason = _unwritable(exc)
            if reason is not None:
                raise JournalUnwritable(
                    f"cannot write the journal {self.path}: {REASON_TEXT[reason]} ({exc})", reason
                ) from None
            raise JournalError(f"cannot write the journal {self.path}: {exc}") from None

    def probe(self) -> None:
        """One small durable write, to learn whether the journal can be written again.

        Raises :class:`JournalUnwritable` (or :class:`JournalError`) while it cannot.
        """
        self._write(
            "INSERT OR REPLACE INTO journal_probe (id, checked_at) VALUES (1, ?)",
            (time.time(),),
        )

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        try:
            with self._lock:
                return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise JournalError(f"cannot read the journal {self.path}: {exc}") from None

    def get(self, job_id: int) -> Entry | None:
        rows = self._read(
            "SELECT job_id, state, byte_count, sha256, started_at, finished_at "
            "FROM print_journal WHERE scope = ? AND job_id = ?",
            (self.scope, job_id),
        )
        return Entry(*rows[0]) if rows else None

    def mark_started(self, job_id: int, byte_count: int, sha256: str) -> None:
        """Record, durably, that bytes of this job are about to go to the printer."""
        try:
            self._write(
                "INSERT INTO print_journal (scope, job_id, state, byte_count, sha256, started_at) "
                "VALUES (?, ?, 'started', ?, ?, ?)",
                (self.scope, job_id, byte_count, sha256, time.time()),
            )
        except JournalUnwritable:
            raise
        except JournalError:
            if self.get(job_id) is not None:
                raise JournalError(f"job {job_id} is already in the journal") from None
            raise

    def mark_completed(self, job_id: int) -> None:
        changed = self._write(
            "UPDATE print_journal SET state = 'completed', finished_at = ? "
            "WHERE scope = ? AND job_id = ? AND state = 'started'",
            (time.time(), self.scope, job_id),
        )
        if changed != 1:
            raise JournalError(f"job {job_id} is not started in the journal")

    def mark_interrupted(self, job_id: int) -> None:
        self._write(
            "UPDATE print_journal SET state = 'interrupted', finished_at = ? "
            "WHERE scope = ? AND job_id = ? AND state = 'started'",
            (time.time(), self.scope, job_id),
        )

    def recover(self) -> list[int]:
        """Turn every ``started`` job of this scope into ``interrupted``; return their ids.

        Call once at startup, before printing anything: a job still ``started`` then was cut
        off by a crash or a power loss and may be half printed.
        """
        ids = [
            row[0]
            for row in self._read(
                "SELECT job_id FROM print_journal WHERE scope = ? AND state = 'started' ORDER BY job_id",
                (self.scope,),
            )
        ]
        if ids:
            try:
                self._write(
                    "UPDATE print_journal SET state = 'interrupted', finished_at = ? "
                    "WHERE scope = ? AND state = 'started'",
                    (time.time(), self.scope),
                )
            except JournalUnwritable:
                pass  # still "started": reported interrupted all the same, and marked at the next start
        return ids

    def prune(self, older_than: float = KEEP_FINISHED_SECONDS) -> int:
        """Forget finished jobs older than ``older_than`` seconds (any scope).

        Local jobs are kept until the server has them (or, never reported, for 60 days).
        """
        now = time.time()
        removed = self._write(
            "DELETE FROM print_journal WHERE state != 'started' AND finished_at < ?",
            (now - older_than,),
        )
        return removed + self._write(
            "DELETE FROM local_job WHERE state IN ('completed', 'failed', 'interrupted') "
            "AND ((reported = 1 AND finished_at < ?) OR finished_at < ?)",
            (now - older_than, now - KEEP_UNREPORTED_SECONDS),
        )

    # --- local jobs ------------------------------------------------------------------------

    def local_add(
        self,
        *,
        local_id: str,
        printer: str,
        source: str,
        kind: str,
        client_ref: str,
        origin: str,
        content: str,
        byte_count: int,
        sha256: str,
    ) -> None:
        """Record, durably, a local job accepted into the queue (nothing printed yet)."""
        self._write(
            "INSERT INTO local_job (local_id, printer, source, kind, client_ref, origin, content, state, "
            "byte_count, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)",
            (local_id, printer, source, kind, client_ref, origin, content, byte_count, sha256, time.time()),
        )

    def local_started(self, local_id: str) -> None:
        """Before any byte of the job goes to the printer (fsynced, like ``mark_started``)."""
        if (
            self._write(
                "UPDATE local_job SET state = 'started', started_at = ? WHERE local_id = ? AND state = 'queued'",
                (time.time(), local_id),
            )
            != 1
        ):
            raise JournalError(f"local job {local_id} is not queued in the journal")

    def local_finish(self, local_id: str, state: str, error_code: str = "", message: str = "") -> None:
        if state not in LOCAL_TERMINAL:
            raise ValueError(f"not a final state: {state!r}")
        self._write(
            "UPDATE local_job SET state = ?, error_code = ?, message = ?, finished_at = ?, reported = 0 "
            "WHERE local_id = ? AND state IN ('queued', 'started')",
            (state, error_code, message[:500], time.time(), local_id),
        )

    def local_recover(self, printer: str) -> tuple[list[str], list[str]]:
        """At startup: jobs cut off while printing become ``interrupted`` (never reprinted) and
        jobs still waiting become ``failed`` (nothing printed; their client is gone).

        Returns ``(interrupted ids, not printed ids)``.
        """
        rows = self._read(
            "SELECT local_id, state FROM local_job WHERE printer = ? AND state IN ('queued', 'started') "
            "ORDER BY created_at",
            (printer,),
        )
        interrupted = [local_id for local_id, state in rows if state == STARTED]
        dropped = [local_id for local_id, state in rows if state == QUEUED]
        try:
            for local_id in interrupted:
                self.local_finish(
                    local_id,
                    INTERRUPTED,
                    "interrupted",
                    "the agent stopped while printing this job; it may be partly printed",
                )
            for local_id in dropped:
                self.local_finish(
                    local_id, FAILED, "agent_stopped", "the agent stopped before printing this job; nothing was printed"
                )
        except JournalUnwritable:
            pass  # a full disk: the rows are finished at the next start, none prints meanwhile
        return interrupted, dropped

    def local_find(self, printer: str, source: str, client_ref: str, *, within: float = 24 * 3600) -> LocalEntry | None:
        """The latest local job a client sent under its own id ``client_ref`` (recent ones only)."""
        rows = self._read(
            f"SELECT {_LOCAL_COLUMNS} FROM local_job WHERE source = ? AND client_ref = ? AND printer = ? "
            "AND created_at > ? ORDER BY created_at DESC LIMIT 1",
            (source, client_ref, printer, time.time() - within),
        )
        return LocalEntry(*rows[0]) if rows else None

    def local_get(self, local_id: str) -> LocalEntry | None:
        rows = self._read(f"SELECT {_LOCAL_COLUMNS} FROM local_job WHERE local_id = ?", (local_id,))
        return LocalEntry(*rows[0]) if rows else None

    def local_unreported(self, printer: str, *, after: LocalEntry | None = None, limit: int = 200) -> list[LocalEntry]:
        """Finished local jobs the server has not confirmed yet, oldest first (those after ``after``)."""
        since, since_id = (after.created_at, after.local_id) if after else (0.0, "")
        return [
            LocalEntry(*row)
            for row in self._read(
                f"SELECT {_LOCAL_COLUMNS} FROM local_job WHERE printer = ? AND reported = 0 "
                "AND state IN ('completed', 'failed', 'interrupted') "
                "AND (created_at > ? OR (created_at = ? AND local_id > ?)) ORDER BY created_at, local_id LIMIT ?",
                (printer, since, since, since_id, limit),
            )
        ]

    def local_mark_reported(self, local_id: str, state: str) -> None:
        """The server recorded the job in ``state`` (a later state is reported again)."""
        self._write("UPDATE local_job SET reported = 1 WHERE local_id = ? AND state = ?", (local_id, state))

    def entries(self) -> list[Entry]:
        return [
            Entry(*row)
            for row in self._read(
                "SELECT job_id, state, byte_count, sha256, started_at, finished_at "
                "FROM print_journal WHERE scope = ? ORDER BY job_id",
                (self.scope,),
            )
        ]
