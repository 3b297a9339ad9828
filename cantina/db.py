"""Kept SQLite connections, and none left behind by HTTP requests.

SQLite connections are kept (DATABASE_CONN_MAX_AGE) so that the database thread of the agent and
staff sockets, and the sweep, do not open and close one around every call. Under daphne every
HTTP request runs its synchronous code in a thread of its own (Django's ThreadSensitiveContext),
and that thread's connection would only be closed when the garbage collector got to it: without
the receiver below, 200 requests left dozens of open database files behind
(tests/test_sqlite_connections.py). A request's connection is closed when the request ends.

PostgreSQL is left alone: its pool (DATABASE_POOL_SIZE) already returns the connection at the
end of each request.
"""

from django.db import connections


def close_request_connections(**kwargs):
    """``request_finished`` receiver: close the SQLite connections this request's thread opened.

    Not inside an atomic block: Django's test client sends ``request_finished`` inside the test's
    transaction, which must stay open.
    """
    for connection in connections.all(initialized_only=True):
        if connection.vendor == "sqlite" and not connection.in_atomic_block:
            connection.close()
