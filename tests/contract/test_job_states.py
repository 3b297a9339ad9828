"""DESIGN.md "Job states": every transition, the terminal states, reprints, and "every
transition writes a PrintJobEvent and notifies staff pages"."""

import pytest
from channels.db import database_sync_to_async

from printing import services
from printing.models import PrintJob
from printing.services import PrintError
from tests.contract.support import (
    NO_SWEEP,
    StaffListener,
    barrier,
    confirm_order,
    connect_agent,
    create_printer,
    job_history,
    job_of,
    job_status,
    queue_test_page,
    receive,
    status,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio, pytest.mark.timeout(90)]


@pytest.fixture(autouse=True)
def _no_sweep(settings):
    settings.CANTINA_SWEEP_INTERVAL = NO_SWEEP
    settings.CANTINA_AGENT_PING_INTERVAL = NO_SWEEP


@database_sync_to_async
def set_job(job_id, **fields):
    PrintJob.objects.filter(pk=job_id).update(**fields)


def call(function, **kwargs):
    return database_sync_to_async(function)(**kwargs)


async def test_pending_sent_printing_completed_each_step_recorded():
    printer, token = await create_printer()
    job = await queue_test_page(printer)
    assert await job_history(job.pk) == ["pending"]
    agent = await connect_agent(token)

    await receive(agent, "new_order")
    assert await job_status(job.pk) == "sent"
    await status(agent, job.pk, "received")  # not a state: nothing recorded
    await status(agent, job.pk, "printing")
    await barrier(agent)
    assert await job_status(job.pk) == "printing"
    await status(agent, job.pk, "completed")
    await barrier(agent)

    assert await job_status(job.pk) == "completed"
    assert await job_history(job.pk) == ["pending", "sent", "printing", "completed"]
    await agent.disconnect()


@pytest.mark.parametrize("error_code", ["paper_out", "cover_open", "offline"])
async def test_retryable_failure_goes_back_to_pending_while_attempts_are_below_max_retries(error_code):
    printer, _ = await create_printer()
    job = await queue_test_page(printer)
    await set_job(job.pk, max_retries=2)
    outcomes = []
    for _ in range(3):
        await set_job(job.pk, status="sent")
        await call(services.printer_report, printer_id=printer.pk, status="ready")
        outcome = await call(
            services.job_mark_status, job_id=job.pk, printer_id=printer.pk, status="failed", error_code=error_code
        )
        outcomes.append(outcome.status)

    assert outcomes == ["pending", "pending", "failed"]  # retries exhausted on the third
    saved = await database_sync_to_async(PrintJob.objects.get)(pk=job.pk)
    assert (saved.attempts, saved.error_code) == (3, error_code)


@pytest.mark.parametrize("error_code", ["bad_data", "interrupted", "something_else"])
async def test_non_retryable_failure_fails_at_once(error_code):
    printer, _ = await create_printer()
    job = await queue_test_page(printer)
    await set_job(job.pk, status="printing")

    outcome = await call(
        services.job_mark_status, job_id=job.pk, printer_id=printer.pk, status="failed", error_code=error_code
    )

    assert outcome.status == "failed"
    assert await job_history(job.pk) == ["pending", "failed"]


@pytest.mark.parametrize("before", ["pending", "sent"])
async def test_staff_can_cancel_before_completion(before):
    printer, _ = await create_printer()
    job = await queue_test_page(printer)
    await set_job(job.pk, status=before)

    await call(services.job_cancel, job_id=job.pk)

    assert await job_status(job.pk) == "cancelled"
    assert (await job_history(job.pk))[-1] == "cancelled"


async def test_a_cancelled_sent_job_is_dropped_by_the_agent_with_a_cancel_message():
    printer, token = await create_printer()
    job = await queue_test_page(printer)
    agent = await connect_agent(token)
    await receive(agent, "new_order")

    await call(services.job_cancel, job_id=job.pk)

    assert (await receive(agent, "cancel"))["job_id"] == job.pk
    await agent.disconnect()


@pytest.mark.parametrize("terminal", ["completed", "failed", "cancelled"])
async def test_terminal_states_never_change(terminal):
    printer, _ = await create_printer()
    job = await queue_test_page(printer)
    await set_job(job.pk, status=terminal)
    history = await job_history(job.pk)

    for report in ("received", "printing", "completed", "failed"):
        await call(
            services.job_mark_status,
            job_id=job.pk,
            printer_id=printer.pk,
            status=report,
            error_code="paper_out" if report == "failed" else "",
        )
    with pytest.raises(PrintError):
        await call(services.job_cancel, job_id=job.pk)
    if terminal != "failed":
        with pytest.raises(PrintError):
            await call(services.job_retry, job_id=job.pk)
    await call(services.jobs_expire, now=None)

    assert await job_status(job.pk) == terminal
    assert await job_history(job.pk) == history


