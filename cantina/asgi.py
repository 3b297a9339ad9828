"""ASGI entry point: HTTP goes to Django, WebSockets to the printing consumers.

Every server process loading this also starts its periodic maintenance thread
(printing.maintenance; CANTINA_MAINTENANCE_IN_PROCESS=false turns it off).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cantina.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402  (needs Django set up)
from django.conf import settings  # noqa: E402

from cantina.checks import ensure_compiled_translations  # noqa: E402
from printing.cloud.asgi import with_cloud_printers  # noqa: E402
from printing.maintenance import start_in_process  # noqa: E402
from printing.routing import websocket_urlpatterns  # noqa: E402

ensure_compiled_translations()

if settings.DEBUG:
    # Plain daphne serves no static files; in development it should, as runserver does.
    # In production the proxy serves collectstatic's output (see README).
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

application = ProtocolTypeRouter(
    {
        "http": with_cloud_printers(django_asgi_app),
        # types-channels wants its stub-only _ExtendedURLPattern, which django.urls.path() never returns.
        "websocket": URLRouter(websocket_urlpatterns),  # type: ignore[arg-type]
    }
)

start_in_process()
