"""End to end: a real daphne; simulated Star and Epson printers poll it over HTTP; orders are
confirmed by another process; a logged-in staff member watches /ws/staff/ and the status JSON."""

import asyncio
import http.cookiejar
import json
import re
import threading
import urllib.parse
import urllib.request

import pytest
import websockets

from tools.cloud_printers import (
    CloudPrntPrinter,
    EpsonSdpPrinter,
    HttpTransport,
    epos_text,
)
from tools.polling import wait_for
from tools.processes import DaphneServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


class Staff:
    """A staff member's browser session: login, JSON status endpoints and the live socket."""

    def __init__(self, server, username, password):
        self.base = server.http_url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        page = self.opener.open(f"{self.base}/accounts/login/", timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        request = urllib.request.Request(
            f"{self.base}/accounts/login/", form.encode(), headers={"Referer": f"{self.base}/accounts/login/"}
        )
        self.opener.open(request, timeout=10).read()
        assert any(cookie.name == "sessionid" for cookie in self.jar), "staff login failed"
        self.events = []
        self._stop = None

    def json(self, path):
        with self.opener.open(f"{self.base}{path}", timeout=10) as response:
            return json.loads(response.read())

    def listen(self):
        cookie = "; ".join(f"{c.name}={c.value}" for c in self.jar)
        url = self.base.replace("http://", "ws://") + "/ws/staff/"
        ready = threading.Event()

        async def run():
            self._stop = asyncio.Event()
            async with websockets.connect(url, additional_headers={"Cookie": cookie, "Origin": self.base}) as socket:
                ready.set()
                while not self._stop.is_set():
                    try:
                        self.events.append(json.loads(await asyncio.wait_for(socket.recv(), 0.2)))
                    except TimeoutError:
                        continue

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(run(),), daemon=True)
        self.thread.start()
        assert ready.wait(15), "staff socket did not open"

    def close(self):
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
            self.thread.join(5)


@pytest.fixture
def server(tmp_path):
    with DaphneServer(tmp_path / "var") as server:
        yield server


def test_star_and_epson_printers_print_confirmed_orders_through_a_real_server(server):
    manage = server.manage
    star_secret = manage.add_printer(
        "Star",
        "--transport",
        "cloudprnt",
        "--mac",
        "00:11:62:12:34:56",
        "--paper-width",
        "58",
        "--auto-print",
        "counter",
    )
    epson_secret = manage.add_printer(
        "Epson", "--transport", "epson_sdp", "--device-id", "tm-m30-1", "--auto-print", "counter"
    )
    staff = Staff(server, *manage.create_staff())
    staff.listen()
    star = CloudPrntPrinter(HttpTransport(server.http_url), "00:11:62:12:34:56", star_secret)
    epson = EpsonSdpPrinter(HttpTransport(server.http_url), "tm-m30-1", epson_secret)
    try:
        assert star.poll() == {"jobReady": False}
        assert epson.cycle() == []
        (order_id,) = manage.confirm_orders(1)

        # Star: paper out first, the job waits and staff see the printer's state.
        star.status_code = "410 Out of paper"
        assert star.poll() == {"jobReady": False}
        printers = {p["name"]: p for p in staff.json("/printers/status")["printers"]}
        assert printers["Star"]["status"] == "paper_out" and printers["Star"]["connected"]
        wait_for(
            lambda: any(
                e["type"] == "printer.updated"
                and e["printer"]["name"] == "Star"
                and e["printer"]["status"] == "paper_out"
                for e in staff.events
            ),
            20,
            message="paper out pushed to staff",
        )

        # Paper loaded: poll, fetch, the simulator restarts before printing, then prints once.
        star.status_code = "200 OK"
        first = star.poll()
        assert first["jobReady"]
        star.fetch()
        star.restart()
        again = star.poll()
        assert again["jobToken"] == first["jobToken"]
        body = star.fetch()
        chosen = star.current["type"]
        star.print_current()
        star.confirm("200 OK")
        if chosen == "image/png":  # once the raster renderer is there, Star printers get pictures
            from io import BytesIO

            from PIL import Image

            assert Image.open(BytesIO(body)).width == 384
        else:
            assert "Cliente 0" in body.decode("utf-8")

        # Epson: Digest challenge, GetRequest, print, SetResponse.
        jobs = epson.cycle()
        assert len(jobs) == 1 and "Cliente 0" in epos_text(jobs[0][1])

        statuses = {job["printer_name"]: job["status"] for job in staff.json(f"/jobs/status?order={order_id}")["jobs"]}
        assert statuses == {"Star": "completed", "Epson": "completed"}
        wait_for(
            lambda: (
                sum(
                    e["type"] == "job.updated"
                    and e["job"]["order_id"] == order_id
                    and e["job"]["status"] == "completed"
                    for e in staff.events
                )
                == 2
            ),
            20,
            message="both completions pushed to staff",
        )
        assert len(star.printed) == 1 and len(epson.printed) == 1
        assert star.poll() == {"jobReady": False} and epson.cycle() == []

        # Refusals over the wire: wrong secret, malformed body; nothing in the log is a traceback.
        intruder = CloudPrntPrinter(HttpTransport(server.http_url), "00:11:62:12:34:56", "cp_guess")
        with pytest.raises(AssertionError, match="HTTP 401"):
            intruder.poll()
        status, _headers, _body = HttpTransport(server.http_url).request(
            "POST", "/cloudprnt/", body=b"{oops", headers={"Content-Type": "application/json"}
        )
        assert status in (400, 401)
        # These paths skip the site's middleware (printing.cloud.asgi) but still check the host.
        status, _headers, _body = HttpTransport(server.http_url).request(
            "POST", "/cloudprnt/", body=b"{}", headers={"Host": "evil.example", "Content-Type": "application/json"}
        )
        assert status == 400
        assert "Traceback" not in server.log()
    finally:
        staff.close()
