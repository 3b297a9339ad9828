"""Admin for printers and print jobs: configuration in ModelAdmin options, every change through
printing.services.

Actions report, per printer or per job, what happened or why the service refused. Agent tokens
are shown once, in the response that issued them: never in a message (messages are stored in
the session), never in a log line, never again afterwards.
"""

import json
import logging
import threading
from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts import roles
from orders.admin import OrderAdmin
from orders.models import Order
from printing import services
from printing.display import (
    JOB_STATUS_TONE,
    PRINTER_STATUS_TONE,
    printer_connection_label,
    printer_connection_tone,
    time_ago,
)
from printing.history import history_message
from printing.models import DEVICE_ID_PATTERN, Printer, PrintJob, PrintJobEvent, normalize_mac
from printing.render_inputs import printer_spec
from printing.rendering import render_html
from printing.selectors import annotate_queued
from printing.services import PrintError

log = logging.getLogger("cantina.printing")

admin.site.site_header = gettext_lazy("Cantina Print administration")
admin.site.site_title = gettext_lazy("Cantina Print")
# The collapsible app list on the left takes 275 px of every page: at 1280 px the lists (with
# their filter panel) need that width. The app list stays on the admin's home page.
admin.site.enable_nav_sidebar = False

AGENT_PRINTER_PLACEHOLDER = "tcp://IP:9100"

_current_request = threading.local()
ADMIN_MEDIA = forms.Media(css={"all": ["admin_extra/admin_extra.css"]})


def badge(tone, label, title=""):
    if title:
        return format_html('<span class="cantina-badge cantina-badge--{}" title="{}">{}</span>', tone, title, label)
    return format_html('<span class="cantina-badge cantina-badge--{}">{}</span>', tone, label)


def printer_status_badge(printer):
    return badge(
        PRINTER_STATUS_TONE.get(printer.status, "muted"),
        printer.get_status_display(),
        history_message(printer.status_message),
    )


def printer_connection_badge(printer):
    return badge(printer_connection_tone(printer), printer_connection_label(printer))


def job_status_badge(job):
    return badge(JOB_STATUS_TONE.get(job.status, "muted"), job.get_status_display(), history_message(job.error_message))


def moment(value):
    """A date and time as "3 minutes ago", with the exact local time on hover."""
    if value is None:
        return _("never")
    exact = date_format(timezone.localtime(value), "DATETIME_FORMAT")
    if value > timezone.now():
        return format_html('<span title="{}">{}</span>', exact, exact)
    return format_html('<span title="{}">{}</span>', exact, time_ago(value))


def agent_server_url(request):
    scheme = "wss" if request.is_secure() else "ws"
    return f"{scheme}://{request.get_host()}/ws/agent/"


def agent_command(request, token):
    # The token goes in the environment, never in the arguments: those are visible to every user
    # of the machine (ps, /proc/*/cmdline) and end up in process listings and logs.
    return (
        f"CANTINA_TOKEN={token} python -m agent --server {agent_server_url(request)} "
        f"--printer {AGENT_PRINTER_PLACEHOLDER}"
    )


CLOUD_PATHS = {Printer.Transport.CLOUDPRNT: "/cloudprnt/", Printer.Transport.EPSON_SDP: "/epson/sdp/"}


def cloud_server_url(request, printer):
    scheme = "https" if request.is_secure() else "http"
    return f"{scheme}://{request.get_host()}{CLOUD_PATHS[printer.transport]}"


def cloud_user_name(printer):
    # CloudPRNT takes any user name; Epson's Digest authentication uses the device ID.
    return printer.device_id if printer.transport == Printer.Transport.EPSON_SDP else "cantina"


def issue_secret(printer):
    """A new agent token, or a new secret for a cloud printer; returned once."""
    if printer.is_cloud:
        from printing.cloud.services import cloud_printer_issue_secret

        return cloud_printer_issue_secret(printer=printer)
    return services.printer_issue_token(printer=printer)


# --- printers -------------------------------------------------------------------------------


