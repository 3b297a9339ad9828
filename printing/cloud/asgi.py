"""Cloud printer endpoints served without the site's middleware stack, on a few long-lived threads.

Printers poll every few seconds each, so a poll must be cheap. Under ASGI every sync middleware
of the site (sessions, locale, CSRF, auth, messages…) costs a trip to a worker thread and back,
and none of them applies to a printer: it has no session, no cookies, no language, and it
authenticates with its secret on every request. So ``/cloudprnt/`` and ``/epson/sdp/`` go to a
Django ``ASGIHandler`` with no middleware (the same URLconf, views and exception handling; the
views check ``ALLOWED_HOSTS`` and HTTPS themselves).

Django also gives every request its own ``ThreadSensitiveContext``: a worker thread started and
joined per request, a fifth of the server's time at 100 polls/s. Printer requests instead run on
``CANTINA_CLOUD_THREADS`` long-lived threads (each keeps its database connection, within
``DATABASE_CONN_MAX_AGE``), one request at a time per thread, so a few polls can wait on the
database at once without a thread per request.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.exception import convert_exception_to_response

CLOUD_PATHS = ("/cloudprnt", "/epson/sdp")


class CloudPrinterHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        self._idle = {}  # event loop -> asyncio.Queue of idle single-thread executors

    def load_middleware(self, is_async=False):
        # BaseHandler.load_middleware with an empty MIDDLEWARE list.
        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        get_response = self._get_response_async if is_async else self._get_response
        self._middleware_chain = convert_exception_to_response(get_response)

    def _executors(self):
        loop = asyncio.get_running_loop()
        idle = self._idle.get(loop)
        if idle is None:
            idle = self._idle[loop] = asyncio.Queue()
            for _ in range(settings.CANTINA_CLOUD_THREADS):
                idle.put_nowait(ThreadPoolExecutor(max_workers=1, thread_name_prefix="cloud-printers"))
        return idle

    async def __call__(self, scope, receive, send):
        idle = self._executors()
        executor = await idle.get()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            idle.put_nowait(executor)


def with_cloud_printers(site_application):
    """An ASGI app that sends the cloud printer paths to CloudPrinterHandler, the rest to the site."""
    cloud_application = CloudPrinterHandler()

    async def application(scope, receive, send):
        if scope["type"] == "http" and scope.get("path", "").rstrip("/") in CLOUD_PATHS:
            return await cloud_application(scope, receive, send)
        return await site_application(scope, receive, send)

    return application
