"""Rules of printing/services.py that a mutation run (tools/mutate.py, issue 22) found unguarded
by the fast tests. Each test fails when its rule alone is broken; the mutant it kills is named
(function, and the change) so a later run can be checked against this list."""

import pytest
from django.utils.translation import gettext as _

from printing import services
from printing.models import PrintJob
from printing.services import PrintError

pytestmark = pytest.mark.django_db


def history(job):
    return list(job.events.order_by("id").values_list("status", "message"))


def receipt_of(order):
    """The order's receipt (created on commit in production; these tests run in one transaction)."""
    [job_id] = services.jobs_create_for_order(order_id=order.pk)
    return PrintJob.objects.get(pk=job_id)


def printed(job):
    services.jobs_claim(printer_id=job.printer_id)
    services.job_mark_status(job_id=job.pk, printer_id=job.printer_id, status="completed")
    job.refresh_from_db()
    assert job.status == "completed"
    return job


def test_a_new_job_says_queued_and_a_reprint_names_its_original_in_the_history(make_printer, make_order):
    """Kills _job_create ``message or _("Queued")`` → ``and`` (history message lost or replaced)."""
    make_printer()
    order = make_order()
    original = receipt_of(order)
    assert history(original) == [("pending", _("Queued"))]

    reprint = services.job_reprint(job_id=printed(original).pk)

    assert history(reprint) == [("pending", _("Reprint of job #%(id)s") % {"id": original.pk})]


@pytest.mark.parametrize("waiting", ["pending", "sent", "printing"])
def test_a_reprint_of_a_receipt_still_waiting_is_refused_unless_forced(make_printer, make_order, waiting):
    """Kills job_reprint ``force=False`` → ``True`` and ``not force`` → ``force``: the order would
    print twice."""
    make_printer()
    original = receipt_of(make_order())
    PrintJob.objects.filter(pk=original.pk).update(status=waiting)

    with pytest.raises(PrintError) as refused:
        services.job_reprint(job_id=original.pk)
    assert refused.value.code == "original_waiting"
    assert not PrintJob.objects.filter(kind=PrintJob.Kind.REPRINT).exists()

    forced = services.job_reprint(job_id=original.pk, force=True)  # a person confirmed it
    assert forced.kind == PrintJob.Kind.REPRINT and forced.status == "pending"


def test_a_reprint_on_a_disabled_printer_is_refused_with_the_printer_disabled_code(make_printer, make_order):
    """Kills job_reprint ``_require_active(original.printer)`` deleted: a reprint queued on a
    disabled printer would wait there unseen."""
    printer = make_printer()
    original = printed(receipt_of(make_order()))
    services.printer_set_active(printer=printer, active=False)

    with pytest.raises(PrintError) as refused:
        services.job_reprint(job_id=original.pk)

    assert refused.value.code == "printer_disabled"
    assert not PrintJob.objects.filter(kind=PrintJob.Kind.REPRINT).exists()


def test_a_job_that_moves_between_the_pick_and_the_claim_is_neither_sent_nor_recorded_sent(make_printer, make_order):
    """Delivery rule 4, the claim's fallback: if a picked job is no longer pending when the
    conditional UPDATE runs (the locks should prevent it; another process cancelling it is what
    this stages, just before the UPDATE), only the jobs really claimed are returned, in order, and
    get a ``sent`` event. Kills jobs_claim ``!= len(candidates)`` → ``==`` (the moved job is sent
    anyway) and the re-read's ``flat=True`` → ``False``."""
    from django.db import connection

    printer = make_printer()
    first, second, third = (receipt_of(make_order()) for _ in range(3))
    staged = []

    def another_process_cancels_the_second(execute, sql, params, many, context):
        if not staged and sql.startswith('UPDATE "printing_printjob" SET "status"'):
            staged.append(sql)
            PrintJob.objects.filter(pk=second.pk).update(status="cancelled")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(another_process_cancels_the_second):
        payloads = services.jobs_claim(printer_id=printer.pk)

    assert staged, "the claim's UPDATE was not seen: the staging no longer matches the SQL"
    assert [payload["job_id"] for payload in payloads] == [first.pk, third.pk]
    assert [status for status, _ in history(second)] == ["pending"]
    assert [status for status, _ in history(third)] == ["pending", "sent"]
    second.refresh_from_db()
    assert second.status == "cancelled"


