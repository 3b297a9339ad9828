"""Browser tests: headless Chromium (Debian's, never downloaded) against a real daphne, a real
printer agent and the fake network printer, all on loopback.

One stack per module: a daphne with its own SQLite database, a staff account, products, the
printer "Balcão" with its agent and fake printer. Pages get a fresh browser context each.
"""

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tools.polling import wait_for
from tools.processes import PYTHON, REPO, DaphneServer, base_env, free_port, port_open

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "tablet": {"width": 800, "height": 1280}}
STAFF_USERNAME, STAFF_PASSWORD = "alice", "alice-pass-123"
# A loaded 2-core CI machine is slow; conditions are waited for, never slept on.
WAIT_MS = 25_000

DEMO = """
from decimal import Decimal
from django.contrib.auth import get_user_model
from orders.models import Product
from django.contrib.auth.models import Group
get_user_model().objects.create_user({username!r}, password={password!r}, is_staff=True).groups.add(Group.objects.get(name="Gerente"))
for category, name, price in [
    ("Salgados", "Pão de queijo", "4.50"), ("Salgados", "Coxinha", "7.25"), ("Salgados", "Esfiha de carne", "6.50"),
    ("Lanches", "Misto quente", "9.00"), ("Lanches", "Sanduíche natural", "12.00"),
    ("Bebidas", "Suco de laranja", "6.00"), ("Bebidas", "Água mineral", "3.00"), ("Bebidas", "Achocolatado", "5.50"),
    ("Doces", "Brigadeiro", "3.50"), ("Doces", "Bolo de cenoura", "5.00"),
]:
    Product.objects.create(category=category, name=name, price=Decimal(price))
print(json.dumps("ok"))
"""


def pytest_collection_modifyitems(items):
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (apt-get install chromium); CI installs it")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


class Child:
    """A child process logging to a file; stopped politely (SIGTERM) by default."""

    def __init__(self, args, log_path, env):
        self.log_path = Path(log_path)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [str(arg) for arg in args], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def alive(self):
        return self.process.poll() is None

    def log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self):
        if self.alive:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class PrinterStation:
    """A printer as a canteen has it: the fake network printer plus the agent next to it."""

    def __init__(self, server, workdir, name, token):
        self.name = name
        self.workdir = Path(workdir)
        self.out = self.workdir / "received"
        self.out.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = base_env(self.workdir, HOME=self.workdir)
        self.printer = Child(
            [PYTHON, "-m", "agent.fakeprinter", "--port", self.port, "--out", self.out, "--quiet"],
            self.workdir / "fakeprinter.log",
            env,
        )
        wait_for(lambda: port_open(self.port) or not self.printer.alive, 20, message=f"fake printer {name} to listen")
        assert self.printer.alive, self.printer.log()
        self.agent = Child(
            # The token in the environment, never on the command line (visible in ps).
            [
                PYTHON,
                "-m",
                "agent",
                "--server",
                server.agent_url,
                "--printer",
                f"tcp://127.0.0.1:{self.port}",
                "--journal",
                self.workdir / "journal.sqlite3",
                "--status-interval",
                "0.5",
            ],
            self.workdir / "agent.log",
            {**env, "CANTINA_TOKEN": token},
        )

    def set_state(self, state):
        """What the printer answers to status queries: ready, paper_out, cover_open, …"""
        (self.out / "state").write_text(state)

    def received(self):
        return [path.with_suffix(".txt").read_text(errors="replace") for path in sorted(self.out.glob("*.bin"))]

    def stop(self):
        self.agent.stop()
        self.printer.stop()


def connected_printers(server):
    """How many printers have an agent connected, from /health (its body, even when degraded)."""
    try:
        with urllib.request.urlopen(f"{server.http_url}/health", timeout=5) as response:
            body = response.read()
    except urllib.error.HTTPError as error:  # 503 "degraded" still reports the printers
        body = error.read()
    except OSError:
        return -1
    try:
        return json.loads(body)["printers"]["connected"]
    except (ValueError, KeyError, TypeError):
        return -1


@pytest.fixture(scope="session")
def compiled_translations():
    subprocess.run([PYTHON, "-m", "cantina.msgfmt"], cwd=REPO, check=True, capture_output=True)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, compiled_translations):
    """daphne + staff account + products + printer "Balcão" with a connected agent."""
    workdir = tmp_path_factory.mktemp("staff-stack")
    server = DaphneServer(workdir / "server")
    server.manage.python(DEMO.format(username=STAFF_USERNAME, password=STAFF_PASSWORD))
    token = server.manage.add_printer("Balcão", "--auto-print", "counter,scheduled")
    server.start()
    station = PrinterStation(server, workdir / "balcao", "Balcão", token)
    try:
        wait_for(lambda: connected_printers(server) == 1, 30, interval=0.25, message="the agent of Balcão to connect")
        yield {"server": server, "station": station, "workdir": workdir}
    finally:
        station.stop()
        server.stop()


@pytest.fixture(scope="module")
def browser():
    # Module scope: the sync API keeps an event loop running in this thread while it is open,
    # which would break later tests that call asyncio.run().
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI installs it")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser):
    """open_page("desktop"|"tablet") → a page in a fresh context (pt-BR, São Paulo time)."""
    contexts = []

    def open_(viewport="desktop"):
        context = browser.new_context(
            viewport=VIEWPORTS[viewport],
            locale="pt-BR",
            timezone_id="America/Sao_Paulo",
            has_touch=viewport == "tablet",
        )
        context.set_default_timeout(WAIT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


def log_in(page, server, username=STAFF_USERNAME, password=STAFF_PASSWORD):
    from playwright.sync_api import expect

    page.goto(f"{server.http_url}/accounts/login/")
    page.get_by_label("Usuário").fill(username)
    page.get_by_label("Senha").fill(password)
    page.get_by_role("button", name="Entrar").click()
    expect(page).to_have_url(f"{server.http_url}/")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live", timeout=WAIT_MS)


def screenshot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    viewport = page.viewport_size
    kind = "tablet" if viewport["width"] < viewport["height"] else "desktop"
    path = SCREENSHOTS / f"{kind}-{name}.png"
    page.screenshot(path=str(path))
    return path


def record_timing(name, seconds):
    SCREENSHOTS.parent.mkdir(parents=True, exist_ok=True)
    with open(SCREENSHOTS.parent / "timings.txt", "a") as timings:
        timings.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {name}: {seconds * 1000:.0f} ms\n")
