"""What a person or a monitor sees of the system while a scenario breaks it."""

import json
import urllib.error
import urllib.request


def health(base_url, timeout=30):
    """(HTTP status, body) of /health; (None, error) when it did not answer within ``timeout``."""
    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except OSError as error:
        return None, repr(error)


def staff_link(base_url, cookies, timeout=30):
    """Open the staff pages' live link as a logged-in browser does: "open", or "refused (…)".

    Refused with a status (the server said no) or closed before the handshake ended (daphne
    drops a handshake the application leaves pending for 5 s, which a loaded machine reaches
    while the refusal waits out the channel-layer timeout): to the page both mean "not live",
    and it shows its banner.
    """
    from websockets.exceptions import InvalidHandshake, InvalidStatus
    from websockets.sync.client import connect

    ws_url = base_url.replace("http://", "ws://") + "/ws/staff/"
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "Origin": base_url}
    try:
        with connect(ws_url, additional_headers=headers, open_timeout=timeout):
            return "open"
    except InvalidStatus as error:
        return f"refused (HTTP {error.response.status_code})"
    except (InvalidHandshake, EOFError, OSError) as error:
        return f"refused (closed during the handshake: {type(error).__name__})"


def count(database, sql):
    return database.rows(sql)[0][0]


def completed_jobs(database):
    return count(database, "SELECT COUNT(*) FROM printing_printjob WHERE status = 'completed'")
