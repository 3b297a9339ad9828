"""Round two's attacks against a real daphne on loopback, as an attacker would try them: another
origin on the same host reading the live feed, password guessing, and a staff account without
permissions reading the dashboard."""

import json
import time
import urllib.error

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tools.processes import DaphneServer, StaffBrowser

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with DaphneServer(tmp_path_factory.mktemp("round-two")) as server:
        server.manage.create_staff("gil", "gil-pass-123", role="Gerente")
        server.manage.create_staff("ana", "ana-pass-123", role="Atendente")
        server.manage.create_staff("nobody", "nobody-pass-123", role="")
        yield server


def session_cookie(browser):
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookies)


def open_staff_socket(server, cookie, origin):
    return connect(
        f"ws://127.0.0.1:{server.port}/ws/staff/",
        origin=origin,
        additional_headers={"Cookie": cookie},
        open_timeout=10,
    )


def status_of(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)[0]
    except urllib.error.HTTPError as error:
        return error.code


def test_only_the_exact_own_origin_opens_the_live_feed(server):
    cookie = session_cookie(StaffBrowser(server.http_url).login("gil", "gil-pass-123"))
    own = f"http://127.0.0.1:{server.port}"

    with open_staff_socket(server, cookie, own) as socket:
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=10))["type"] == "pong"

    for origin in (
        f"http://127.0.0.1:{server.port + 1}",  # another app on the same host
        f"https://127.0.0.1:{server.port}",  # another scheme
        f"http://localhost:{server.port}",  # another host name of the same machine
        "null",
        None,
    ):
        with pytest.raises(InvalidStatus) as refused:
            open_staff_socket(server, cookie, origin).close()
        assert refused.value.response.status_code == 403, origin


def test_password_guessing_stops_and_a_manager_unlocks(server):
    attacker = StaffBrowser(server.http_url)
    attacker.get("/accounts/login/")
    started = time.monotonic()
    statuses = [status_of(attacker.post, "/accounts/login/", username="ana", password=f"guess-{n}") for n in range(30)]
    elapsed = time.monotonic() - started

    assert statuses[:4] == [200] * 4 and set(statuses[4:]) == {429}, statuses
    assert status_of(attacker.post, "/accounts/login/", username="ana", password="ana-pass-123") == 429
    with attacker.opener.open(server.http_url + "/", timeout=10) as response:
        assert "/accounts/login/" in response.geturl(), "not logged in"
    print(f"30 wrong passwords took {elapsed:.1f} s; from the 5th on each was refused with 429")

    server.manage("axes_reset_username", "ana")
    StaffBrowser(server.http_url).login("ana", "ana-pass-123")


def log_in(server, username):
    """A session for ``username`` (whose password is "<username>-pass-123"), whatever its role."""
    browser = StaffBrowser(server.http_url)
    browser.get("/accounts/login/")
    _status, url, _body = browser.post(
        "/accounts/login/", username=username, password=f"{username}-pass-123", next="/admin/"
    )
    assert url.endswith("/admin/"), url
    return browser


def test_accounts_without_the_permission_get_403_on_the_dashboard_and_its_data(server):
    for username in ("nobody", "ana"):
        browser = log_in(server, username)
        for path in ("/admin/print/", "/admin/print/data/"):
            assert status_of(browser.get, path) == 403, (username, path)

    status, body = log_in(server, "gil").get("/admin/print/data/")
    assert status == 200 and "printers" in json.loads(body)