def test_the_agents_failure_message_is_kept_on_the_job_and_in_its_history(make_printer, make_order):
    """Staff see why a job failed in the agent's words. Kills job_mark_status
    ``(message or "")[:500]`` → ``and`` (the agent's message replaced by its error code)."""
    printer = make_printer()
    job = receipt_of(make_order())
    services.jobs_claim(printer_id=printer.pk)

    services.job_mark_status(
        job_id=job.pk, printer_id=printer.pk, status="failed", error_code="bad_data", message="escpos is not base64"
    )

    job.refresh_from_db()
    assert (job.status, job.error_code, job.error_message) == ("failed", "bad_data", "escpos is not base64")
    assert history(job)[-1] == ("failed", "escpos is not base64")


def test_a_final_status_says_whether_the_printer_has_more_jobs_to_claim(make_printer, make_order):
    """``StatusOutcome.pending`` tells the consumer to claim after a final status only when a job
    waits (a claim per acknowledgement otherwise). Kills job_mark_status
    ``new_status in TERMINAL_STATUSES and …exists()`` → ``or``."""
    printer = make_printer()
    first = receipt_of(make_order())
    services.jobs_claim(printer_id=printer.pk)
    second = receipt_of(make_order())  # waits behind the first

    printing = services.job_mark_status(job_id=first.pk, printer_id=printer.pk, status="printing")
    assert (printing.status, printing.pending) == ("printing", False)  # not final: the consumer waits
    done = services.job_mark_status(job_id=first.pk, printer_id=printer.pk, status="completed")
    assert (done.status, done.pending) == ("completed", True)

    services.jobs_claim(printer_id=printer.pk)
    last = services.job_mark_status(job_id=second.pk, printer_id=printer.pk, status="completed")
    assert (last.status, last.pending) == ("completed", False)


def test_a_cloud_printer_is_handed_one_job_at_a_time(make_printer, make_order):
    """A cloud printer fetches one job per request and confirms it by its handout token: a claim
    with a token takes exactly one job, the others stay pending. Kills jobs_claim
    ``limit = 1`` → ``2``."""
    printer = make_printer()
    jobs = [receipt_of(make_order()) for _ in range(3)]

    [payload] = services.jobs_claim(printer_id=printer.pk, handout_token="h-1")

    assert payload["job_id"] == jobs[0].pk
    statuses = dict(PrintJob.objects.filter(printer=printer).values_list("pk", "status"))
    assert statuses == {jobs[0].pk: "sent", jobs[1].pk: "pending", jobs[2].pk: "pending"}
    assert PrintJob.objects.get(pk=jobs[0].pk).handout_token == "h-1"


def test_long_texts_are_cut_to_what_the_columns_hold(make_printer):
    """The history and the job's error hold 500 characters (PostgreSQL refuses more, failing the
    whole transition): a document with many warnings, an agent's long failure message, are cut.
    Kills ``message[:500]`` → ``[:501]`` in _record and job_mark_status, and its
    ``error_code[:40]`` → ``[:41]``."""
    printer = make_printer()
    text = {"type": "text", "data": {"content": "x", "style": {"size": "normal"}}}
    document = {"version": "1.0", "profile": {"model": "test"}, "commands": [text] * 10}

    job = services.job_create_document(printer=printer, document=document)

    [(status, queued)] = history(job)
    assert status == "pending" and queued.startswith(_("Queued, with warnings: %(warnings)s") % {"warnings": ""})
    assert len(queued) == 500

    services.jobs_claim(printer_id=printer.pk)
    services.job_mark_status(
        job_id=job.pk, printer_id=printer.pk, status="failed", error_code="e" * 60, message="y" * 600
    )
    job.refresh_from_db()
    assert job.error_code == "e" * 40
    assert job.error_message == "y" * 500
    assert history(job)[-1] == ("failed", "y" * 500)


