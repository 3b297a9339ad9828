"""The one way tests and tools wait for a condition: poll it until true, with a generous deadline.

``wait_for`` blocks (processes, HTTP, the database); ``wait_for_async`` awaits, for code whose
condition needs the event loop running meanwhile (an in-loop fake server). Both share the same
rule: return the predicate's first truthy value, or fail with a message naming what never came.
Never a fixed sleep followed by an assertion.
"""

import asyncio
import time

DEFAULT_TIMEOUT = 20.0
DEFAULT_INTERVAL = 0.02


def _polls(predicate, timeout, interval, message):
    """Generator: yields how long to sleep before the next try; returns the truthy value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {message or predicate}")
        yield interval


def wait_for(predicate, timeout=DEFAULT_TIMEOUT, interval=DEFAULT_INTERVAL, message=""):
    """Poll ``predicate()`` until truthy; return its value or raise AssertionError naming ``message``."""
    polls = _polls(predicate, timeout, interval, message)
    try:
        while True:
            time.sleep(next(polls))
    except StopIteration as done:
        return done.value


async def wait_for_async(predicate, timeout=DEFAULT_TIMEOUT, interval=DEFAULT_INTERVAL, message=""):
    """``wait_for`` for coroutines: the event loop keeps running between polls."""
    polls = _polls(predicate, timeout, interval, message)
    try:
        while True:
            await asyncio.sleep(next(polls))
    except StopIteration as done:
        return done.value
