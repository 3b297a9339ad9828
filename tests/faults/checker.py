"""A queue checker in the manner of Jepsen's: what came out on paper against what the database says.

Every order receipt prints a line ``job <id>`` near its bottom (printing/receipts.py), and the fake
printer keeps each job it receives as ``DIR/<stamp>-<seq>.bin`` with a decoded ``.txt`` beside it.
So each printer's output directory is a multiset of job ids; the checker compares it with the
confirmed orders (which receipts *should* exist) and the jobs in the database (what the system
*says* happened).

Every expected receipt — one per (confirmed order, printer that auto-prints its channel) — ends
up in exactly one category:

``printed``      on paper exactly once, and the job is ``completed``.
``interrupted``  the job is ``failed`` with ``interrupted``: the agent stopped while printing it,
                 so it may be on paper once or not at all; a person decides (counted apart).
``expired``      ``failed`` with ``expired`` and not on paper: visible to staff, a person decides.
``failed``       ``failed`` for another reason and not on paper: visible, but not expected here.
``duplicated``   on paper more than once (or two jobs for one receipt): the worst outcome.
``mismatched``   on paper once, but the job is not ``completed`` (or ``failed``/``interrupted``):
                 the database disagrees with the paper, and may print it again later.
``lost``         not on paper, and the job is not in a state a person sees as needing a
                 decision: no job at all, or ``pending``/``sent``/``printing`` forever, or
                 ``completed`` without paper.

A staff reprint (a ``reprint`` job) of an interrupted receipt is judged apart: ``reprinted`` when
it is ``completed`` and on paper exactly once; printed twice it is ``duplicated``, never printed
(and not failed) it is ``lost``. A reprint of a receipt that did print is ``unexpected``. These are
not expected receipts, so they are not in ``expected``.

Besides, ``unexpected`` counts paper that should not exist: a job id unknown to the database,
printed on another printer than its job's, not an order receipt of a known confirmed order, or
a job the database holds for a printer that does not auto-print that order's channel. ``torn``
counts received data without a readable job line (a print cut off mid-way); each must come from
an interrupted job.

Pure functions and dataclasses, so the checker is itself tested on synthetic data
(tests/faults/test_checker.py): a checker that cannot fail would prove nothing.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

JOB_LINE = re.compile(r"^\s*(?:job|Ref\.) (\d+)\s*$", re.MULTILINE)  # "Ref. N" since receipts speak the shop's language
LOCAL_LINE = re.compile(r"^\s*LOCAL (local-\d+)\s*$", re.MULTILINE)  # tickets of the local listener's client

TERMINAL = {"completed", "failed", "cancelled"}


@dataclass(frozen=True)
class Job:
    """One print job as the database holds it."""

    id: int
    order_id: int | None
    printer: str
    status: str
    error_code: str = ""
    kind: str = "order_receipt"


@dataclass(frozen=True)
class Receipt:
    """One job as a printer received it: its file and the job ids readable on it."""

    file: str
    job_ids: tuple[int, ...]
    local_refs: tuple[str, ...] = ()  # a local client's tickets (judged by the client's answers)


def job_ids_on_paper(text):
    return tuple(int(match) for match in JOB_LINE.findall(text))


def read_paper(directory):
    """Every job a fake printer received in ``directory``, oldest first."""
    from agent.escpos_parser import render_text

    receipts = []
    for binary in sorted(Path(directory).glob("*.bin")):
        text_file = binary.with_suffix(".txt")
        if text_file.exists():
            text = text_file.read_text(encoding="utf-8", errors="replace")
        else:  # the .txt is written first, but decode the bytes rather than trust that
            text = render_text(binary.read_bytes())
        receipts.append(Receipt(binary.name, job_ids_on_paper(text), tuple(LOCAL_LINE.findall(text))))
    return receipts


@dataclass
class Report:
    expected: int = 0
    printed: int = 0
    lost: list = field(default_factory=list)
    duplicated: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    mismatched: list = field(default_factory=list)
    interrupted: list = field(default_factory=list)
    interrupted_on_paper: int = 0
    expired: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    torn: list = field(default_factory=list)
    unfinished: list = field(default_factory=list)  # jobs not in a terminal state (any category)
    reprinted: list = field(default_factory=list)  # staff reprints of interrupted receipts, on paper once
    printed_receipts: list = field(default_factory=list)  # (order, printer) of each ``printed``
    reprint_lost: list = field(default_factory=list)
    reprint_duplicated: list = field(default_factory=list)

    def counts(self):
        return {
            "expected": self.expected,
            "printed": self.printed,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "unexpected": len(self.unexpected),
            "mismatched": len(self.mismatched),
            "interrupted": len(self.interrupted),
            "interrupted_on_paper": self.interrupted_on_paper,
            "expired": len(self.expired),
            "failed": len(self.failed),
            "torn": len(self.torn),
            "unfinished": len(self.unfinished),
            "reprinted": len(self.reprinted),
        }

    def summary(self):
        return " ".join(f"{name}={value}" for name, value in self.counts().items())

    def problems(self, max_interrupted=0):
        """What makes this run a failure, as sentences; empty when the run is correct."""
        problems = []
        for name in (
            "lost",
            "duplicated",
            "unexpected",
            "mismatched",
            "failed",
            "expired",
            "reprint_lost",
            "reprint_duplicated",
        ):
            items = getattr(self, name)
            if items:
                problems.append(f"{len(items)} {name}: {items[:10]}")
        if len(self.interrupted) > max_interrupted:
            problems.append(
                f"{len(self.interrupted)} interrupted jobs, more than the {max_interrupted} allowed: "
                f"{self.interrupted[:10]}"
            )
        if len(self.torn) > len(self.interrupted) - self.interrupted_on_paper:
            problems.append(
                f"{len(self.torn)} torn prints but only {len(self.interrupted)} interrupted jobs: {self.torn}"
            )
        if (
            self.printed
            + len(self.interrupted)
            + len(self.expired)
            + len(self.failed)
            + len(self.lost)
            + len(self.duplicated)
            + len(self.mismatched)
            != self.expected
        ):
            problems.append("checker bug: the categories do not add up to the expected receipts")
        return problems

    def as_dict(self):
        return {"counts": self.counts(), **asdict(self)}


def by_entrance(report, jobs, entrance_of):
    """The report's counts per way in: ``entrance_of(order_id)`` names each order's entrance."""
    return _tabulate(report, jobs, lambda order_id, printer: entrance_of(order_id))


def by_printer(report, jobs):
    """The report's counts per printer (an agent's, a cloud printer...)."""
    return _tabulate(report, jobs, lambda order_id, printer: printer)


def _tabulate(report, jobs, key):
    job_by_id = {job.id: job for job in jobs}
    table = defaultdict(Counter)
    for order_id, printer in report.printed_receipts:
        table[key(order_id, printer)]["printed"] += 1
    for name in ("lost", "duplicated", "mismatched", "failed"):
        for entry in getattr(report, name):
            table[key(entry[0], entry[1])][name] += 1
    for name in ("interrupted", "expired"):
        for job_id in getattr(report, name):
            job = job_by_id.get(job_id)
            table[key(job.order_id if job else None, job.printer if job else None)][name] += 1
    result = {}
    for entrance, counts in sorted(table.items()):
        counts["expected"] = sum(
            counts[name] for name in ("printed", "lost", "duplicated", "mismatched", "failed", "interrupted", "expired")
        )
        result[entrance] = dict(counts)
    return result


def check(*, orders, printers, jobs, paper):
    """Compare paper with the database.

    ``orders``: {order_id: channel} of every confirmed order.
    ``printers``: {printer name: set of channels it auto-prints}.
    ``jobs``: the database's jobs (:class:`Job`).
    ``paper``: {printer name: [:class:`Receipt`, ...]} as the fake printers received them.
    """
    report = Report()
    jobs_by_id = {job.id: job for job in jobs}
    receipts_for = defaultdict(list)  # (order, printer) -> [job]
    reprints_for = defaultdict(list)  # (order, printer) -> [reprint job]
    for job in jobs:
        if job.kind == "local":  # printed by a local client's request, recorded afterwards: judged apart
            continue
        if job.status not in TERMINAL:
            report.unfinished.append((job.id, job.printer, job.status))
        if job.kind == "reprint" and job.order_id in orders and orders[job.order_id] in printers.get(job.printer, ()):
            reprints_for[(job.order_id, job.printer)].append(job)
            continue
        if job.kind != "order_receipt" or job.order_id not in orders:
            report.unexpected.append((job.printer, job.id, f"a {job.kind} job for unknown order {job.order_id}"))
            continue
        if orders[job.order_id] not in printers.get(job.printer, ()):
            report.unexpected.append(
                (job.printer, job.id, f"order {job.order_id} ({orders[job.order_id]}) is not for this printer")
            )
            continue
        receipts_for[(job.order_id, job.printer)].append(job)

    times_printed = Counter()  # (printer, job id) -> copies on paper
    for printer, receipts in paper.items():
        for receipt in receipts:
            if not receipt.job_ids and not receipt.local_refs:
                report.torn.append((printer, receipt.file))
            for job_id in set(receipt.job_ids):
                job = jobs_by_id.get(job_id)
                if job is None:
                    report.unexpected.append((printer, job_id, "printed, but no such job in the database"))
                elif job.printer != printer:
                    report.unexpected.append((printer, job_id, f"printed here, but it is a job of {job.printer}"))
                else:
                    times_printed[(printer, job_id)] += 1

    for order_id, channel in sorted(orders.items()):
        for printer in sorted(name for name, channels in printers.items() if channel in channels):
            report.expected += 1
            found = receipts_for.get((order_id, printer), [])
            if not found:
                report.lost.append((order_id, printer, None, "no job in the database"))
                continue
            copies = sum(times_printed[(printer, job.id)] for job in found)
            job = found[0]
            where = (order_id, printer, job.id, job.status + (f"/{job.error_code}" if job.error_code else ""))
            if len(found) > 1:
                report.duplicated.append((*where[:2], [j.id for j in found], f"{len(found)} jobs, {copies} on paper"))
            elif copies > 1:
                report.duplicated.append((*where, f"{copies} copies on paper"))
            elif job.status == "failed" and job.error_code == "interrupted":
                report.interrupted.append(job.id)
                report.interrupted_on_paper += copies
            elif copies == 1 and job.status == "completed":
                report.printed += 1
                report.printed_receipts.append((order_id, printer))
            elif copies == 1:
                report.mismatched.append((*where, "on paper, but not completed"))
            elif job.status == "failed" and job.error_code == "expired":
                report.expired.append(job.id)
            elif job.status == "failed":
                report.failed.append(where)
            else:
                report.lost.append((*where, "not on paper"))
    interrupted = set(report.interrupted)
    for (order_id, printer), reprints in sorted(reprints_for.items()):
        originals = receipts_for.get((order_id, printer), [])
        if not any(job.id in interrupted or job.status == "failed" for job in originals):
            report.unexpected.extend(
                (printer, job.id, f"a reprint of order {order_id}, whose receipt did not fail") for job in reprints
            )
            continue
        for job in reprints:
            copies = times_printed[(printer, job.id)]
            if copies > 1:
                report.reprint_duplicated.append((order_id, printer, job.id, f"{copies} copies on paper"))
            elif copies == 1 and job.status == "completed":
                report.reprinted.append(job.id)
            elif job.status != "failed":
                report.reprint_lost.append((order_id, printer, job.id, job.status))
    return report
