"""Staff pages for printers and print jobs, their actions, and small JSON status endpoints.

Every action goes through ``printing.services``, every JSON shape comes from ``printing.selectors``; the pages stay current through /ws/staff/
(see static/js/live.js), which re-fetches a page region (``?region=…``) or the JSON status after
an update or a reconnect.
"""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import roles
from orders.models import Order
from orders.staff import redirect_back, staff_required
from printing import selectors, services
from printing.forms import JobFilterForm
from printing.models import Printer, PrintJob
from printing.render_inputs import printer_spec
from printing.rendering import PREVIEW_CSS, DocumentError, render_html

RECENT_JOBS = 100
QUEUED_SHOWN = 10
MAX_STATUS_IDS = 200


def _render_page(request, template, region_templates, context):
    """The whole page, or only the region the page script asked for with ``?region=``."""
    region = request.GET.get("region")
    return render(request, region_templates.get(region, template), context)


@staff_required
@permission_required(roles.VIEW_PRINTER, raise_exception=True)
@require_GET
def printers(request):
    queued = PrintJob.objects.queued().select_related("order").order_by("priority", "id")
    printer_list = list(
        Printer.objects.order_by("-is_active", "name").prefetch_related(
            Prefetch("jobs", queryset=queued, to_attr="queued_jobs")
        )
    )
    for printer in printer_list:
        printer.queued_shown = printer.queued_jobs[:QUEUED_SHOWN]
    return _render_page(
        request,
        "printing/printers.html",
        {"panel": "printing/_printers_panel.html"},
        {"printers": printer_list},
    )


@staff_required
@permission_required(roles.CHANGE_PRINTER, raise_exception=True)
@require_POST
def printer_test_print(request, printer_id):
    printer = get_object_or_404(Printer, pk=printer_id)
    try:
        job = services.job_create_test_page(printer=printer, requested_by=request.user)
    except services.PrintError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Test page queued on “%(printer)s” (job #%(id)s).") % {"printer": printer.name, "id": job.pk}
        )
    return redirect_back(request, reverse("printing:printers"))


@staff_required
@permission_required(roles.VIEW_PRINTJOB, raise_exception=True)
@require_GET
def jobs(request):
    form = JobFilterForm(request.GET)
    job_list = form.filter(PrintJob.objects.select_related("printer", "order")).order_by("-id")[:RECENT_JOBS]
    return _render_page(
        request,
        "printing/jobs.html",
        {"table": "printing/_jobs_table.html"},
        {"form": form, "jobs": job_list, "limit": RECENT_JOBS},
    )


@staff_required
@permission_required(roles.VIEW_PRINTJOB, raise_exception=True)
@require_GET
def job_detail(request, job_id):
    job = get_object_or_404(
        PrintJob.objects.select_related("printer", "order", "requested_by").prefetch_related("events"), pk=job_id
    )
    context = {
        "job": job,
        "can_cancel": job.can_cancel() and request.user.has_perm(roles.CHANGE_PRINTJOB),
        "can_retry": job.can_retry() and roles.may_reprint(request.user, job.created_at),
        "can_reprint": job.can_reprint() and roles.may_reprint(request.user, job.created_at),
    }
    if request.GET.get("region") == "job":
        return render(request, "printing/_job_detail_state.html", context)
    context["preview"], context["preview_error"] = _preview(job)
    return render(request, "printing/job_detail.html", context)


def _preview(job):
    """The receipt as HTML from the job's document, and why not if it cannot be rendered."""
    if not job.document:
        return "", ""
    try:
        html = render_html(job.document, printer_spec(job.printer), include_css=False)
    except DocumentError as error:
        return "", str(error)
    # render_html escapes every text of the document: its output is safe to embed.
    return mark_safe(html), ""


@staff_required
@require_POST
def job_reprint(request, job_id):
    _check_may_reprint(request.user)
    original = get_object_or_404(PrintJob, pk=job_id)
    _check_may_reprint(request.user, original.created_at)
    try:
        job = services.job_reprint(job_id=original.pk, requested_by=request.user)
    except services.PrintError as error:
        messages.error(request, str(error))
        return redirect_back(request, reverse("printing:job_detail", args=[original.pk]))
    messages.success(request, _("Reprint queued as job #%(id)s.") % {"id": job.pk})
    return redirect_back(request, reverse("printing:job_detail", args=[job.pk]))


@staff_required
@require_POST
def job_retry(request, job_id):
    _check_may_reprint(request.user)
    job = get_object_or_404(PrintJob, pk=job_id)
    _check_may_reprint(request.user, job.created_at)
    try:
        services.job_retry(job_id=job.pk, requested_by=request.user)
    except services.PrintError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Job #%(id)s is queued again.") % {"id": job.pk})
    return redirect_back(request, reverse("printing:job_detail", args=[job.pk]))


