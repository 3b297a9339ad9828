"""The fault suite's checker, on synthetic data: it must see every kind of wrong outcome."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.faults.checker import Job, Receipt, check, job_ids_on_paper, read_paper

PRINTERS = {"Balcão": {"counter"}, "Cozinha": {"counter", "scheduled"}}
ORDERS = {1: "counter", 2: "scheduled"}


def healthy_run():
    """Order 1 prints on both printers, order 2 (scheduled) on the kitchen printer only."""
    jobs = [
        Job(10, 1, "Balcão", "completed"),
        Job(11, 1, "Cozinha", "completed"),
        Job(12, 2, "Cozinha", "completed"),
    ]
    paper = {
        "Balcão": [Receipt("a.bin", (10,))],
        "Cozinha": [Receipt("b.bin", (11,)), Receipt("c.bin", (12,))],
    }
    return jobs, paper


def test_it_passes_a_correct_run():
    jobs, paper = healthy_run()
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["expected"] == 3
    assert report.printed == 3
    assert report.problems() == []


def test_it_counts_a_completed_job_missing_from_paper_as_lost():
    jobs, paper = healthy_run()
    paper["Cozinha"] = [Receipt("b.bin", (11,))]
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["lost"] == 1
    assert report.lost[0][:3] == (2, "Cozinha", 12)
    assert report.problems()


def test_it_counts_a_job_stuck_in_sent_as_lost():
    jobs, paper = healthy_run()
    jobs[2] = Job(12, 2, "Cozinha", "sent")
    paper["Cozinha"] = [Receipt("b.bin", (11,))]
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["lost"] == 1
    assert report.unfinished == [(12, "Cozinha", "sent")]


def test_it_counts_a_confirmed_order_without_a_job_as_lost():
    jobs, paper = healthy_run()
    report = check(orders={**ORDERS, 3: "counter"}, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["lost"] == 2  # order 3 on Balcão and on Cozinha
    assert {entry[1] for entry in report.lost} == {"Balcão", "Cozinha"}


def test_it_counts_a_receipt_printed_twice_as_duplicated():
    jobs, paper = healthy_run()
    paper["Balcão"].append(Receipt("d.bin", (10,)))
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["duplicated"] == 1
    assert report.printed == 2
    assert report.problems()


def test_it_counts_two_jobs_for_one_receipt_as_duplicated():
    jobs, paper = healthy_run()
    jobs.append(Job(13, 2, "Cozinha", "completed"))
    paper["Cozinha"].append(Receipt("d.bin", (13,)))
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["duplicated"] == 1


def test_it_counts_paper_of_unknown_jobs_and_of_other_printers_as_unexpected():
    jobs, paper = healthy_run()
    paper["Balcão"] += [Receipt("x.bin", (999,)), Receipt("y.bin", (12,))]
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["unexpected"] == 2
    assert report.printed == 3
    assert report.problems()


def test_it_counts_a_job_on_a_printer_that_does_not_print_that_channel_as_unexpected():
    jobs, paper = healthy_run()
    jobs.append(Job(13, 2, "Balcão", "completed"))
    paper["Balcão"].append(Receipt("d.bin", (13,)))
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["unexpected"] == 1


def test_it_counts_interrupted_jobs_apart_and_limits_them():
    jobs, paper = healthy_run()
    jobs[0] = Job(10, 1, "Balcão", "failed", "interrupted")  # printed before the crash
    jobs[1] = Job(11, 1, "Cozinha", "failed", "interrupted")  # torn: its job line never came out
    paper["Cozinha"][0] = Receipt("b.bin", ())
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["interrupted"] == 2
    assert report.interrupted_on_paper == 1
    assert report.counts()["torn"] == 1
    assert report.counts()["lost"] == 0
    assert report.problems(max_interrupted=2) == []
    assert report.problems(max_interrupted=1)


def test_it_flags_a_torn_print_without_an_interrupted_job():
    jobs, paper = healthy_run()
    paper["Balcão"].append(Receipt("t.bin", ()))
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.problems()


def test_it_flags_paper_the_database_does_not_call_completed():
    jobs, paper = healthy_run()
    jobs[0] = Job(10, 1, "Balcão", "pending")
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["mismatched"] == 1
    assert report.problems()


def test_it_separates_expired_jobs_which_need_a_person():
    jobs, paper = healthy_run()
    jobs[2] = Job(12, 2, "Cozinha", "failed", "expired")
    paper["Cozinha"] = [Receipt("b.bin", (11,))]
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.counts()["expired"] == 1
    assert report.counts()["lost"] == 0


def test_it_reads_the_job_id_off_a_real_receipt_as_the_fake_printer_decodes_it(tmp_path):
    """Receipt layout → ESC/POS → the fake printer's decoder → the checker: the whole chain."""
    from agent.escpos_parser import render_text
    from agent.fakeprinter import JobStore
    from printing.receipts import PrinterSpec, ReceiptItem, ReceiptOrder, ShopInfo, order_receipt
    from printing.rendering import render_escpos

    order = ReceiptOrder(
        number="A-0042",
        channel="counter",
        customer_name="job 7",
        created_at=datetime(2025, 3, 1, 12, 30, tzinfo=UTC),
        items=(ReceiptItem(name="Pão de queijo", quantity=2, unit_price=Decimal("4.50")),),
        total=Decimal("9.00"),
        scheduled_for=None,
        notes="",
        payment_method="",
        order_id=42,
    )
    spec = PrinterSpec(name="Balcão", paper_width=58, profile="", has_cutter=True)
    data = render_escpos(order_receipt(order, spec, ShopInfo(name="Cantina"), job_id=4242), spec, copies=1)
    assert job_ids_on_paper(render_text(data)) == (4242,)
    JobStore(tmp_path, echo=False).save(data)
    assert read_paper(tmp_path) == [Receipt(read_paper(tmp_path)[0].file, (4242,))]


