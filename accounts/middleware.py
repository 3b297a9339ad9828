"""Pages for a signed-in user are never stored: the counter tablet is shared, and a browser's
or a proxy's cache would show one customer's order to whoever comes next."""

from django.utils.cache import add_never_cache_headers
from django.utils.deprecation import MiddlewareMixin


class NoStoreForSignedInMiddleware(MiddlewareMixin):
    # MiddlewareMixin keeps the chain async-capable: see tests/test_middleware_async.py.
    def process_response(self, request, response):
        if response.has_header("Cache-Control"):  # first: a 503 must not look the user up again
            return response
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
