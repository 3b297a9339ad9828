"""Webhooks: record events in the caller's transaction, deliver them later, signed, with retries.

``event_record`` is called by the code that changes state, inside its transaction: the event and
one delivery row per interested subscription commit with the change or not at all (transactional
outbox). ``webhooks_deliver_due`` runs periodically, outside any request or print path: it POSTs
each due delivery once, and on failure schedules the next attempt with exponential backoff until
the event is ``DELIVERY_WINDOW`` old. Delivery is at-least-once: receivers dedupe on the event id.

This app knows nothing of printing: event types and data are the caller's.
"""

import hashlib
import hmac
import json
import logging
import random
import re
import time
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone

from webhooks.models import (
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
    new_secret,
)

log = logging.getLogger("cantina.webhooks")

DELIVERY_WINDOW = timedelta(hours=24)
FIRST_RETRY = timedelta(seconds=10)
LONGEST_RETRY = timedelta(hours=1)
# A delivery being attempted is not due for this long, so two processes never both send it.
CLAIM_LEASE = timedelta(minutes=2)
SIGNATURE_HEADER = "X-Cantina-Signature"
EVENT_PATTERN = re.compile(r"^(\*|[a-z_]+(\.([a-z_]+|\*))*)$")


class WebhookError(Exception):
    """A request that cannot be carried out; ``str()`` is a message for a person."""


def _subscriptions_wanting(event_type):
    # Asked at every job transition (issue 16): one fixed statement, not a queryset compiled each
    # time (the ORM's compilation cost several times the query itself). Never cached: a subscription
    # added in another process gets the very next event.
    table = connection.ops.quote_name(WebhookSubscription._meta.db_table)
    events_field = WebhookSubscription._meta.get_field("events")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, events FROM {table} WHERE active ORDER BY id")  # noqa: S608 (no input)
        rows = cursor.fetchall()
    return [
        pk
        for pk, events in rows
        if WebhookSubscription(events=events_field.from_db_value(events, None, connection)).wants(event_type)
    ]


def subscribed(event_type):
    """Whether some active subscription wants this event type (one small query)."""
    return bool(_subscriptions_wanting(event_type))


def event_record(*, type, data):
    """Record an event for every active subscription that wants ``type``; return it (or None).

    Call it inside the transaction of the change it describes. ``data`` is a JSON-able dict, or a
    callable returning one: it is only called when some subscription wants the event, so the
    common case (no subscriber) costs one small query.
    """
    subscriptions = _subscriptions_wanting(type)
    if not subscriptions:
        return None
    payload = data() if callable(data) else data
    with transaction.atomic():
        event = WebhookEvent.objects.create(type=type, data=payload)
        WebhookDelivery.objects.bulk_create(
            WebhookDelivery(event=event, subscription_id=pk, next_attempt_at=event.created_at) for pk in subscriptions
        )
    return event


def signature(secret, body):
    """The ``X-Cantina-Signature`` value: ``sha256=`` + hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def event_body(event):
    return json.dumps(event.payload(), cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")).encode()


def retry_delay(attempts):
    """Exponential backoff after the ``attempts``-th failure: 10 s, 20 s, 40 s… at most 1 h, jittered."""
    delay = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    return delay * random.uniform(1.0, 1.1)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer (3xx), not a place to send the event again


_opener = urllib.request.build_opener(_NoRedirect)


def _post(url, body, headers, timeout):
    """POST; return (status code or None, error text)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=timeout) as response:
            response.read(1024)
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return None, str(reason)[:300] or type(error).__name__


def webhooks_deliver_due(*, now=None, limit=100, budget_seconds=None):
    """Attempt the deliveries that are due; return how many succeeded.

    A subscription that fails once is skipped for the rest of this run (its other deliveries wait
    for their own next attempt), so a receiver that is down costs one timeout per run, not one per
    event. ``budget_seconds`` stops starting new attempts after that long.
    """
    now = now or timezone.now()
    timeout = settings.CANTINA_WEBHOOK_TIMEOUT
    budget = budget_seconds if budget_seconds is not None else settings.CANTINA_WEBHOOK_TIMEOUT * 4
    started = time.monotonic()
    due = list(
        WebhookDelivery.objects.filter(
            delivered_at__isnull=True, failed_at__isnull=True, next_attempt_at__lte=now, subscription__active=True
        )
        .select_related("event", "subscription")
        .order_by("next_attempt_at", "id")[:limit]
    )
    failing = set()
    delivered = 0
    for delivery in due:
        if delivery.subscription_id in failing:
            continue
        if time.monotonic() - started > budget:
            break
        # Claimed by pushing its next attempt forward: another process running this now skips it.
        if not WebhookDelivery.objects.filter(
            pk=delivery.pk, next_attempt_at=delivery.next_attempt_at, delivered_at__isnull=True
        ).update(next_attempt_at=now + CLAIM_LEASE):
            continue
        event = delivery.event
        body = event_body(event)
        status, error = _post(
            delivery.subscription.url,
            body,
            {
                "Content-Type": "application/json",
                "User-Agent": "cantina-webhooks/1",
                SIGNATURE_HEADER: signature(delivery.subscription.secret, body),
                "X-Cantina-Event": event.type,
                "X-Cantina-Event-Id": str(event.id),
                "X-Cantina-Delivery-Attempt": str(delivery.attempts + 1),
            },
            timeout,
        )
        attempted_at = timezone.now()
        updates = {"attempts": delivery.attempts + 1, "last_attempt_at": attempted_at, "last_status_code": status}
        if status is not None and 200 <= status < 300:
            updates.update(delivered_at=attempted_at, last_error="")
            delivered += 1
        else:
            failing.add(delivery.subscription_id)
            updates["last_error"] = (error or f"HTTP {status}")[:300]
            retry_at = now + retry_delay(delivery.attempts + 1)
            if retry_at - event.created_at > DELIVERY_WINDOW:
                updates["failed_at"] = attempted_at
            else:
                updates["next_attempt_at"] = retry_at
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**updates)
        log.info(
            "webhook=%s event=%s type=%s attempt=%s status=%s%s",
            delivery.subscription_id,
            event.id,
            event.type,
            updates["attempts"],
            status,
            " delivered" if "delivered_at" in updates else f" error={updates['last_error']!r}",
        )
    return delivered


def delivery_retry(*, delivery_id):
    """Try a delivery again at the next run (a person fixed the receiver)."""
    return WebhookDelivery.objects.filter(pk=delivery_id, delivered_at__isnull=True).update(
        next_attempt_at=timezone.now(), failed_at=None
    )


def subscription_create(*, url, events=(), description=""):
    """Add a subscription; its signing secret is on the returned object."""
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator

    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise WebhookError(f"{url!r} is not an http:// or https:// URL.") from None
    events = sorted({event.strip() for event in events if event.strip()})
    bad = [event for event in events if not EVENT_PATTERN.match(event)]
    if bad:
        raise WebhookError(f"Bad event type {', '.join(bad)}: use names like job.completed or job.*.")
    return WebhookSubscription.objects.create(url=url, events=events, description=description, secret=new_secret())


def events_purge(*, now=None):
    """Forget events whose deliveries are all finished and that are older than the delivery window."""
    now = now or timezone.now()
    unfinished = WebhookDelivery.objects.filter(delivered_at__isnull=True, failed_at__isnull=True)
    old = WebhookEvent.objects.filter(created_at__lt=now - 2 * DELIVERY_WINDOW).exclude(
        pk__in=unfinished.values("event_id")
    )
    return old.delete()[0]
