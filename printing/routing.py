"""WebSocket routes (mounted by cantina/asgi.py): /ws/agent/ and /ws/staff/."""

from channels.auth import AuthMiddlewareStack
from django.urls import path

from printing.consumers import AgentConsumer, StaffConsumer
from printing.origins import SameOriginValidator

websocket_urlpatterns = [
    # Agents authenticate by token only: no session or cookie middleware on this route.
    # django-stubs types path() for views only; Channels routes ASGI apps with it (its documented use).
    path("ws/agent/", AgentConsumer.as_asgi()),  # type: ignore[arg-type]
    # Staff pages: session auth, and only from this site's own pages (Origin checked exactly).
    path("ws/staff/", SameOriginValidator(AuthMiddlewareStack(StaffConsumer.as_asgi()))),
]
