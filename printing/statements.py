"""The delivery path's SQL, each statement written out once (issue 16).

Every job goes through its creation, a claim and two agent reports. Compiling their small
statements from querysets cost several times running them (Django's ``as_sql`` was a quarter of
the server's time in the profile, the SQL itself a twentieth), so these are the same statements
written out, for SQLite and PostgreSQL alike. They only read and write; the rules (which status
may follow which, what is locked when) stay in ``printing.services``, which calls them inside its
transactions. Everything off that path uses the ORM (the job's own INSERT too: its defaults live
in the model).

Values go in as parameters, never into the text: table and column names come from the models.
Rows come back as the dicts the ORM's ``values()`` would give (same keys, datetimes aware,
booleans and money converted), so callers cannot tell the difference.
"""

import json
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from django.db import connection
from django.db.models.functions import Now

from orders.models import Order, OrderItem, Product, lines_total
from printing.models import Printer, PrinterIncident, PrintJob, PrintJobEvent, normalize_channels

CENTS = Decimal("0.01")


def _table(model):
    return connection.ops.quote_name(model._meta.db_table)


def _column(model, field):
    return connection.ops.quote_name(model._meta.get_field(field).column)


def _placeholders(values):
    return ", ".join(["%s"] * len(values))


def _lock(clause=""):
    """`` FOR UPDATE …`` where the database has row locks (PostgreSQL); SQLite holds its write lock."""
    if not connection.features.has_select_for_update:
        return ""
    return f" FOR UPDATE{clause}"


def _to_db(model, field, value):
    """A parameter as the ORM would send it (SQLite stores datetimes as UTC text, PostgreSQL
    takes JSON wrapped)."""
    return model._meta.get_field(field).get_db_prep_value(value, connection)


def _datetime(value):
    """A datetime column's value, aware, whichever the database (SQLite returns text)."""
    if value is None:
        return None
    convert = getattr(connection.ops, "convert_datetimefield_value", None)
    return convert(value, None, connection) if convert else value


def _money(value):
    """A money column's value as ``Decimal`` (SQLite hands back a float: through its shortest
    text, as the ORM does)."""
    return Decimal(str(value)).quantize(CENTS)


@cache
def _now_sql(vendor):
    """The database's clock as Django's ``Now()`` writes it for this kind of database (times that
    several processes compare are read and written on it: tests/test_clock_jumps.py)."""
    sql, params = Printer.objects.none().query.get_compiler(connection=connection).compile(Now())
    assert not params
    return sql


def _database_now():
    return _now_sql(connection.vendor)


