"""Which pages may open /ws/staff/: this site's own, compared exactly (scheme, host and port).

Channels' AllowedHostsOriginValidator compares the host name only, so a page served on another
port or scheme of the same host (another app on the machine, plain http next to https) could read
the live feed with the staff member's session cookie. Here the Origin must equal the origin the
browser used to reach this server — the Host header (X-Forwarded-Host with USE_X_FORWARDED_HOST)
and the scheme (wss, or SECURE_PROXY_SSL_HEADER behind a TLS proxy) — or one of
CSRF_TRUSTED_ORIGINS (``https://*.example.com`` covers subdomains, as for CSRF). No Origin, a
``null`` one or anything that is not ``scheme://host[:port]`` is refused.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def parse_origin(value):
    """``scheme://host[:port]`` as (scheme, host, port), or None if it is not exactly that."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if parts.path not in {"", "/"} or parts.query or parts.fragment or parts.username or parts.password:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def scope_header(scope, name):
    for header_name, value in scope.get("headers", []):
        if header_name.lower() == name:
            return value.decode("latin-1")
    return None


def scope_scheme(scope):
    """http or https, as Django's request.is_secure() would say for this connection."""
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        header = meta_name.removeprefix("HTTP_").replace("_", "-").lower().encode()
        forwarded = scope_header(scope, header)
        if forwarded is not None:
            return "https" if forwarded.split(",", 1)[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") in {"wss", "https"} else "http"


def own_origin(scope):
    """The origin the browser used to reach this server, if its host is an allowed one."""
    host = None
    if settings.USE_X_FORWARDED_HOST:
        host = scope_header(scope, b"x-forwarded-host")
        host = host.split(",", 1)[0].strip() if host else None
    host = host or scope_header(scope, b"host")
    if not host:
        return None
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return parse_origin(f"{scope_scheme(scope)}://{host}")


def trusted_origin_matches(origin, pattern):
    trusted = parse_origin(pattern.replace("://*.", "://wildcard.", 1))
    if trusted is None:
        return False
    scheme, host, port = trusted
    if "://*." in pattern:
        suffix = host.removeprefix("wildcard")  # ".example.com"
        return origin[0] == scheme and origin[2] == port and origin[1].endswith(suffix)
    return origin == trusted


def origin_allowed(scope):
    raw = scope_header(scope, b"origin")
    origin = parse_origin(raw) if raw else None
    if origin is None:
        return False
    if origin == own_origin(scope):
        return True
    return any(trusted_origin_matches(origin, pattern) for pattern in settings.CSRF_TRUSTED_ORIGINS)


class SameOriginValidator:
    """ASGI wrapper: the inner application only sees WebSockets opened by this site's pages."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
