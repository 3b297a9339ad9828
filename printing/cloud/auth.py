"""How cloud printers prove who they are: the printer's secret over HTTP Basic or Digest.

- Star CloudPRNT: HTTP Basic, any user name, the secret as password; the MAC address the printer
  reports must be the printer's.
- Epson Server Direct Print: HTTP Digest (what Epson printers do), user name = the printer's
  device ID, password = the secret; only HA1 is stored, never the secret. HTTP Basic (user name
  anything, the secret as password) works too, e.g. for curl.

Nonces are stateless: a timestamp signed with the server's SECRET_KEY, valid for five minutes.
"""

import base64
import binascii
import hashlib
import hmac
import re
import time

from django.conf import settings

from printing.cloud.services import DIGEST_REALM

NONCE_LIFETIME_SECONDS = 300
_PARAM = re.compile(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


def basic_password(request):
    """The password of an HTTP Basic Authorization header, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value or len(value) > 512:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    _user, colon, password = decoded.partition(":")
    return password if colon else None


def digest_params(request):
    """The parameters of an HTTP Digest Authorization header, or None."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "digest" or not value or len(value) > 2048:
        return None
    params = {}
    for key, raw in _PARAM.findall(value):
        params[key.lower()] = raw[1:-1].replace('\\"', '"') if raw.startswith('"') else raw
    return params


def _nonce_signature(stamp):
    return hmac.new(settings.SECRET_KEY.encode(), f"cloud-digest:{stamp}".encode(), hashlib.sha256).hexdigest()[:32]


def new_nonce(now=None):
    stamp = str(int(now if now is not None else time.time()))
    return f"{stamp}.{_nonce_signature(stamp)}"


def nonce_state(nonce, now=None):
    """ "ok", "stale" (well signed but old: the client retries at once) or "bad"."""
    stamp, _, signature = (nonce or "").partition(".")
    if not stamp.isdigit() or not hmac.compare_digest(signature, _nonce_signature(stamp)):
        return "bad"
    age = (now if now is not None else time.time()) - int(stamp)
    return "ok" if -60 <= age <= NONCE_LIFETIME_SECONDS else "stale"


def digest_challenge(stale=False):
    value = f'Digest realm="{DIGEST_REALM}", qop="auth", algorithm=MD5, nonce="{new_nonce()}"'
    return value + (", stale=true" if stale else "")


def digest_verify(params, *, ha1, method, path):
    """Whether ``params`` (from digest_params) prove knowledge of the secret behind ``ha1``.
    Returns "ok", "stale" or "bad"."""
    if not ha1 or params.get("realm") != DIGEST_REALM or params.get("algorithm", "MD5").upper() != "MD5":
        return "bad"
    uri = params.get("uri", "")
    if uri.split("?", 1)[0] != path:
        return "bad"
    state = nonce_state(params.get("nonce", ""))
    if state == "bad":
        return "bad"
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    qop = params.get("qop", "")
    if qop == "auth":
        material = f"{ha1}:{params.get('nonce')}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}"
    elif not qop:
        material = f"{ha1}:{params.get('nonce')}:{ha2}"
    else:
        return "bad"
    expected = hashlib.md5(material.encode()).hexdigest()
    if not hmac.compare_digest(expected, params.get("response", "")):
        return "bad"
    return state
