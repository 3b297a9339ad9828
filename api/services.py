"""API key workflows: issue (the key is returned once, only its hash is kept) and revoke."""

import logging
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from api.models import ApiKey, Scope
from printing.models import Printer

log = logging.getLogger("cantina.api")


class ApiKeyError(Exception):
    """A request that cannot be carried out; ``str()`` is a message for a person."""


def origins_clean(origins):
    """``scheme://host[:port]`` origins, as browsers send them; anything else is an error."""
    cleaned = []
    for origin in origins:
        origin = origin.strip().rstrip("/")
        if not origin:
            continue
        parts = urlsplit(origin)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.path or parts.query:
            raise ApiKeyError(
                _("“%(origin)s” is not a web origin: write it like https://shop.example.com.") % {"origin": origin}
            )
        cleaned.append(origin)
    return sorted(set(cleaned))


def apikey_create(*, name, scopes=None, printer_names=(), origins=(), rate_per_minute=None):
    """Create a key; return (api_key, key). The key itself is never stored."""
    name = name.strip()
    if not name:
        raise ApiKeyError(_("The key needs a name."))
    scopes = sorted(set(scopes)) if scopes else list(Scope.values)
    unknown = set(scopes) - set(Scope.values)
    if unknown:
        raise ApiKeyError(
            _("Unknown scope %(scopes)s: use print, orders, read.") % {"scopes": ", ".join(sorted(unknown))}
        )
    names = [printer.strip() for printer in printer_names if printer.strip()]
    printers = list(Printer.objects.filter(name__in=names))
    missing = set(names) - {printer.name for printer in printers}
    if missing:
        raise ApiKeyError(_("There is no printer %(names)s.") % {"names": ", ".join(sorted(missing))})
    with transaction.atomic():
        api_key = ApiKey(
            name=name, scopes=scopes, allowed_origins=origins_clean(origins), rate_per_minute=rate_per_minute
        )
        key = api_key.issue()
        api_key.save()
        api_key.printers.set(printers)
    log.info("api_key=%s event=created scopes=%s", api_key.pk, ",".join(scopes))
    return api_key, key


def apikey_issue(*, api_key):
    """Give an existing key (from the admin form) its secret; return it."""
    key = api_key.issue()
    api_key.save(update_fields=["key_hash", "key_prefix"])
    return key


def apikey_revoke(*, api_key):
    if api_key.revoked_at is None:
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        log.info("api_key=%s event=revoked", api_key.pk)
