"""``Idempotency-Key`` on POSTs, Stripe's model (IETF draft-ietf-httpapi-idempotency-key-header).

The first request with a key runs in one transaction that also inserts the key's record and
stores the response in it. The unique constraint on (API key, idempotency key) is the lock: a
concurrent request with the same key blocks on that insert until the first commits, fails, and
replays the stored response, so concurrent replays create one object. A request that fails
rolls back everything, its record included, and can be retried with the same key.
"""

import hashlib
import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from api.errors import ApiError
from api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Replays return the original response for at least this long; older records may be purged.
RETENTION = timedelta(hours=24)


def fingerprint(request):
    """What the request asks for: method, path and body, whitespace and key order aside."""
    try:
        body = json.loads(request.body) if request.body else None
    except ValueError:
        body = request.body.decode("latin-1")
    canonical = json.dumps([request.method, request.path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _replay(record, print_fingerprint):
    if record.fingerprint != print_fingerprint:
        raise ApiError(
            422,
            "idempotency_key_reused",
            _("This Idempotency-Key was already used for a different request: use a new key for a new request."),
            field=HEADER,
        )
    if record.status_code == 0:  # never stored: cannot happen after a commit, said for clarity
        raise ApiError(409, "idempotency_in_progress", _("The original request is still running."), field=HEADER)
    response = JsonResponse(record.response, status=record.status_code, json_dumps_params={"ensure_ascii": False})
    response["Idempotent-Replayed"] = "true"
    return response


def _find(client, key):
    return IdempotencyRecord.objects.filter(api_key_id=client.key_id, key=key).first()


def run(request, handler):
    """Answer a POST through ``handler() -> (status, body, refresh)``, once per Idempotency-Key.

    ``handler`` runs inside a transaction; an ApiError it raises rolls back everything it did.
    ``refresh``, if not None, builds the body again after the commit (what the commit set off,
    e.g. an order's receipts, is then in it) and that body is the one stored for replays.
    """
    client = request.auth
    key = request.headers.get(HEADER)
    if key is None:
        with transaction.atomic():
            status, body, refresh = handler()
        if refresh is not None:
            body = refresh()
        return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            400,
            "bad_idempotency_key",
            _("The Idempotency-Key must have 1 to %(max)s characters.") % {"max": MAX_KEY_LENGTH},
            field=HEADER,
        )
    if not key.isprintable():
        # Control characters (a NUL fails in PostgreSQL) are no part of any key a client makes.
        raise ApiError(
            400,
            "bad_idempotency_key",
            _("The Idempotency-Key must not contain control characters: send a UUID, for example."),
            field=HEADER,
        )
    print_ = fingerprint(request)
    existing = _find(client, key)
    if existing is not None:
        return _replay(existing, print_)
    try:
        with transaction.atomic():
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    api_key_id=client.key_id,
                    key=key,
                    fingerprint=print_,
                    method=request.method,
                    path=request.path[:300],
                )
            status, body, refresh = handler()
            record.status_code, record.response = status, body
            record.save(update_fields=["status_code", "response"])
    except IntegrityError:
        existing = _find(client, key)
        if existing is None:
            raise
        return _replay(existing, print_)
    if refresh is not None:
        body = refresh()
        IdempotencyRecord.objects.filter(pk=record.pk).update(response=body)
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


def records_purge(*, now=None):
    now = now or timezone.now()
    return IdempotencyRecord.objects.filter(created_at__lt=now - RETENTION).delete()[0]
