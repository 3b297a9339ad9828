from django.contrib import admin

from printing.models import Printer, PrintJob, PrintJobEvent


@admin.register(Printer)
class PrinterAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "paper_width", "is_active", "connected", "status", "last_seen_at"]
    list_filter = ["is_active", "connected", "status", "paper_width"]
    search_fields = ["name", "location"]
    readonly_fields = ["connected", "status", "status_message", "last_seen_at", "model_name", "agent_version", "token_prefix", "token_issued_at"]


class PrintJobEventInline(admin.TabularInline):
    model = PrintJobEvent
    extra = 0
    can_delete = False
    readonly_fields = ["status", "message", "at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PrintJob)
class PrintJobAdmin(admin.ModelAdmin):
    list_display = ["id", "printer", "order", "kind", "status", "attempts", "created_at", "finished_at"]
    list_filter = ["status", "printer", "kind", "created_at"]
    search_fields = ["order__number", "order__customer_name"]
    list_select_related = ["printer", "order"]
    inlines = [PrintJobEventInline]
    readonly_fields = [
        "printer", "order", "kind", "status", "document", "content", "copies", "attempts", "error_code",
        "error_message", "created_at", "sent_at", "started_at", "finished_at", "requested_by",
    ]
    exclude = ["escpos"]

    def has_add_permission(self, request):
        return False
