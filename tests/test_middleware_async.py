"""Every middleware is async-capable, like Django's own.

A sync-only middleware makes each request cross from a worker thread back to daphne's event loop
(``async_to_sync``). Besides a hop per request, that thread then waits forever once the loop has
stopped: on SIGTERM daphne never exits and waits for the supervisor's SIGKILL (found by the
rolling-restart fault scenario, tests/faults/test_rolling_restart.py).
"""

import pytest
from django.conf import settings
from django.utils.module_loading import import_string


@pytest.mark.parametrize("path", settings.MIDDLEWARE)
def test_the_middleware_is_async_capable(path):
    middleware = import_string(path)
    assert getattr(middleware, "async_capable", False), f"{path} is sync-only: base it on MiddlewareMixin"
