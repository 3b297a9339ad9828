"""WebSocket routes (mounted by cantina/asgi.py): /ws/agent/ and /ws/staff/."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from printing.consumers import AgentConsumer, StaffConsumer

websocket_urlpatterns = [
    # Agents authenticate by token only: no session or cookie middleware on this route.
    path("ws/agent/", AgentConsumer.as_asgi()),
    # Staff pages: session auth, and only from this site's own pages (Origin checked).
    path("ws/staff/", AllowedHostsOriginValidator(AuthMiddlewareStack(StaffConsumer.as_asgi()))),
]
