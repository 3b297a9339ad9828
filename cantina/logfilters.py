"""Logging filters used by the LOGGING setting."""

import logging


class WithoutTraceback(logging.Filter):
    """Keeps the line, drops the traceback: a request with a Host header not in ALLOWED_HOSTS
    is a scanner or a misconfigured client, not a bug in the code."""

    def filter(self, record):
        record.exc_info = None
        record.exc_text = None
        return True