class PrinterForm(forms.ModelForm):
    auto_print = forms.MultipleChoiceField(
        label=capfirst(gettext_lazy("prints automatically")),
        choices=Order.Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("Order channels whose confirmed orders this printer prints by itself."),
    )
    kitchen_channels = forms.MultipleChoiceField(
        label=capfirst(gettext_lazy("kitchen tickets for")),
        choices=Order.Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy(
            "For these channels the printer prints kitchen tickets (items of its categories, no prices) "
            "instead of customer receipts."
        ),
    )
    kitchen_categories = forms.CharField(
        label=capfirst(gettext_lazy("kitchen categories")),
        required=False,
        help_text=gettext_lazy("Comma-separated product categories, e.g. Lanches, Bebidas."),
    )

    # Not required in the form: a form that does not show them keeps an agent printer.
    transport = forms.ChoiceField(
        label=capfirst(gettext_lazy("connection")),
        choices=Printer.Transport.choices,
        required=False,
        help_text=gettext_lazy(
            "How the printer gets its jobs: through the Cantina agent, or by polling the server itself."
        ),
    )
    poll_interval = forms.IntegerField(
        label=capfirst(gettext_lazy("poll interval (seconds)")),
        min_value=1,
        max_value=3600,
        required=False,
        help_text=gettext_lazy("How often the printer asks for jobs; it shows offline after three missed polls."),
    )

    class Meta:
        model = Printer
        fields = "__all__"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance and self.instance.pk:
            self.initial["kitchen_categories"] = ", ".join(self.instance.kitchen_categories or [])

    def clean_kitchen_categories(self):
        return [part.strip() for part in self.cleaned_data["kitchen_categories"].split(",") if part.strip()]

    def clean_transport(self):
        return self.cleaned_data.get("transport") or Printer.Transport.AGENT

    def clean_poll_interval(self):
        value = self.cleaned_data.get("poll_interval")
        return value if value is not None else (self.instance.poll_interval or 5)

    def clean_mac(self):
        raw = (self.cleaned_data.get("mac") or "").strip()
        if not raw:
            return ""
        mac = normalize_mac(raw)
        if not mac:
            raise forms.ValidationError(_("Not a MAC address: write it as 00:11:62:AA:BB:CC."))
        return mac

    def clean_device_id(self):
        import re

        device_id = (self.cleaned_data.get("device_id") or "").strip()
        if device_id and not re.fullmatch(DEVICE_ID_PATTERN, device_id):
            raise forms.ValidationError(_("Up to 30 letters, digits, “_”, “.” or “-”, as the printer accepts."))
        return device_id

    def clean(self):
        cleaned = super().clean()
        transport = cleaned.get("transport")
        if transport == Printer.Transport.CLOUDPRNT and not cleaned.get("mac"):
            self.add_error("mac", _("A Star CloudPRNT printer needs the MAC address it reports."))
        if transport == Printer.Transport.EPSON_SDP and not cleaned.get("device_id"):
            self.add_error("device_id", _("An Epson Server Direct Print printer needs the ID set in the printer."))
        if cleaned.get("kitchen_channels") and not cleaned.get("kitchen_categories"):
            self.add_error("kitchen_categories", _("A kitchen printer needs at least one category."))
        if cleaned.get("kitchen_channels") and cleaned.get("has_drawer"):
            self.add_error("has_drawer", _("A kitchen printer never opens the cash drawer."))
        return cleaned

    def clean_profile(self):
        profile = self.cleaned_data["profile"].strip()
        if profile:
            from escpos.capabilities import get_profile

            try:
                get_profile(profile)
            except Exception:
                raise forms.ValidationError(
                    _(
                        "Unknown printer profile “%(profile)s”. Use a python-escpos profile name such as TM-T20II, "
                        "or leave it empty."
                    ),
                    params={"profile": profile},
                ) from None
        return profile