@pytest.mark.parametrize("text", ["", "Cliente job 12\n", "job 12 x\n", "jobs 12\n"])
def test_it_reads_only_a_job_line_of_its_own(text):
    assert job_ids_on_paper(text) == ()


def test_a_reprint_of_an_interrupted_receipt_printed_once_is_reprinted():
    jobs, paper = healthy_run()
    jobs[2] = Job(12, 2, "Cozinha", "failed", "interrupted")
    jobs.append(Job(13, 2, "Cozinha", "completed", kind="reprint"))
    paper["Cozinha"] = [Receipt("b.bin", (11,)), Receipt("d.bin", (13,))]
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.reprinted == [13]
    assert report.problems(max_interrupted=1) == []


def test_a_reprint_printed_twice_or_never_is_a_problem():
    jobs, paper = healthy_run()
    jobs[2] = Job(12, 2, "Cozinha", "failed", "interrupted")
    jobs.append(Job(13, 2, "Cozinha", "completed", kind="reprint"))
    paper["Cozinha"] = [Receipt("b.bin", (11,)), Receipt("d.bin", (13,)), Receipt("e.bin", (13,))]
    twice = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert len(twice.reprint_duplicated) == 1 and twice.problems(max_interrupted=1)

    paper["Cozinha"] = [Receipt("b.bin", (11,))]
    never = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert len(never.reprint_lost) == 1 and never.problems(max_interrupted=1)


def test_a_reprint_of_a_receipt_that_printed_is_unexpected():
    jobs, paper = healthy_run()
    jobs.append(Job(13, 2, "Cozinha", "completed", kind="reprint"))
    paper["Cozinha"].append(Receipt("d.bin", (13,)))
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    assert report.unexpected and report.problems()


def test_it_counts_per_entrance():
    from tests.faults.checker import by_entrance

    jobs, paper = healthy_run()
    jobs[2] = Job(12, 2, "Cozinha", "sent")
    paper["Cozinha"] = [Receipt("b.bin", (11,))]
    report = check(orders=ORDERS, printers=PRINTERS, jobs=jobs, paper=paper)
    table = by_entrance(report, jobs, {1: "api", 2: "driver"}.get)
    assert table == {"api": {"printed": 2, "expected": 2}, "driver": {"lost": 1, "expected": 1}}
