"""Printing before selling, when both wait for the same server process (issue 16).

Every agent connection of a process makes its database calls in one thread (Channels'
``database_sync_to_async``), while each confirmation runs in a thread of its own. Above the
process's capacity, that one thread got about a ninth of the GIL and of SQLite's write lock: the
bench saw **no** job completed for 8 s while 90 orders a second were confirmed, then 1,114 in the
second after the confirmations stopped. At a lunch rush that is a queue of paid orders whose
receipts do not come out.

So a confirmation waits, before it starts, while agent delivery calls (claims, status reports,
the re-send on connect) are queued or running in this process, at most ``MAX_WAIT`` seconds: the
jobs already confirmed are sent and acknowledged first, and selling takes the rest. Below
capacity the queue is nearly always empty and nobody waits. A confirmation inside a transaction
never waits here (it may hold the write lock the agents' calls need).
"""

import threading

from channels.db import database_sync_to_async

# A steady stream of agent work must slow selling down, never stop it.
MAX_WAIT = 0.5
# Delivery calls a confirmation lets through before it waits: a backlog this short is gone in a
# few milliseconds, and waiting for an empty queue cost more CPU (threads woken for nothing) than
# it saved.
BACKLOG = 8


class _DeliveryWork:
    """How many agent delivery calls this process has queued or running."""

    def __init__(self):
        self.count = 0
        self.idle = threading.Condition()

    def enter(self):
        with self.idle:
            self.count += 1

    def leave(self):
        with self.idle:
            self.count -= 1
            if self.count == BACKLOG:
                self.idle.notify_all()

    def wait_short(self, timeout):
        """Wait until at most ``BACKLOG`` delivery calls are queued or running, or ``timeout`` s."""
        if self.count <= BACKLOG:  # the common case, without the lock
            return True
        with self.idle:
            return self.idle.wait_for(lambda: self.count <= BACKLOG, timeout)


_work = _DeliveryWork()


def delivery_call(function):
    """``database_sync_to_async(function)``, counted as delivery work from queued to done."""
    call = database_sync_to_async(function)

    async def run(*args, **kwargs):
        _work.enter()
        try:
            return await call(*args, **kwargs)
        finally:
            _work.leave()

    return run


def wait_for_delivery(connection):
    """Called by a confirmation before it starts: let queued delivery calls go first."""
    if connection.in_atomic_block:
        return
    _work.wait_short(MAX_WAIT)