def test_the_history_says_the_agents_words_or_the_default_for_each_step(make_printer, make_order):
    """Kills job_mark_status ``message or _("Printing")`` / ``message or _("Printed")`` → ``and``."""
    printer = make_printer()
    spoken, silent = receipt_of(make_order()), receipt_of(make_order())
    services.jobs_claim(printer_id=printer.pk)

    for status, words in (("printing", "sending to the printer"), ("completed", "printed")):
        services.job_mark_status(job_id=spoken.pk, printer_id=printer.pk, status=status, message=words)
        services.job_mark_status(job_id=silent.pk, printer_id=printer.pk, status=status)

    assert history(spoken)[-2:] == [("printing", "sending to the printer"), ("completed", "printed")]
    assert history(silent)[-2:] == [("printing", _("Printing")), ("completed", _("Printed"))]


def test_an_unknown_print_status_is_refused_as_a_bad_message_and_changes_nothing(make_printer, make_order):
    """Kills job_mark_status ``StatusOutcome(ok=False, error="bad_message")`` → ``ok=True``."""
    printer = make_printer()
    job = receipt_of(make_order())
    services.jobs_claim(printer_id=printer.pk)

    outcome = services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="done")

    assert (outcome.ok, outcome.error) == (False, "bad_message")
    assert "done" in outcome.message
    job.refresh_from_db()
    assert job.status == "sent"


def test_a_retryable_failure_sets_the_printer_status_opens_its_incident_and_says_so(make_printer, make_order):
    """A job failing ``paper_out`` is what tells the server the printer is out of paper (rule 5):
    the printer's status, its paper-out incident (the alarm) and a ``printer.updated`` event
    follow at once. Kills job_mark_status ``_incidents_follow_status(...)`` and
    ``_notify_printer(...)`` deleted."""
    from printing.models import PrinterIncident
    from webhooks.models import WebhookEvent
    from webhooks.services import subscription_create

    subscription_create(url="https://pos.example.com/hooks")
    printer = make_printer()
    job = receipt_of(make_order())
    services.jobs_claim(printer_id=printer.pk)
    WebhookEvent.objects.all().delete()

    services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="failed", error_code="paper_out")

    printer.refresh_from_db()
    job.refresh_from_db()
    assert (job.status, printer.status) == ("pending", "paper_out")
    incident = PrinterIncident.objects.get(printer=printer, ended_at__isnull=True)
    assert incident.reason == "paper_out"
    updated = [e for e in WebhookEvent.objects.all() if e.type == "printer.updated"]
    assert [e.data["printer"]["status"] for e in updated] == ["paper_out"]


def test_an_order_reprint_while_its_receipt_still_waits_is_refused_unless_forced(make_printer, make_order):
    """Kills order_reprint ``force=False`` → ``True`` (the order would print twice)."""
    make_printer()
    order = make_order()
    original = receipt_of(order)

    with pytest.raises(PrintError) as refused:
        services.order_reprint(order_id=order.pk)
    assert refused.value.code == "original_waiting"
    assert not PrintJob.objects.filter(kind=PrintJob.Kind.REPRINT).exists()

    [forced] = services.order_reprint(order_id=order.pk, force=True)
    assert (forced.kind, forced.order_id) == (PrintJob.Kind.REPRINT, order.pk)
    assert original.pk != forced.pk


