"""Webhook subscriptions, the outbox of events, and one delivery row per (event, subscription).

Events are written in the transaction of the change they describe (a transactional outbox), so an
event exists exactly when its change committed; deliveries are made later, outside any request,
and retried until they succeed or the event is too old.
"""

import fnmatch
import secrets
import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SECRET_MARK = "whsec_"


def new_secret():
    return SECRET_MARK + secrets.token_urlsafe(32)


def default_events():
    return []


class WebhookSubscription(models.Model):
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(
        _("events"),
        default=default_events,
        blank=True,
        help_text=_("Event types to send, e.g. job.completed or job.*; empty means every event."),
    )
    # Kept in clear: it signs every delivery (HMAC), so it cannot be stored hashed.
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret)
    active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")

    def __str__(self):
        return self.url

    def wants(self, event_type):
        return not self.events or any(fnmatch.fnmatchcase(event_type, pattern) for pattern in self.events)


class WebhookEvent(models.Model):
    """One row of the outbox: what happened, with the data receivers get."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=60, db_index=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    data = models.JSONField(_("data"), encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self):
        return f"{self.type} {self.id}"

    def payload(self):
        return {"id": str(self.id), "type": self.type, "created_at": self.created_at.isoformat(), "data": self.data}


class WebhookDelivery(models.Model):
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    subscription = models.ForeignKey(WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries")
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(
        _("gave up at"), null=True, blank=True, help_text=_("Retried for 24 hours, then given up.")
    )

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="one_delivery_per_event_and_subscription"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(delivered_at__isnull=True, failed_at__isnull=True),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self):
        return f"{self.event.type} → {self.subscription.url}"

    @property
    def state(self):
        if self.delivered_at:
            return "delivered"
        if self.failed_at:
            return "failed"
        return "pending"
