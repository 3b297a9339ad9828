from django.contrib import admin, messages
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy, ngettext

from webhooks import services
from webhooks.models import WebhookDelivery, WebhookSubscription


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    readonly_fields = (
        "event",
        "attempts",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "failed_at",
    )
    fields = readonly_fields
    extra = 0
    max_num = 0
    show_change_link = True
    ordering = ["-id"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event")

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "event_list", "active", "description", "created_at"]
    list_filter = ["active"]
    search_fields = ["url", "description"]
    readonly_fields = ["secret", "created_at"]
    fields = ["url", "events", "active", "description", "secret", "created_at"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description=capfirst(gettext_lazy("events")))
    def event_list(self, subscription):
        return ", ".join(subscription.events) or gettext_lazy("all events")


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "subscription",
        "state",
        "attempts",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "next_attempt_at",
    ]
    list_filter = [
        "subscription",
        "event__type",
        ("delivered_at", admin.EmptyFieldListFilter),
        ("failed_at", admin.EmptyFieldListFilter),
    ]
    list_select_related = ["event", "subscription"]
    search_fields = ["event__id", "event__type", "subscription__url"]
    readonly_fields = [
        "event",
        "event_type",
        "event_data",
        "subscription",
        "attempts",
        "next_attempt_at",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "failed_at",
    ]
    actions = ["retry_now"]

    @admin.display(description=capfirst(gettext_lazy("event")), ordering="event__type")
    def event_type(self, delivery):
        return delivery.event.type

    @admin.display(description=capfirst(gettext_lazy("data")))
    def event_data(self, delivery):
        return delivery.event.payload()

    def has_add_permission(self, request):
        return False

    @admin.action(description=gettext_lazy("Retry now"), permissions=["change"])
    def retry_now(self, request, queryset):
        count = sum(services.delivery_retry(delivery_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            ngettext("%(count)d delivery will be retried.", "%(count)d deliveries will be retried.", count)
            % {"count": count},
            messages.SUCCESS,
        )
