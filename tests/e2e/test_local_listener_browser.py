"""A web page in Chromium prints through the agent's local listener, if its origin is allowed.

Two tiny web servers serve the same page (a ticket-daemon client in plain JavaScript) on two
ports: the agent allows the first origin only. The page from the allowed origin prints; the
same page from the other origin cannot even open the WebSocket, and nothing reaches the printer.
"""

import functools
import http.server
import threading
from pathlib import Path

import pytest

from tests.e2e.local_listener_support import LocalAgent
from tools.polling import wait_for
from tools.processes import FakePrinterProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.browser, pytest.mark.timeout(180)]

CHROMIUM = Path("/usr/bin/chromium")

PAGE = """<!doctype html>
<html lang="pt-BR"><head><meta charset="utf-8"><title>PDV</title></head>
<body>
<p id="log"></p>
<script>
const log = document.getElementById("log");
const note = (text) => { log.textContent += text + " "; };
const socket = new WebSocket("ws://localhost:%(port)d/ws");
socket.onmessage = (event) => {
  const message = JSON.parse(event.data);
  note(message.tipo + ":" + (message.status || ""));
  if (message.tipo === "info") {
    socket.send(JSON.stringify({tipo: "ticket", id: "web-" + location.port, datos: {
      version: "1.0", profile: {model: "80mm EC-PM-80250", paper_width: 80},
      commands: [{type: "text", data: {content: {text: "Página " + location.port, align: "center"}}},
                 {type: "cut", data: {mode: "partial"}}]}}));
  }
};
socket.onerror = () => note("refused");
</script>
</body></html>
"""


class PageServer:
    """Serves PAGE at / on a free loopback port, from a thread."""

    def __init__(self, agent_port):
        self.port = free_port()
        body = (PAGE % {"port": agent_port}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=functools.partial(self.httpd.serve_forever, 0.1), daemon=True).start()

    @property
    def origin(self):
        return f"http://localhost:{self.port}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium is not installed (apt-get install chromium)")
def test_a_page_from_an_allowed_origin_prints_and_one_from_another_origin_cannot(tmp_path):
    from playwright.sync_api import expect, sync_playwright

    printer = FakePrinterProcess(tmp_path / "printer-out").start()
    agent_port = free_port()
    allowed, other = PageServer(agent_port), PageServer(agent_port)
    agent = LocalAgent(tmp_path / "agent", printer.url, "--allow-origin", allowed.origin, port=agent_port).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                page.goto(allowed.origin + "/")
                expect(page.locator("#log")).to_contain_text("result:success", timeout=30_000)
                expect(page.locator("#log")).to_contain_text("info:connected ack:queued result:success")

                page = browser.new_page()
                page.goto(other.origin + "/")
                expect(page.locator("#log")).to_contain_text("refused", timeout=30_000)
                assert "ack" not in page.locator("#log").text_content()
            finally:
                browser.close()
        wait_for(lambda: printer.received(), 30, message="the allowed page's ticket")
        texts = printer.received()
        assert len(texts) == 1 and f"Página {allowed.port}" in texts[0]
        assert f"refused a connection from origin '{other.origin}'" in agent.log()
    finally:
        agent.stop(20)
        allowed.close()
        other.close()
        printer.stop()
