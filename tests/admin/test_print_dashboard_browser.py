"""The print dashboard in a real browser against a real daphne: it follows new jobs and agents
without a reload, and the agent token page shows the command line to copy."""

import json
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tools.processes import REPO, DaphneServer

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "artifacts" / "screenshots"
WAIT_MS = 25_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.timeout(180),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with DaphneServer(tmp_path_factory.mktemp("dashboard")) as server:
        server.manage.python(
            "from django.contrib.auth import get_user_model\n"
            "get_user_model().objects.create_superuser('marta', 'marta@example.com', 'marta-pass-123')\n"
            "print(json.dumps('ok'))"
        )
        yield server


@pytest.fixture
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{server.http_url}/admin/login/?next=/admin/")
        page.fill("#id_username", "marta")
        page.fill("#id_password", "marta-pass-123")
        page.click("input[type=submit]")
        page.wait_for_url(f"{server.http_url}/admin/")
        yield page
        browser.close()


def test_the_dashboard_follows_new_jobs_and_agents_without_a_reload(server, page):
    token = server.manage.add_printer("Balcão")
    page.click("a[href='/admin/print/']")
    page.wait_for_url(f"{server.http_url}/admin/print/")
    total = page.locator("[data-field='today.total']")
    assert total.inner_text() == "0"
    page.evaluate("window.cantinaLoaded = true")  # gone if the page reloads

    server.manage.confirm_orders(2)
    # A function, not an expression string: the page's CSP forbids evaluating strings ('unsafe-eval').
    page.wait_for_function("() => document.querySelector(\"[data-field='today.total']\").textContent === '2'")
    with connect(f"{server.agent_url}?token={token}") as agent:
        assert json.loads(agent.recv(timeout=10))["type"] == "welcome"
        agent.send(
            json.dumps(
                {"type": "printer_info", "printer": {"model": "TM-T20III", "status": "ready", "agent_version": "9.9"}}
            )
        )
        page.locator("#dashboard-agents td", has_text="TM-T20III").wait_for()

        assert page.evaluate("window.cantinaLoaded") is True
        queued = page.locator("#dashboard-printers tbody tr", has_text="Balcão")
        assert "Connected" in queued.inner_text() and "Ready" in queued.inner_text()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "admin-print-dashboard.png"), full_page=True)


def test_issuing_a_token_in_the_admin_shows_a_working_agent_command(server, page):
    server.manage.add_printer("Cozinha")
    page.goto(f"{server.http_url}/admin/printing/printer/")
    page.locator("tr", has_text="Cozinha").locator("input.action-select").check()
    page.select_option("select[name=action]", "issue_token")
    page.click("button[name=index]")

    command = page.locator("textarea.cantina-command").input_value()
    assert command.startswith("CANTINA_TOKEN=cp_") and "--token" not in command
    assert f" python -m agent --server ws://127.0.0.1:{server.port}/ws/agent/ " in command
    token = command.split()[0].removeprefix("CANTINA_TOKEN=")
    printer_page = page.locator("a.button", has_text="Back to the printer").get_attribute("href")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "admin-agent-token.png"), full_page=True)
    with connect(f"{server.agent_url}?token={token}") as agent:
        welcome = json.loads(agent.recv(timeout=10))
    assert welcome["type"] == "welcome" and welcome["printer"]["name"] == "Cozinha"
    for path in ("/admin/printing/printer/", printer_page, "/admin/"):
        page.goto(f"{server.http_url}{path}")
        assert token not in page.content()
