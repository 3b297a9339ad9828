"""Cloud printer endpoints served without the site's middleware stack.

Printers poll every few seconds each, so a poll must be cheap. Under ASGI every sync middleware
of the site (sessions, locale, CSRF, auth, messages…) costs a trip to a worker thread and back,
and none of them applies to a printer: it has no session, no cookies, no language, and it
authenticates with its secret on every request. So ``/cloudprnt/`` and ``/epson/sdp/`` go to a
Django ``ASGIHandler`` with no middleware (the same URLconf, views, exception handling, and
``ALLOWED_HOSTS``/HTTPS checks done by the views themselves).
"""

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response

CLOUD_PATHS = ("/cloudprnt", "/epson/sdp")


class CloudPrinterHandler(ASGIHandler):
    async def __call__(self, scope, receive, send):
        # Django gives every request its own ThreadSensitiveContext, i.e. a new worker thread
        # started and joined per request (a fifth of the server's time at 100 polls/s). Printer
        # requests share asgiref's one sync thread instead: they are short, and their database
        # work would queue on the GIL anyway.
        await self.handle(scope, receive, send)

    def load_middleware(self, is_async=False):
        # BaseHandler.load_middleware with an empty MIDDLEWARE list.
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        get_response = self._get_response_async if is_async else self._get_response
        self._middleware_chain = convert_exception_to_response(get_response)


def with_cloud_printers(site_application):
    """An ASGI app that sends the cloud printer paths to CloudPrinterHandler, the rest to the site."""
    cloud_application = CloudPrinterHandler()

    async def application(scope, receive, send):
        if scope["type"] == "http" and scope.get("path", "").rstrip("/") in CLOUD_PATHS:
            return await cloud_application(scope, receive, send)
        return await site_application(scope, receive, send)

    return application