def test_a_repeated_printing_report_is_accepted_and_changes_nothing(make_printer, make_order):
    """Rule 6, idempotent reports. Kills job_mark_status's ``StatusOutcome(ok=True, …)`` for a
    job already printing → ``ok=False`` (the agent would get an error for a harmless repeat)."""
    printer = make_printer()
    job = receipt_of(make_order())
    services.jobs_claim(printer_id=printer.pk)
    services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="printing")

    again = services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="printing")

    assert (again.ok, again.changed, again.status) == (True, False, "printing")
    assert [status for status, _ in history(job)] == ["pending", "sent", "printing"]


def test_a_report_that_loses_the_race_with_a_staff_change_is_accepted_and_changes_nothing(make_printer, make_order):
    """The conditional UPDATE's fallback: if the job moved between the locked read and the UPDATE
    (the lock should prevent it; a cancel is staged just before the UPDATE), the report is
    accepted as a late one. Kills its ``StatusOutcome(ok=True, changed=False)`` → ``ok=False``
    and → ``changed=True``."""
    from django.db import connection

    printer = make_printer()
    job = receipt_of(make_order())
    services.jobs_claim(printer_id=printer.pk)
    staged = []

    def staff_cancels_first(execute, sql, params, many, context):
        if not staged and sql.startswith('UPDATE "printing_printjob" SET "status"'):
            staged.append(sql)
            PrintJob.objects.filter(pk=job.pk).update(status="cancelled")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(staff_cancels_first):
        outcome = services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="completed")

    assert staged, "the report's UPDATE was not seen: the staging no longer matches the SQL"
    assert (outcome.ok, outcome.changed) == (True, False)
    job.refresh_from_db()
    assert job.status == "cancelled"
    assert [status for status, _ in history(job)] == ["pending", "sent"]


def test_a_long_retryable_failure_is_cut_to_the_history_and_printer_columns(make_printer, make_order):
    """The retry event says "Will retry…: <reason>" (past 500 characters with a long reason) and
    the printer's status detail holds 200. Kills ``event_message[:500]`` → ``[:501]`` and
    ``reason[:200]`` → ``[:201]`` in job_mark_status."""
    printer = make_printer()
    job = receipt_of(make_order())
    services.jobs_claim(printer_id=printer.pk)

    services.job_mark_status(
        job_id=job.pk, printer_id=printer.pk, status="failed", error_code="paper_out", message="z" * 600
    )

    status, retry = history(job)[-1]
    assert status == "pending" and len(retry) == 500 and retry.endswith("z")
    printer.refresh_from_db()
    assert printer.status_message == "z" * 200


def test_an_order_reprint_refused_for_one_waiting_receipt_reprints_nothing(make_printer, make_order):
    """An order printed on two printers, one receipt printed and one still waiting: the refusal
    comes before any reprint, not after the first printer's. Kills order_reprint's up-front check
    (``waiting is not None`` → ``is None``, the ``job_reprint(job_id=waiting)`` call deleted)."""
    make_printer("Balcão")
    make_printer("Cozinha")
    order = make_order()
    first, second = (PrintJob.objects.get(pk=pk) for pk in services.jobs_create_for_order(order_id=order.pk))
    printed(second)  # jobs come newest first: the printed one is met before the waiting one
    assert first.status == "pending"

    with pytest.raises(PrintError) as refused:
        services.order_reprint(order_id=order.pk)

    assert refused.value.code == "original_waiting"
    assert not PrintJob.objects.filter(kind=PrintJob.Kind.REPRINT).exists()


def test_disabling_a_printer_emits_printer_updated(make_printer):
    """Staff pages and webhook receivers hear a printer was disabled. Kills printer_set_active
    ``_notify_printer(printer.pk)`` deleted."""
    from webhooks.models import WebhookEvent
    from webhooks.services import subscription_create

    subscription_create(url="https://pos.example.com/hooks")
    printer = make_printer()
    WebhookEvent.objects.all().delete()

    services.printer_set_active(printer=printer, active=False)

    [event] = WebhookEvent.objects.filter(type="printer.updated")
    assert event.data["printer"]["id"] == printer.pk