@staff_required
@permission_required(roles.CHANGE_PRINTJOB, raise_exception=True)
@require_POST
def job_cancel(request, job_id):
    job = get_object_or_404(PrintJob, pk=job_id)
    try:
        services.job_cancel(job_id=job.pk, requested_by=request.user)
    except services.PrintError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Job #%(id)s cancelled.") % {"id": job.pk})
    return redirect_back(request, reverse("printing:job_detail", args=[job.pk]))


@staff_required
@require_POST
def order_reprint(request, order_id):
    _check_may_reprint(request.user)
    order = get_object_or_404(Order, pk=order_id)
    printed = order.print_jobs.filter(kind=PrintJob.Kind.ORDER_RECEIPT).order_by("-created_at").first()
    _check_may_reprint(request.user, printed.created_at if printed else order.created_at)
    try:
        reprints = services.order_reprint(order_id=order.pk, requested_by=request.user)
    except services.PrintError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            ngettext(
                "Order %(number)s: reprint queued on %(count)s printer.",
                "Order %(number)s: reprint queued on %(count)s printers.",
                len(reprints),
            )
            % {"number": order.number, "count": len(reprints)},
        )
    return redirect_back(request, reverse("orders:counter"))


@never_cache
@staff_required
@permission_required(roles.VIEW_PRINTJOB, raise_exception=True)
@require_GET
def jobs_status(request):
    """Current state of jobs, for pages catching up after loading or reconnecting.

    ``?order=ID`` (all jobs of these orders) and/or ``?job=ID``, each repeatable or comma-separated.
    """
    order_ids = _ids(request.GET.getlist("order"))
    job_ids = _ids(request.GET.getlist("job"))
    found = set(PrintJob.objects.filter(pk__in=job_ids).values_list("pk", flat=True))
    found.update(PrintJob.objects.filter(order_id__in=order_ids).values_list("pk", flat=True)[:MAX_STATUS_IDS])
    return JsonResponse({"jobs": selectors.job_summaries(sorted(found)[:MAX_STATUS_IDS])})


@never_cache
@staff_required
@permission_required(roles.VIEW_PRINTER, raise_exception=True)
@require_GET
def printers_status(request):
    return JsonResponse({"printers": selectors.printer_summaries()})


def _check_may_reprint(user, created_at=None):
    """Reprint and retry: any job for a manager, today's jobs (own shift) for an attendant."""
    if not roles.may_reprint_something(user):
        raise PermissionDenied
    if created_at is not None and not roles.may_reprint(user, created_at):
        raise PermissionDenied(_("Only a manager may reprint or retry jobs of an earlier day."))


@cache_control(public=True, max_age=3600)
@require_GET
def preview_css(request):
    """The receipt preview's style sheet, linked rather than inline (the CSP allows no inline style)."""
    return HttpResponse(PREVIEW_CSS, content_type="text/css; charset=utf-8")


def _ids(values):
    ids = set()
    for value in values:
        for part in value.split(","):
            if part.strip().isdigit():
                ids.add(int(part))
            if len(ids) >= MAX_STATUS_IDS:
                return ids
    return ids


@never_cache
@staff_required
@permission_required(roles.VIEW_PRINTER, raise_exception=True)
@require_GET
def printer_alarms(request):
    """The printer-down alarms now (the red bar of every staff page polls this)."""
    return JsonResponse({"alarms": selectors.printer_alarms()})


@staff_required
@permission_required(roles.VIEW_ORDER, raise_exception=True)
@permission_required(roles.VIEW_PRINTJOB, raise_exception=True)
@require_http_methods(["GET", "POST"])
def day_close(request):
    """Fechamento do dia: the day's figures; POST prints them on the chosen printer."""
    from django.conf import settings
    from django.utils import timezone

    from orders.forms import DayForm
    from printing.day_close import day_close_document, day_close_report

    day = DayForm(request.GET if request.method == "GET" else request.POST).selected_day()
    report = day_close_report(day)
    printers = list(Printer.objects.filter(is_active=True).order_by("name"))
    if request.method == "POST":
        printer = Printer.objects.filter(pk=request.POST.get("printer") or 0, is_active=True).first()
        if printer is None:
            messages.error(request, _("Choose an active printer to print the day close on."))
        else:
            with translation.override(settings.CANTINA_RECEIPT_LANGUAGE):
                document = day_close_document(report, printer_spec(printer), settings.CANTINA_SHOP_NAME)
            job = services.job_create_document(
                printer=printer,
                document=document,
                requested_by=request.user,
                title=_("Day close"),
            )
            messages.success(
                request, _("Day close queued on “%(printer)s” (job #%(id)s).") % {"printer": printer.name, "id": job.pk}
            )
        return redirect(f"{reverse('printing:day_close')}?day={day.isoformat()}")
    return render(
        request,
        "printing/day_close.html",
        {
            "report": report,
            "printers": printers,
            "is_today": day == timezone.localdate(),
            "day_form": DayForm(initial={"day": day}),
        },
    )
