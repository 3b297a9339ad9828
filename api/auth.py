"""Bearer API keys: who is calling, what they may do, from which web origins, how often.

One short transaction per request locks the key's row, checks it and spends a token of its
bucket: the bucket lives in the database, so the rate limit holds across every server process.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from api.errors import ApiError
from api.models import ApiKey
from printing.models import TOKEN_PREFIX_LENGTH


@dataclass(frozen=True)
class Client:
    """The authenticated caller, as views see it (plain values, no lazy queries)."""

    key_id: int
    name: str
    scopes: frozenset
    printer_ids: frozenset | None  # None: every printer
    origins: tuple

    def may_use_printer(self, printer_id):
        return self.printer_ids is None or printer_id in self.printer_ids


def _unauthorized(code, message):
    return ApiError(401, code, message, field="Authorization", headers={"WWW-Authenticate": 'Bearer realm="cantina"'})


def same_origin(request, origin):
    return origin == f"{request.scheme}://{request.get_host()}"


def spend_token(key, now):
    """Take one request from the key's bucket (updating it on ``key``); return seconds to wait, or 0."""
    per_minute = key.rate_per_minute or settings.CANTINA_API_RATE_PER_MINUTE
    rate = per_minute / 60.0
    capacity = max(settings.CANTINA_API_BURST, 1)
    tokens = capacity if key.rate_tokens is None else key.rate_tokens
    if key.rate_updated_at is not None:
        tokens = min(capacity, tokens + max((now - key.rate_updated_at).total_seconds(), 0) * rate)
    if tokens < 1:
        return math.ceil((1 - tokens) / rate)
    key.rate_tokens = tokens - 1
    key.rate_updated_at = now
    return 0


class ApiKeyAuth(HttpBearer):
    """``Authorization: Bearer ck_…`` with one of ``scopes``."""

    def __init__(self, *scopes):
        super().__init__()
        self.scopes = frozenset(scopes)

    def __call__(self, request):
        header = request.headers.get("Authorization", "")
        if not header:
            raise _unauthorized("missing_key", _("Send your API key as “Authorization: Bearer ck_…”."))
        scheme, _space, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise _unauthorized("bad_authorization", _("The Authorization header must be “Bearer” and the API key."))
        return self.authenticate(request, key.strip())

    def authenticate(self, request, token):
        # Keys are printable ASCII (ck_ and URL-safe base64): anything else matches none, and a NUL
        # would fail in PostgreSQL's lookup instead.
        if len(token) < TOKEN_PREFIX_LENGTH or len(token) > 200 or not (token.isascii() and token.isprintable()):
            raise _unauthorized("invalid_key", _("This API key is not valid."))
        now = timezone.now()
        with transaction.atomic():
            key = next(
                (
                    key
                    for key in ApiKey.objects.select_for_update().filter(key_prefix=token[:TOKEN_PREFIX_LENGTH])
                    if key.matches(token)
                ),
                None,
            )
            if key is None:
                raise _unauthorized("invalid_key", _("This API key is not valid."))
            if key.is_revoked:
                raise _unauthorized("revoked_key", _("This API key was revoked."))
            if not self.scopes & set(key.scopes):
                raise ApiError(
                    403,
                    "insufficient_scope",
                    _("This API key may not do this: it needs one of these scopes: %(scopes)s.")
                    % {"scopes": ", ".join(sorted(self.scopes))},
                    field="Authorization",
                )
            origin = request.headers.get("Origin")
            if origin and not same_origin(request, origin) and origin not in key.allowed_origins:
                raise ApiError(
                    403,
                    "origin_not_allowed",
                    _("Web pages at %(origin)s may not use this API key.") % {"origin": origin},
                    field="Origin",
                )
            # The CORS middleware answers this origin from here on, a 429 included.
            request.api_key_origins = tuple(key.allowed_origins)
            wait = spend_token(key, now)
            if wait:
                raise ApiError(
                    429,
                    "rate_limited",
                    _("Too many requests with this API key: try again in %(seconds)s s.") % {"seconds": wait},
                    headers={"Retry-After": str(wait)},
                )
            ApiKey.objects.filter(pk=key.pk).update(
                rate_tokens=key.rate_tokens, rate_updated_at=key.rate_updated_at, last_used_at=now
            )
        printer_ids = frozenset(key.printers.values_list("pk", flat=True))
        return Client(
            key_id=key.pk,
            name=key.name,
            scopes=frozenset(key.scopes),
            printer_ids=printer_ids or None,
            origins=tuple(key.allowed_origins),
        )