def _fetch(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- reads ------------------------------------------------------------------------------------


def printer_has_pending(printer_id):
    """Whether this printer has a pending job (a plain read: no write lock)."""
    job = _table(PrintJob)
    sql = f"SELECT 1 FROM {job} WHERE printer_id = %s AND status = %s LIMIT 1"  # noqa: S608
    return bool(_fetch(sql, [printer_id, PrintJob.Status.PENDING]))


def printer_for_claim(printer_id):
    """The printer's status, ``is_active`` and ``connection_channel``, its row locked; or None."""
    printer = _table(Printer)
    sql = f"SELECT status, is_active, connection_channel FROM {printer} WHERE id = %s{_lock()}"  # noqa: S608
    rows = _fetch(sql, [printer_id])
    if not rows:
        return None
    status, is_active, channel = rows[0]
    return {"status": status, "is_active": bool(is_active), "connection_channel": channel}


def pending_job_ids(printer_id, *, now, limit):
    """This printer's deliverable pending jobs in delivery order (``priority``, then ``id``), at
    most ``limit``, locked (PostgreSQL: rows another claim holds are skipped)."""
    job = _table(PrintJob)
    sql = (
        f"SELECT id FROM {job} WHERE printer_id = %s AND status = %s"  # noqa: S608
        " AND (expires_at IS NULL OR expires_at > %s)"
        f" ORDER BY priority, id LIMIT %s{_lock(' SKIP LOCKED')}"
    )
    return [
        row[0] for row in _fetch(sql, [printer_id, PrintJob.Status.PENDING, _to_db(PrintJob, "expires_at", now), limit])
    ]


def printers_auto_printing():
    """``(id, channels)`` of each active printer that auto-prints some order channel, by id.

    Every confirmation asks (issue 16): a network of schools has hundreds of printers, and the
    ORM built an object and decoded a JSON field per printer.
    """
    sql = f"SELECT id, auto_print FROM {_table(Printer)} WHERE is_active ORDER BY id"  # noqa: S608
    found = []
    for pk, channels in _fetch(sql, []):
        channels = normalize_channels(json.loads(channels) if isinstance(channels, str) else channels)
        if channels:
            found.append((pk, channels))
    return found


def order_has_job_on(order_id, printer_id, kinds):
    """Whether the order already has a job of one of these kinds on this printer."""
    sql = (
        f"SELECT 1 FROM {_table(PrintJob)} WHERE order_id = %s AND printer_id = %s"  # noqa: S608
        f" AND kind IN ({_placeholders(kinds)}) LIMIT 1"
    )
    return bool(_fetch(sql, [order_id, printer_id, *kinds]))


class OrderLine(NamedTuple):
    """An order's line as receipts and kitchen tickets need it (``category``: its product's)."""

    name: str
    quantity: int
    unit_price: Decimal
    category: str


def order_lines(order_id):
    """The order's lines in their order, each with its product's category: one statement where
    the ORM took a prefetch (issue 16)."""
    sql = (
        f"SELECT i.name, i.quantity, i.unit_price, p.category FROM {_table(OrderItem)} i"  # noqa: S608
        f" LEFT JOIN {_table(Product)} p ON p.id = i.product_id WHERE i.order_id = %s ORDER BY i.id"
    )
    return [
        OrderLine(name, quantity, _money(unit_price), category or "")
        for name, quantity, unit_price, category in _fetch(sql, [order_id])
    ]


# --- the connect path: a restart brings every agent back at once -----------------------------


def printers_by_token_prefix(prefix, columns):
    """``columns`` of the agent printers whose token starts with ``prefix`` (an indexed read)."""
    sql = (
        f"SELECT {', '.join(_column(Printer, column) for column in columns)} FROM {_table(Printer)}"  # noqa: S608
        " WHERE token_prefix = %s AND transport = %s"
    )
    rows = []
    for values in _fetch(sql, [prefix, Printer.Transport.AGENT]):
        row = dict(zip(columns, values, strict=True))
        for column in ("is_active", "has_cutter", "connected"):
            if column in row:
                row[column] = bool(row[column])
        rows.append(row)
    return rows


def printer_keep_connection(printer_id, channel_name):
    """The connected printer's connection is now ``channel_name``; False if it is not connected."""
    return _printer_connection_update(printer_id, channel_name, connected=True, where="connected")


def printer_come_online(printer_id, channel_name):
    """Mark the printer connected through ``channel_name`` if it was not; False if it was."""
    return _printer_connection_update(printer_id, channel_name, connected=True, where="NOT connected")


def _printer_connection_update(printer_id, channel_name, *, connected, where):
    sql = (
        f"UPDATE {_table(Printer)} SET connected = %s, connection_channel = %s,"  # noqa: S608
        f" last_seen_at = {_database_now()} WHERE id = %s AND {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connected, channel_name, printer_id])
        return cursor.rowcount == 1


def printer_reported_as(printer_id, reported):
    """Whether the printer's row already holds what its agent reports (``reported``: column → value)."""
    conditions = " AND ".join(f"{_column(Printer, field)} = %s" for field in reported)
    sql = f"SELECT 1 FROM {_table(Printer)} WHERE id = %s AND {conditions}"  # noqa: S608
    return bool(_fetch(sql, [printer_id, *reported.values()]))


def in_flight_job_ids(printer_id):
    """This printer's jobs sent and not finished, in delivery order (re-sent on reconnect)."""
    statuses = list(PrintJob.IN_FLIGHT_STATUSES)
    sql = (
        f"SELECT id FROM {_table(PrintJob)} WHERE printer_id = %s"  # noqa: S608
        f" AND status IN ({_placeholders(statuses)}) ORDER BY priority, id"
    )
    return [row[0] for row in _fetch(sql, [printer_id, *statuses])]


def printer_summary_rows(printer_ids):
    """What ``selectors.printer_summary`` shows of these printers, by name, with ``queued`` (its
    jobs not finished yet) counted by the database: sent to staff at every connect and status
    change."""
    if not printer_ids:
        return []
    queued = list(PrintJob.QUEUED_STATUSES)
    sql = (
        "SELECT p.id, p.name, p.connected, p.status, p.last_seen_at, p.is_active,"  # noqa: S608
        f" (SELECT COUNT(*) FROM {_table(PrintJob)} j WHERE j.printer_id = p.id"
        f" AND j.status IN ({_placeholders(queued)}))"
        f" FROM {_table(Printer)} p WHERE p.id IN ({_placeholders(printer_ids)}) ORDER BY p.name"
    )
    return [
        {
            "pk": pk,
            "name": name,
            "connected": bool(connected),
            "status": status,
            "last_seen_at": _datetime(last_seen_at),
            "is_active": bool(is_active),
            "queued": count,
        }
        for pk, name, connected, status, last_seen_at, is_active, count in _fetch(sql, [*queued, *printer_ids])
    ]


def incidents_close(printer_id, reasons, *, at):
    """End the printer's open incidents of these reasons; return the reasons that ended."""
    if not reasons:
        return []
    sql = (
        f"UPDATE {_table(PrinterIncident)} SET ended_at = %s"  # noqa: S608
        f" WHERE printer_id = %s AND ended_at IS NULL AND reason IN ({_placeholders(reasons)}) RETURNING reason"
    )
    return sorted(row[0] for row in _fetch(sql, [_to_db(PrinterIncident, "ended_at", at), printer_id, *reasons]))


# The job as staff see it (``selectors.JOB_SUMMARY_FIELDS``) and what a report needs besides.
_REPORT_COLUMNS = (
    ("pk", "j.id"),
    ("order_id", "j.order_id"),
    ("order__number", "o.number"),
    ("printer_id", "j.printer_id"),
    ("printer__name", "p.name"),
    ("kind", "j.kind"),
    ("status", "j.status"),
    ("attempts", "j.attempts"),
    ("error_code", "j.error_code"),
    ("error_message", "j.error_message"),
    ("created_at", "j.created_at"),
    ("finished_at", "j.finished_at"),
    ("max_retries", "j.max_retries"),
)


def job_for_report(job_id, printer_id):
    """The job (``selectors.JOB_SUMMARY_FIELDS`` and ``max_retries``) if it is this printer's,
    its row locked; or None."""
    columns = ", ".join(expression for _, expression in _REPORT_COLUMNS)
    sql = (
        f"SELECT {columns} FROM {_table(PrintJob)} j"  # noqa: S608
        f" JOIN {_table(Printer)} p ON p.id = j.printer_id"
        f" LEFT JOIN {_table(Order)} o ON o.id = j.order_id"
        f" WHERE j.id = %s AND j.printer_id = %s{_lock(' OF j')}"
    )
    rows = _fetch(sql, [job_id, printer_id])
    if not rows:
        return None
    row = dict(zip((key for key, _ in _REPORT_COLUMNS), rows[0], strict=True))
    row["created_at"] = _datetime(row["created_at"])
    row["finished_at"] = _datetime(row["finished_at"])
    return row


def jobs_for_delivery(job_ids):
    """What a ``new_order`` payload and the staff summary need of these jobs, by id (missing
    ones left out): the job without its stored document, its printer's settings, its order and
    the order's total (summed here in ``Decimal``, as ``Order.total`` does)."""
    if not job_ids:
        return {}
    sql = (
        "SELECT j.id, j.order_id, j.printer_id, j.kind, j.status, j.content, j.escpos, j.copies,"  # noqa: S608
        " j.priority, j.attempts, j.error_code, j.error_message, j.created_at, j.finished_at,"
        " p.name, p.paper_width, p.profile, p.has_cutter,"
        " o.number, o.status, o.channel, o.customer_name"
        f" FROM {_table(PrintJob)} j JOIN {_table(Printer)} p ON p.id = j.printer_id"
        f" LEFT JOIN {_table(Order)} o ON o.id = j.order_id"
        f" WHERE j.id IN ({_placeholders(job_ids)})"
    )
    jobs = {}
    for row in _fetch(sql, list(job_ids)):
        (pk, order_id, printer_id, kind, status, content, escpos, copies, priority, attempts, error_code) = row[:11]
        (error_message, created_at, finished_at, printer_name, paper_width, profile, has_cutter) = row[11:18]
        (order_number, order_status, order_channel, customer_name) = row[18:]
        jobs[pk] = {
            "pk": pk,
            "order_id": order_id,
            "printer_id": printer_id,
            "kind": kind,
            "status": status,
            "content": content,
            "escpos": bytes(escpos),
            "copies": copies,
            "priority": priority,
            "attempts": attempts,
            "error_code": error_code,
            "error_message": error_message,
            "created_at": _datetime(created_at),
            "finished_at": _datetime(finished_at),
            "printer__name": printer_name,
            "printer__paper_width": paper_width,
            "printer__profile": profile,
            "printer__has_cutter": bool(has_cutter),
            "order__number": order_number,
            "order__status": order_status,
            "order__channel": order_channel,
            "order__customer_name": customer_name,
        }
    order_ids = sorted({job["order_id"] for job in jobs.values() if job["order_id"] is not None})
    totals = dict.fromkeys(order_ids, Decimal("0.00"))
    if order_ids:
        sql = (
            f"SELECT order_id, quantity, unit_price FROM {_table(OrderItem)}"  # noqa: S608
            f" WHERE order_id IN ({_placeholders(order_ids)})"
        )
        lines: dict[int, list] = {}
        for order_id, quantity, unit_price in _fetch(sql, order_ids):
            lines.setdefault(order_id, []).append(OrderLine("", quantity, _money(unit_price), ""))
        totals.update((order_id, lines_total(order_lines)) for order_id, order_lines in lines.items())
    for job in jobs.values():
        job["order__total"] = totals.get(job["order_id"])
    return jobs


# --- writes -----------------------------------------------------------------------------------


def _job_values(updates):
    return [_to_db(PrintJob, field, value) for field, value in updates.items()]


def job_move(job_id, *, from_status, updates):
    """``UPDATE`` the job with ``updates`` (column → value) if its status is still ``from_status``;
    return whether it moved."""
    assignments = ", ".join(f"{_column(PrintJob, field)} = %s" for field in updates)
    sql = f"UPDATE {_table(PrintJob)} SET {assignments} WHERE id = %s AND status = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_job_values(updates), job_id, from_status])
        return cursor.rowcount == 1


def jobs_move(job_ids, *, from_status, updates):
    """``job_move`` for several jobs in one statement; return how many moved."""
    if not job_ids:
        return 0
    assignments = ", ".join(f"{_column(PrintJob, field)} = %s" for field in updates)
    sql = (
        f"UPDATE {_table(PrintJob)} SET {assignments}"  # noqa: S608
        f" WHERE id IN ({_placeholders(job_ids)}) AND status = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*_job_values(updates), *job_ids, from_status])
        return cursor.rowcount


def job_store_rendered(job):
    """Store what ``job`` was rendered into: its ``document``, ``content`` and ``escpos``."""
    fields = ("document", "content", "escpos")
    assignments = ", ".join(f"{_column(PrintJob, field)} = %s" for field in fields)
    sql = f"UPDATE {_table(PrintJob)} SET {assignments} WHERE id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*(_to_db(PrintJob, field, getattr(job, field)) for field in fields), job.pk])


def job_events_insert(events):
    """Insert job history events, each ``(job_id, status, message, at)``."""
    if not events:
        return
    columns = ", ".join(_column(PrintJobEvent, field) for field in ("job", "status", "message", "at"))
    sql = f"INSERT INTO {_table(PrintJobEvent)} ({columns}) VALUES (%s, %s, %s, %s)"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (job_id, status, message[:500], _to_db(PrintJobEvent, "at", at))
                for job_id, status, message, at in events
            ],
        )
