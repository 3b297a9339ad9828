"""Fault injection for tests: crash the agent at a chosen point of printing a job.

Set ``CANTINA_AGENT_CRASH_AT`` to ``before_print`` or ``after_print`` and the agent process
ends at once with ``os._exit(137)`` (as ``kill -9`` would leave it: no cleanup, no flush) the
first time it reaches that point:

- ``before_print``: the job was received and the printer is ready, but nothing is journaled
  and no byte was sent. After a restart the job must print exactly once.
- ``after_print``: the bytes went to the printer and ``completed`` is in the journal, but the
  server was not told. After a restart the redelivered job must be acknowledged
  ``completed`` without printing again.

``CANTINA_AGENT_HANG_AT=during_print`` makes the agent stop forever right after ``started`` is
journaled and before any byte goes to the printer, and say so on stderr: a test then kills it
with a real ``kill -9`` in the middle of a job.

Never set them in production.
"""

import os
import time

CRASH_POINTS = ("before_print", "after_print")
HANG_POINTS = ("during_print",)


def crash_point(name: str) -> None:
    if os.environ.get("CANTINA_AGENT_CRASH_AT") == name:
        os.write(2, f"fault injection: crashing at {name}\n".encode())
        os._exit(137)


def hang_point(name: str) -> None:
    if os.environ.get("CANTINA_AGENT_HANG_AT") == name:
        os.write(2, f"fault injection: hanging at {name}\n".encode())
        while True:
            time.sleep(3600)
