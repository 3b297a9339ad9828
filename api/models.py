"""API keys, the idempotency record of every POST, and which orders came through which key."""

import hmac
import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orders.models import Order
from printing.models import TOKEN_PREFIX_LENGTH, Printer, hash_token

KEY_MARK = "ck_"


class Scope(models.TextChoices):
    PRINT = "print", _("Print jobs (create, cancel)")
    ORDERS = "orders", _("Orders (create, read)")
    READ = "read", _("Read jobs and printers")


def all_scopes():
    return list(Scope.values)


def default_origins():
    return []


class ApiKeyQuerySet(models.QuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    name = models.CharField(_("name"), max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("key prefix"), max_length=TOKEN_PREFIX_LENGTH, db_index=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=all_scopes)
    printers = models.ManyToManyField(
        Printer,
        blank=True,
        related_name="+",
        verbose_name=_("printers"),
        help_text=_("The key sees and prints only on these printers; none selected means all."),
    )
    allowed_origins = models.JSONField(
        _("allowed web origins"),
        default=default_origins,
        blank=True,
        help_text=_("Web pages at these origins (e.g. https://shop.example.com) may call the API with this key."),
    )
    rate_per_minute = models.PositiveIntegerField(
        _("requests per minute"), null=True, blank=True, help_text=_("Empty means the server's default.")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Token bucket of the rate limit, kept on the row so every server process shares it.
    rate_tokens = models.FloatField(null=True, blank=True, editable=False)
    rate_updated_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self):
        return f"{self.name} ({self.key_prefix}…)"

    def issue(self):
        """Set a new key and return it; only its hash is kept. Caller saves."""
        # Same shape and storage as agent tokens: 256 random bits, a mark secret scanners know.
        key = KEY_MARK + secrets.token_urlsafe(32)
        self.key_hash = hash_token(key)
        self.key_prefix = key[:TOKEN_PREFIX_LENGTH]
        return key

    def matches(self, key):
        return hmac.compare_digest(self.key_hash, hash_token(key))

    @property
    def is_revoked(self):
        return self.revoked_at is not None


class IdempotencyRecord(models.Model):
    """The first response to a POST with an ``Idempotency-Key``: replays get it back.

    Created in the transaction that creates the object, and unique per (key, idempotency key):
    of concurrent replays exactly one inserts it, the others wait for its commit and replay.
    """

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    status_code = models.PositiveSmallIntegerField(default=0)
    response = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="one_idempotency_key_per_api_key")]


class ApiOrder(models.Model):
    """An order created through the API, by which key and under which ``external_id``."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="api_origin")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="orders")
    external_id = models.CharField(max_length=100, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "external_id"],
                condition=Q(external_id__isnull=False),
                name="one_external_id_per_api_key",
            ),
        ]