async def test_a_printing_job_cannot_be_cancelled():
    printer, _ = await create_printer()
    job = await queue_test_page(printer)
    await set_job(job.pk, status="printing")

    with pytest.raises(PrintError):
        await call(services.job_cancel, job_id=job.pk)
    assert await job_status(job.pk) == "printing"


async def printed(job):
    await database_sync_to_async(PrintJob.objects.filter(pk=job.pk).update)(status=PrintJob.Status.COMPLETED)


async def test_a_reprint_is_a_new_job_of_kind_reprint_that_says_reimpressao_on_paper_with_priority_2():
    printer, _ = await create_printer()
    order = await confirm_order()
    original = await job_of(order)
    await printed(original)  # a reprint is offered once the original is on paper (or failed)

    reprint = await call(services.job_reprint, job_id=original.pk)

    assert reprint.pk != original.pk
    assert (reprint.kind, reprint.priority, reprint.order_id, reprint.printer_id) == (
        "reprint",
        2,
        order.pk,
        printer.pk,
    )
    assert "REIMPRESSÃO" in reprint.content and "REIMPRESSÃO" not in original.content
    assert b"REIMPRESS" in bytes(reprint.escpos) and b"REIMPRESS" not in bytes(original.escpos)
    assert await job_status(original.pk) == "completed"  # the original is untouched


async def test_a_reprint_says_reprint_in_english_when_receipts_are_english(settings):
    settings.CANTINA_RECEIPT_LANGUAGE = "en"
    await create_printer()
    order = await confirm_order()
    original = await job_of(order)
    await printed(original)

    reprint = await call(services.job_reprint, job_id=original.pk)

    assert "REPRINT" in reprint.content


# --- every transition notifies staff pages ------------------------------------------------


async def test_every_transition_notifies_staff_creation_claim_status_cancel_retry_expiry():
    printer, _ = await create_printer()
    async with StaffListener() as staff:
        job = await queue_test_page(printer)
        assert await staff.next_job_status(job.pk) == "pending"  # created

        await call(services.jobs_claim, printer_id=printer.pk)
        assert await staff.next_job_status(job.pk) == "sent"  # claim

        await call(services.job_mark_status, job_id=job.pk, printer_id=printer.pk, status="printing")
        assert await staff.next_job_status(job.pk) == "printing"  # status

        await call(
            services.job_mark_status, job_id=job.pk, printer_id=printer.pk, status="failed", error_code="bad_data"
        )
        assert await staff.next_job_status(job.pk) == "failed"

        await call(services.job_retry, job_id=job.pk)
        assert await staff.next_job_status(job.pk) == "pending"  # retry

        await call(services.job_cancel, job_id=job.pk)
        assert await staff.next_job_status(job.pk) == "cancelled"  # cancel

        other = await queue_test_page(printer)
        assert await staff.next_job_status(other.pk) == "pending"
        await call(services.jobs_claim, printer_id=printer.pk)
        assert await staff.next_job_status(other.pk) == "sent"
        await call(
            services.job_mark_status, job_id=other.pk, printer_id=printer.pk, status="failed", error_code="paper_out"
        )
        assert await staff.next_job_status(other.pk) == "pending"  # retryable failure
        await call(services.printer_report, printer_id=printer.pk, status="ready")
        await call(services.jobs_claim, printer_id=printer.pk)
        assert await staff.next_job_status(other.pk) == "sent"
        await call(services.job_mark_status, job_id=other.pk, printer_id=printer.pk, status="completed")
        assert await staff.next_job_status(other.pk) == "completed"

        late = await queue_test_page(printer)
        assert await staff.next_job_status(late.pk) == "pending"
        from datetime import timedelta

        from django.utils import timezone

        await call(services.jobs_expire, now=timezone.now() + timedelta(days=2))
        assert await staff.next_job_status(late.pk) == "failed"  # expiry


async def test_every_transition_writes_one_event():
    printer, _ = await create_printer()
    job = await queue_test_page(printer)
    await call(services.jobs_claim, printer_id=printer.pk)
    await call(services.job_mark_status, job_id=job.pk, printer_id=printer.pk, status="printing")
    await call(services.job_mark_status, job_id=job.pk, printer_id=printer.pk, status="failed", error_code="bad_data")
    await call(services.job_retry, job_id=job.pk)
    await call(services.job_cancel, job_id=job.pk)

    assert await job_history(job.pk) == ["pending", "sent", "printing", "failed", "pending", "cancelled"]
