"""CORS for the print API, per API key.

django-cors-headers decides by origin alone, before any view runs; here the answer depends on the
key, which only the API layer knows. So:

- A preflight (``OPTIONS`` with ``Access-Control-Request-Method``) carries no credentials: it is
  allowed for an origin that some active key lists, and says which headers and methods may follow.
- The request itself is authenticated first; ``api.auth`` refuses (403) a key used from an origin
  it does not list, so nothing runs, and only a key that lists the origin gets
  ``Access-Control-Allow-Origin`` back. Another origin can neither call nor read.

Keys are the only credentials: no cookies are read or set on the API, so
``Access-Control-Allow-Credentials`` is never sent.
"""

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.deprecation import MiddlewareMixin

API_PREFIX = "/api/"
ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Accept-Language"
EXPOSED_HEADERS = "Retry-After, Idempotent-Replayed, Location"
PREFLIGHT_MAX_AGE = "600"


def origin_listed_by_some_key(origin):
    from api.models import ApiKey

    return any(origin in origins for origins in ApiKey.objects.active().values_list("allowed_origins", flat=True))


class ApiCorsMiddleware(MiddlewareMixin):
    # MiddlewareMixin keeps the chain async-capable: see tests/test_middleware_async.py.
    def process_request(self, request):
        if not request.path.startswith(API_PREFIX):
            return None
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and origin and "Access-Control-Request-Method" in request.headers:
            response = HttpResponse(status=204)
            patch_vary_headers(response, ["Origin"])
            if origin_listed_by_some_key(origin):
                response["Access-Control-Allow-Origin"] = origin
                response["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                response["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
            return response
        return None

    def process_response(self, request, response):
        origin = request.headers.get("Origin")
        if request.path.startswith(API_PREFIX) and origin:
            patch_vary_headers(response, ["Origin"])
            if origin in getattr(request, "api_key_origins", ()):
                response["Access-Control-Allow-Origin"] = origin
                response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return response