@admin.register(Printer)
class PrinterAdmin(admin.ModelAdmin):
    form = PrinterForm
    list_display = [
        "name",
        "location",
        "connection",
        "printer_status",
        "last_seen",
        "queued_jobs",
        "agent_token",
    ]
    list_filter = ["is_active", "connected", "status", "paper_width"]
    search_fields = ["name", "location", "model_name"]
    actions = ["print_test_page", "enable", "disable", "issue_token", "revoke_token"]
    fieldsets = [
        (None, {"fields": ["name", "location", "is_active"]}),
        (
            gettext_lazy("Paper and printing"),
            {"fields": ["paper_width", "profile", "has_cutter", "raster_only", "copies", "auto_print", "has_drawer"]},
        ),
        (gettext_lazy("Kitchen tickets"), {"fields": ["kitchen_channels", "kitchen_categories"]}),
        (
            gettext_lazy("Cloud printer (no agent)"),
            {"fields": ["transport", "mac", "device_id", "poll_interval", "cloud_setup"], "classes": ["collapse"]},
        ),
        (
            gettext_lazy("Agent"),
            {
                "fields": [
                    "connection",
                    "printer_status",
                    "status_message",
                    "last_seen",
                    "model_name",
                    "agent_version",
                    "agent_token",
                ]
            },
        ),
    ]
    readonly_fields = [
        "connection",
        "printer_status",
        "status_message",
        "last_seen",
        "model_name",
        "agent_version",
        "agent_token",
        "cloud_setup",
    ]

    @property
    def media(self):
        return super().media + ADMIN_MEDIA

    def get_queryset(self, request):
        return annotate_queued(super().get_queryset(request))

    # --- columns ----------------------------------------------------------------------------

    @admin.display(description=capfirst(gettext_lazy("connection")), ordering="connected")
    def connection(self, printer):
        return printer_connection_badge(printer)

    @admin.display(description=capfirst(gettext_lazy("status")), ordering="status")
    def printer_status(self, printer):
        return printer_status_badge(printer)

    @admin.display(description=capfirst(gettext_lazy("last seen")), ordering="last_seen_at")
    def last_seen(self, printer):
        return moment(printer.last_seen_at)

    @admin.display(description=capfirst(gettext_lazy("queued jobs")), ordering="queued")
    def queued_jobs(self, printer):
        queued = getattr(printer, "queued", None)
        if queued is None:  # the add form has no annotated instance
            return "—"
        url = reverse("admin:printing_printjob_changelist")
        query = f"printer__id__exact={printer.pk}&status__in={','.join(PrintJob.QUEUED_STATUSES)}"
        return format_html('<a href="{}?{}">{}</a>', url, query, queued)

    @admin.display(description=capfirst(gettext_lazy("agent token")), ordering="token_issued_at")
    def agent_token(self, printer):
        # Never the token, nor its prefix: only whether there is one and since when.
        if not printer.token_hash:
            return _("none")
        issued = timezone.localtime(printer.token_issued_at)
        return format_html(
            '<span title="{}">{}</span>',
            date_format(issued, "DATETIME_FORMAT"),
            _("issued %(date)s") % {"date": date_format(issued, "SHORT_DATE_FORMAT")},
        )

    @admin.display(description=capfirst(gettext_lazy("printer settings")))
    def cloud_setup(self, printer):
        if printer.pk is None or not printer.is_cloud:
            return _(
                "Choose Star CloudPRNT or Epson Server Direct Print, save, then type these settings into the printer."
            )
        request = getattr(_current_request, "value", None)
        url = cloud_server_url(request, printer) if request is not None else CLOUD_PATHS[printer.transport]
        return format_html(
            "{}: <code>{}</code><br>{}: <code>{}</code><br>{}: {}<br>{}: {}",
            _("Server URL"),
            url,
            _("User name"),
            cloud_user_name(printer),
            _("Password"),
            _("the printer's secret, shown once when issued (“Issue a new agent token” gives a new one)"),
            _("Polling interval"),
            _("%(seconds)s s") % {"seconds": printer.poll_interval},
        )

    def get_fieldsets(self, request, obj=None):
        _current_request.value = request  # cloud_setup shows this server's own URL
        return super().get_fieldsets(request, obj)

    # --- saving -----------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data:
            # Through the service, so a connected agent is told at once and the change is logged.
            services.printer_set_active(printer=obj, active=obj.is_active)
        if change and obj.is_cloud and {"transport", "device_id"} & set(form.changed_data):
            self.message_user(
                request,
                _("The printer's connection changed: issue a new secret and type it into the printer."),
                messages.WARNING,
            )

    def response_add(self, request, obj, post_url_continue=None):
        # A new printer is useless without its agent token: issue it and show it right away.
        if IS_POPUP_VAR in request.POST or not self.has_change_permission(request, obj):
            return super().response_add(request, obj, post_url_continue)
        token = issue_secret(obj)
        self.log_change(request, obj, _("Issued a new agent token."))
        self.message_user(
            request,
            _("The printer “%(name)s” was added. Its agent token is below.") % {"name": obj.name},
            messages.SUCCESS,
        )
        return self.token_response(request, [(obj, token)], added=True)

    # --- actions ----------------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Print a test page"), permissions=["change"])
    def print_test_page(self, request, queryset):
        for printer in queryset:
            try:
                job = services.job_create_test_page(printer=printer, requested_by=request.user)
            except PrintError as error:
                self.message_user(request, str(error), messages.WARNING)
            else:
                self.message_user(
                    request,
                    _("Test page queued on “%(name)s” (job #%(id)s).") % {"name": printer.name, "id": job.pk},
                    messages.SUCCESS,
                )

    @admin.action(description=gettext_lazy("Enable selected printers"), permissions=["change"])
    def enable(self, request, queryset):
        self._set_active(request, queryset, True)

    @admin.action(description=gettext_lazy("Disable selected printers"), permissions=["change"])
    def disable(self, request, queryset):
        self._set_active(request, queryset, False)

    def _set_active(self, request, queryset, active):
        for printer in queryset:
            if printer.is_active == active:
                message = _("“%(name)s” was already enabled.") if active else _("“%(name)s” was already disabled.")
                self.message_user(request, message % {"name": printer.name}, messages.INFO)
                continue
            services.printer_set_active(printer=printer, active=active)
            self.log_change(request, printer, _("Enabled.") if active else _("Disabled."))
            message = _("“%(name)s” enabled.") if active else _("“%(name)s” disabled: its agent is disconnected.")
            self.message_user(request, message % {"name": printer.name}, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Issue a new agent token"), permissions=["change"])
    def issue_token(self, request, queryset):
        with transaction.atomic():
            issued = [(printer, issue_secret(printer)) for printer in queryset]
            for printer, _token in issued:
                self.log_change(request, printer, _("Issued a new agent token."))
        return self.token_response(request, issued)

    @admin.action(description=gettext_lazy("Revoke the agent token"), permissions=["change"])
    def revoke_token(self, request, queryset):
        for printer in queryset:
            if not printer.token_hash:
                self.message_user(request, _("“%(name)s” has no agent token.") % {"name": printer.name}, messages.INFO)
                continue
            services.printer_revoke_token(printer=printer)
            self.log_change(request, printer, _("Revoked the agent token."))
            self.message_user(
                request,
                _("Token of “%(name)s” revoked: its agent is disconnected and cannot reconnect.")
                % {"name": printer.name},
                messages.SUCCESS,
            )

    # --- the token page ---------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<path:object_id>/token/",
                self.admin_site.admin_view(self.token_view),
                name="printing_printer_token",
            ),
            *super().get_urls(),
        ]

    def token_view(self, request, object_id):
        """GET: confirm (the current token stops working). POST: issue and show the new one once."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        printer = self.get_object(request, object_id)
        if printer is None:
            raise Http404(_("Printer not found."))
        if not self.has_change_permission(request, printer):
            raise PermissionDenied
        if request.method == "POST":
            with transaction.atomic():
                token = issue_secret(printer)
                self.log_change(request, printer, _("Issued a new agent token."))
            return self.token_response(request, [(printer, token)])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Issue a new agent token"),
            "opts": self.opts,
            "printer": printer,
        }
        return TemplateResponse(request, "admin/printing/printer/token_confirm.html", context)

    def token_response(self, request, issued, added=False):
        context = {
            **self.admin_site.each_context(request),
            "title": ngettext("New agent token", "New agent tokens", len(issued)),
            "opts": self.opts,
            "added": added,
            "server_url": agent_server_url(request),
            "printer_placeholder": AGENT_PRINTER_PLACEHOLDER,
            "issued": [
                {"printer": printer, "token": token, "command": agent_command(request, token)}
                if not printer.is_cloud
                else {
                    "printer": printer,
                    "token": token,
                    "cloud": True,
                    "url": cloud_server_url(request, printer),
                    "user": cloud_user_name(printer),
                }
                for printer, token in issued
            ],
            "media": self.media,
        }
        response = TemplateResponse(request, "admin/printing/printer/agent_token.html", context)
        add_never_cache_headers(response)
        return response


# --- print jobs -----------------------------------------------------------------------------


class PrintJobEventInline(admin.TabularInline):
    model = PrintJobEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "status", "message_shown")
    fields = readonly_fields
    verbose_name_plural = capfirst(gettext_lazy("history"))

    @admin.display(description=capfirst(gettext_lazy("message")))
    def message_shown(self, event):
        # Stored in the language of whoever wrote it (the agent writes English): shown in the reader's.
        return history_message(event.message)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PrintJobForm(forms.ModelForm):
    class Meta:
        model = PrintJob
        fields = ["priority"]

    def clean_priority(self):
        if self.instance.pk and "priority" in self.changed_data:
            current = PrintJob.objects.filter(pk=self.instance.pk).only("status").first()
            if current is None or not current.can_change_priority():
                raise forms.ValidationError(_("The priority can only change while the job is queued."))
        return self.cleaned_data["priority"]


def job_outcome_message(job_id, error):
    # Service messages are written for people; some already name the job, the others get its id.
    message = str(error)
    return message if f"#{job_id}" in message else _("Job #%(id)s: %(message)s") % {"id": job_id, "message": message}


@admin.register(PrintJob)
class PrintJobAdmin(admin.ModelAdmin):
    form = PrintJobForm
    list_display = [
        "id",
        "job_status",
        "created_at",
        "printer",
        "order_link",
        "kind",
        "priority",
        "attempts",
        "short_error",
        "finished_at",
    ]
    list_display_links = ["id", "created_at"]
    list_filter = ["status", "printer", "kind", "created_at"]
    search_fields = ["order__number", "order__customer_name"]
    search_help_text = gettext_lazy("Order number or customer name (or #job id).")
    list_select_related = ["printer", "order"]
    date_hierarchy = "created_at"
    inlines = [PrintJobEventInline]
    actions = ["retry_failed", "cancel", "reprint"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "printer_link",
                    "order_link",
                    "kind",
                    "source",
                    "job_status",
                    "priority",
                    "copies",
                    "requested_by",
                ]
            },
        ),
        (gettext_lazy("Delivery"), {"fields": ["attempts", "max_retries", "error_code", "error_message"]}),
        (gettext_lazy("Times"), {"fields": ["created_at", "sent_at", "started_at", "finished_at"]}),
        (gettext_lazy("Receipt"), {"fields": ["receipt_preview", "plain_text"]}),
        (gettext_lazy("Document"), {"fields": ["document_json"], "classes": ["collapse"]}),
    ]
    # Everything that belongs to the state machine is read-only; see get_readonly_fields.
    readonly_fields = [
        "printer_link",
        "order_link",
        "kind",
        "source",
        "job_status",
        "copies",
        "requested_by",
        "attempts",
        "max_retries",
        "error_code",
        "error_message",
        "created_at",
        "sent_at",
        "started_at",
        "finished_at",
        "receipt_preview",
        "plain_text",
        "document_json",
    ]

    @property
    def media(self):
        # The receipt preview's style sheet (no inline <style>: the CSP allows none).
        return super().media + ADMIN_MEDIA + forms.Media(css={"all": [reverse("printing:preview_css")]})

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None or not obj.can_change_priority():
            fields.append("priority")
        return fields

    def has_add_permission(self, request):
        return False  # jobs come from orders, test pages and reprints

    def has_delete_permission(self, request, obj=None):
        # Deleting a job the agent may be printing would lose track of it.
        if obj is not None and not obj.is_terminal:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete could take queued jobs with it
        return actions

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        job_id = search_term.strip().lstrip("#")
        if job_id.isdigit():
            results |= queryset.filter(pk=int(job_id))
        return results, may_have_duplicates

    def save_model(self, request, obj, form, change):
        # Never obj.save(): it would write back a status the agent may have changed meanwhile.
        if change and "priority" in form.changed_data:
            try:
                services.job_set_priority(
                    job_id=obj.pk, priority=form.cleaned_data["priority"], requested_by=request.user
                )
            except PrintError as error:
                self.message_user(request, str(error), messages.ERROR)

    # --- columns and fields -----------------------------------------------------------------

    @admin.display(description=capfirst(gettext_lazy("status")), ordering="status")
    def job_status(self, job):
        return job_status_badge(job)

    @admin.display(description=capfirst(gettext_lazy("order")), ordering="order__created_at")
    def order_link(self, job):
        if job.order_id is None:
            return "—"
        url = reverse("admin:orders_order_change", args=[job.order_id])
        label = f"#{job.order.number}"
        if job.order.customer_name:
            label += f" {job.order.customer_name}"
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=capfirst(gettext_lazy("printer")))
    def printer_link(self, job):
        url = reverse("admin:printing_printer_change", args=[job.printer_id])
        return format_html('<a href="{}">{}</a>', url, job.printer.name)

    @admin.display(description=capfirst(gettext_lazy("error")))
    def short_error(self, job):
        if not job.error_message:
            return ""
        message = history_message(job.error_message)
        text = message if len(message) <= 60 else message[:59] + "…"
        return format_html('<span title="{}">{}</span>', message, text)

    @admin.display(description=capfirst(gettext_lazy("preview")))
    def receipt_preview(self, job):
        if not job.document:
            return _("No document.")
        try:
            html = render_html(job.document, printer_spec(job.printer), include_css=False)
        except Exception:
            log.exception("job=%s preview failed", job.pk)
            return _("The preview could not be rendered.")
        # render_html escapes every text of the document; its output is the only thing marked safe.
        return format_html('<div class="cantina-receipt-preview">{}</div>', mark_safe(html))

    @admin.display(description=capfirst(gettext_lazy("plain text")))
    def plain_text(self, job):
        return format_html('<pre class="cantina-plain-text">{}</pre>', job.content)

    @admin.display(description=capfirst(gettext_lazy("document")))
    def document_json(self, job):
        return format_html("<pre>{}</pre>", json.dumps(job.document, ensure_ascii=False, indent=2))

    # --- actions ----------------------------------------------------------------------------

    def has_reprint_permission(self, request, obj=None):
        return roles.may_reprint_something(request.user)

    def _run_per_job(self, request, queryset, service, own_shift=False):
        """Call ``service`` for each selected job; report each refusal. Returns [(job id, result)].

        ``own_shift``: an attendant may only reprint or retry today's jobs (accounts.roles).
        """
        done = []
        for job_id, created_at in queryset.order_by("pk").values_list("pk", "created_at"):
            if own_shift and not roles.may_reprint(request.user, created_at):
                message = _("Only a manager may reprint or retry jobs of an earlier day.")
                self.message_user(request, f"#{job_id}: {message}", messages.WARNING)
                continue
            try:
                result = service(job_id=job_id, requested_by=request.user)
            except PrintError as error:
                self.message_user(request, job_outcome_message(job_id, error), messages.WARNING)
            else:
                done.append((job_id, result))
        return done

    @staticmethod
    def _ids(job_ids):
        return ", ".join(f"#{job_id}" for job_id in job_ids)

    @admin.action(description=gettext_lazy("Retry selected failed jobs"), permissions=["reprint"])
    def retry_failed(self, request, queryset):
        done = self._run_per_job(request, queryset, services.job_retry, own_shift=True)
        if done:
            message = ngettext(
                "Queued again: %(count)d job (%(ids)s).", "Queued again: %(count)d jobs (%(ids)s).", len(done)
            )
            values = {"count": len(done), "ids": self._ids(i for i, _r in done)}
            self.message_user(request, message % values, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Cancel selected jobs (queued or sent)"), permissions=["change"])
    def cancel(self, request, queryset):
        done = self._run_per_job(request, queryset, services.job_cancel)
        if done:
            message = ngettext("Cancelled: %(count)d job (%(ids)s).", "Cancelled: %(count)d jobs (%(ids)s).", len(done))
            values = {"count": len(done), "ids": self._ids(i for i, _r in done)}
            self.message_user(request, message % values, messages.SUCCESS)

    @admin.action(description=gettext_lazy("Reprint selected jobs"), permissions=["reprint"])
    def reprint(self, request, queryset):
        done = self._run_per_job(request, queryset, partial(services.job_reprint, force=True), own_shift=True)
        if done:
            message = ngettext(
                "Reprint queued: %(count)d job (%(new_ids)s, reprinting %(ids)s).",
                "Reprints queued: %(count)d jobs (%(new_ids)s, reprinting %(ids)s).",
                len(done),
            )
            values = {
                "count": len(done),
                "ids": self._ids(i for i, _r in done),
                "new_ids": self._ids(job.pk for _i, job in done),
            }
            self.message_user(request, message % values, messages.SUCCESS)


# --- orders, as printing sees them ----------------------------------------------------------
# orders never imports printing, so the order admin learns about print jobs here.


class OrderPrintJobInline(admin.TabularInline):
    model = PrintJob
    fk_name = "order"
    extra = 0
    can_delete = False
    show_change_link = True
    readonly_fields = ("printer", "kind", "job_status", "attempts", "error_message", "created_at", "finished_at")
    fields = readonly_fields
    verbose_name_plural = capfirst(gettext_lazy("print jobs"))

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("printer")

    @admin.display(description=capfirst(gettext_lazy("status")))
    def job_status(self, job):
        return job_status_badge(job)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PrintingOrderAdmin(OrderAdmin):
    inlines = [*OrderAdmin.inlines, OrderPrintJobInline]
    list_display = [*OrderAdmin.list_display, "order_total", "printing"]
    actions = [*(OrderAdmin.actions or []), "reprint_receipts"]

    @property
    def media(self):
        return super().media + ADMIN_MEDIA

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .with_total()
            .annotate(
                jobs_total=Count("print_jobs"),
                jobs_printed=Count("print_jobs", filter=Q(print_jobs__status=PrintJob.Status.COMPLETED)),
                jobs_failed=Count("print_jobs", filter=Q(print_jobs__status=PrintJob.Status.FAILED)),
            )
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        order = form.instance
        items_changed = any(
            formset.has_changed() for formset in formsets if getattr(formset, "model", None) is not PrintJob
        )
        if (
            change
            and items_changed
            and PrintJob.objects.filter(
                order=order, kind__in=[PrintJob.Kind.ORDER_RECEIPT, PrintJob.Kind.KITCHEN_TICKET]
            ).exists()
        ):
            # The paper at the counter (and in the kitchen) shows the old items: say so, loudly.
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("Order #%(number)s was already printed with other items: reprint it so the paper matches.")
                    % {"number": order.number},
                    reverse("admin:orders_order_changelist") + f"?id__exact={order.pk}",
                    _("Select it and use “Reprint receipts” (reimprimir)."),
                ),
                messages.WARNING,
            )

    @admin.display(description=capfirst(gettext_lazy("total")), ordering="total_amount")
    def order_total(self, order):
        return order.total

    @admin.display(description=capfirst(gettext_lazy("printing")))
    def printing(self, order):
        if not order.jobs_total:
            return "—"
        url = reverse("admin:printing_printjob_changelist") + f"?order__id__exact={order.pk}"
        if order.jobs_failed:
            label = badge("bad", ngettext("%(n)d failed", "%(n)d failed", order.jobs_failed) % {"n": order.jobs_failed})
        elif order.jobs_printed == order.jobs_total:
            label = badge("ok", _("printed"))
        else:
            progress = {"done": order.jobs_printed, "total": order.jobs_total}
            label = badge("info", _("%(done)d of %(total)d printed") % progress)
        return format_html('<a href="{}">{}</a>', url, label)

    def has_reprint_permission(self, request, obj=None):
        return roles.may_reprint_something(request.user)

    @admin.action(description=gettext_lazy("Reprint receipts"), permissions=["reprint"])
    def reprint_receipts(self, request, queryset):
        for order in queryset:
            printed = order.print_jobs.filter(kind=PrintJob.Kind.ORDER_RECEIPT).order_by("-created_at").first()
            if not roles.may_reprint(request.user, printed.created_at if printed else order.created_at):
                message = _("Only a manager may reprint or retry jobs of an earlier day.")
                self.message_user(request, f"#{order.number}: {message}", messages.WARNING)
                continue
            try:
                jobs = services.order_reprint(order_id=order.pk, requested_by=request.user, force=True)
            except PrintError as error:
                message = _("Order #%(number)s: %(message)s") % {"number": order.number, "message": error}
                self.message_user(request, message, messages.WARNING)
            else:
                self.message_user(
                    request,
                    ngettext(
                        "Order #%(number)s: reprint queued (job %(ids)s).",
                        "Order #%(number)s: reprints queued (jobs %(ids)s).",
                        len(jobs),
                    )
                    % {"number": order.number, "ids": ", ".join(f"#{job.pk}" for job in jobs)},
                    messages.SUCCESS,
                )


admin.site.unregister(Order)
admin.site.register(Order, PrintingOrderAdmin)
