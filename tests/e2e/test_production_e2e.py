"""The README's production recipe, on loopback: PostgreSQL + Redis + two daphne (the cantina@
unit's command) behind the deploy/ nginx site with TLS from a private CA, the install commands
copied from the README's production section, an agent over wss:// started by its unit's command
with its environment file (the private CA through CANTINA_CA_FILE). A staff sale through HTTPS prints once, in Portuguese; one daphne
killed, the next sale still prints.

What differs from a real host, and only that: loopback high ports instead of 80/443/8001/8002,
temporary paths instead of /etc, /srv and /var/lib, no ``runuser -u cantina`` (the test runs as
whoever runs it), ``createsuperuser --noinput`` instead of its prompts.
"""

import json
import os
import re
import secrets
import shlex
import ssl
import subprocess
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlencode

import pytest

from tools.deploy import (
    DEPLOY,
    make_certificate,
    nginx_command,
    read_environment_file,
    require_binary,
    unit_environment,
    unit_exec_start,
    write_nginx_config,
)
from tools.processes import (
    REPO,
    ChildProcess,
    FakePrinterProcess,
    PostgresCluster,
    RedisServer,
    free_port,
    pg_ctlcluster_available,
    port_open,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]

DATABASE = "cantina_prod_e2e"
ADMIN, ADMIN_PASSWORD = "admin", "Adm1n-" + secrets.token_urlsafe(12)
SPOOFED_ADDRESS = "203.0.113.77"


def readme_production_commands():
    """The install commands of the README's production section (its ```bash block marked
    ``<!-- production-install -->``), as argument lists, with ``runuser -u cantina --`` removed."""
    readme = (REPO / "README.md").read_text()
    match = re.search(r"<!-- production-install -->\s*```bash\n(.*?)```", readme, re.S)
    assert match, "README: the production section's install block (<!-- production-install -->) is missing"
    commands = []
    for line in match.group(1).splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        args = shlex.split(line)
        if args[:3] == ["runuser", "-u", "cantina"]:
            args = args[4:] if args[3] == "--" else args[3:]
        commands.append(args)
    return commands


class Https:
    """A browser's view through nginx: HTTPS trusting the test CA, cookies, CSRF, Origin."""

    def __init__(self, base_url, ca_file):
        self.base_url = base_url
        self.cookies = CookieJar()
        context = ssl.create_default_context(cafile=str(ca_file))
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def request(self, path, data=None, headers=None):
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=20) as response:
                return response.status, response.geturl(), dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.geturl(), dict(error.headers), error.read().decode(errors="replace")

    def get(self, path, **headers):
        return self.request(path, headers=headers)

    def post(self, path, fields):
        token = next((cookie.value for cookie in self.cookies if cookie.name == "csrftoken"), "")
        data = urlencode({"csrfmiddlewaretoken": token, **fields}, doseq=True).encode()
        # Origin and Referer as a browser sends them: https://host:port, checked against Host.
        headers = {"Origin": self.base_url, "Referer": self.base_url + path, "X-CSRFToken": token}
        return self.request(path, data=data, headers=headers)


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    require_binary("nginx", "nginx")
    require_binary("openssl", "openssl")
    require_binary("redis-server", "redis-server")
    if not pg_ctlcluster_available():
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL (pg_ctlcluster) is not installed: CI needs it")
        pytest.skip("PostgreSQL (pg_ctlcluster) is not installed")
    root = tmp_path_factory.mktemp("production")
    started = []
    cluster = PostgresCluster().start()
    database_url = cluster.create_database(DATABASE)
    try:
        redis = RedisServer(root).start()
        started.append(redis)
        ca, cert, cert_key = make_certificate(root / "tls")
        https_port, http_port = free_port(), free_port()
        daphne_ports = [free_port(), free_port()]
        base_url = f"https://localhost:{https_port}"

        # /etc/cantina/cantina.env, from deploy/cantina.env.example. No CSRF_TRUSTED_ORIGINS:
        # nginx passes Host with its port, so Django's own origin check suffices.
        env_file = root / "cantina.env"
        var_dir = root / "var"
        text = (DEPLOY / "cantina.env.example").read_text()
        for key, value in {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis.url,
            "CANTINA_VAR_DIR": str(var_dir),
        }.items():
            text, count = re.subn(rf"^{key}=.*$", f"{key}={value}", text, flags=re.M)
            assert count == 1, f"{key} is not in deploy/cantina.env.example"
        env_file.write_text(text)
        settings = read_environment_file(env_file)
        assert settings["DJANGO_DEBUG"] == "false"
        # What systemd gives a service: its EnvironmentFile and little else.
        system_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(root)}
        service_env = {**system_env, **settings}

        # The README's install commands, in order.
        manage_env = {
            **system_env,
            "CANTINA_ENV_FILE": str(env_file),
            "DJANGO_SUPERUSER_USERNAME": ADMIN,
            "DJANGO_SUPERUSER_PASSWORD": ADMIN_PASSWORD,
            "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
        }
        ran = []
        for args in readme_production_commands():
            if args[:1] == ["deploy/cantina-manage"] and args[1:2] == ["createsuperuser"]:
                args = [*args, "--noinput"]
            if args[:1] == [".venv/bin/python"] and not (REPO / ".venv/bin/python").exists():
                pytest.fail("the README's commands run from the checkout's .venv (./dev creates it)")
            result = subprocess.run(args, cwd=REPO, env=manage_env, capture_output=True, text=True, timeout=180)
            assert result.returncode == 0, f"README command {shlex.join(args)} failed:\n{result.stdout}{result.stderr}"
            ran.append(" ".join(args[:3]))
        for expected in (
            ".venv/bin/python -m cantina.msgfmt",
            "deploy/cantina-manage migrate",
            "deploy/cantina-manage collectstatic",
            "deploy/cantina-manage createsuperuser",
        ):
            assert any(command.startswith(expected) for command in ran), f"README lacks {expected!r}: {ran}"

        def manage(*args):
            result = subprocess.run(
                ["deploy/cantina-manage", *args], cwd=REPO, env=manage_env, capture_output=True, text=True, timeout=120
            )
            assert result.returncode == 0, f"cantina-manage {args} failed:\n{result.stderr}"
            return result.stdout

        # As the README's "A real printer" says: add the printer, its token is the last line.
        token = manage("printer_add", "Balcão").strip().splitlines()[-1]
        manage(
            "shell",
            "-c",
            "from decimal import Decimal; from orders.models import Product; "
            "print(Product.objects.create(name='Coxinha', category='Salgados', price=Decimal('7.25')).pk)",
        )

        # The optional separate worker's command, one pass.
        maintenance = subprocess.run(
            [*unit_exec_start("cantina-maintenance.service"), "--once"],
            cwd=REPO,
            env={**service_env, **unit_environment("cantina-maintenance.service")},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert maintenance.returncode == 0, maintenance.stdout + maintenance.stderr

        # Two daphne, each with the cantina@ unit's command line for its port.
        servers = []
        for port in daphne_ports:
            server = ChildProcess(
                unit_exec_start("cantina@.service", port),
                root / f"daphne-{port}.log",
                env={**service_env, **unit_environment("cantina@.service")},
            )
            servers.append(server.start())
            started.append(server)
        for server, port in zip(servers, daphne_ports, strict=True):
            wait_for(
                lambda port=port, server=server: port_open(port) or not server.alive, 60, message=f"daphne on {port}"
            )
            assert server.alive, server.log()

        # nginx with the deploy/ site, in the foreground, everything under a temporary prefix.
        prefix = root / "nginx"
        main = write_nginx_config(
            prefix,
            http_port=http_port,
            https_port=https_port,
            upstream_ports=daphne_ports,
            cert=cert,
            key=cert_key,
            static_dir=var_dir / "static",
        )
        nginx = ChildProcess(nginx_command(prefix, main, "-g", "daemon off;"), root / "nginx.log")
        started.append(nginx.start())
        wait_for(lambda: port_open(https_port) or not nginx.alive, 30, message="nginx to listen")
        assert nginx.alive, nginx.log() + (prefix / "error.log").read_text()

        # The agent: its unit's command, its environment file (token and CA included).
        printer = FakePrinterProcess(root / "receipts").start()
        started.append(printer)
        agent_env_file = root / "agent.env"
        agent_text = (DEPLOY / "agent.env.example").read_text()
        for key, value in {
            "CANTINA_SERVER": f"wss://localhost:{https_port}/ws/agent/",
            "CANTINA_TOKEN": token,
            "CANTINA_PRINTER": printer.url,
            "# CANTINA_CA_FILE": str(ca),
        }.items():
            agent_text, count = re.subn(
                rf"^{re.escape(key)}=.*$", f"{key.lstrip('# ')}={value}", agent_text, flags=re.M
            )
            assert count == 1, f"{key} is not in deploy/agent.env.example"
        agent_env_file.write_text(agent_text)
        agent_command = unit_exec_start("cantina-agent.service")
        agent_command[agent_command.index("--journal") + 1] = str(root / "agent-journal.sqlite3")
        agent = ChildProcess(
            agent_command,
            root / "agent.log",
            env={**system_env, **unit_environment("cantina-agent.service"), **read_environment_file(agent_env_file)},
        )
        started.append(agent.start())

        browser = Https(base_url, ca)

        def agent_connected():
            status, _url, _headers, body = browser.get("/health")
            return status == 200 and json.loads(body)["printers"]["connected"] == 1

        wait_for(lambda: agent_connected() or not agent.alive, 60, interval=0.5, message="the agent over wss://")
        assert agent.alive, agent.log()
        yield {
            "root": root,
            "browser": browser,
            "base_url": base_url,
            "http_port": http_port,
            "daphne_ports": daphne_ports,
            "servers": servers,
            "agent": agent,
            "printer": printer,
            "database_url": database_url,
            "nginx_prefix": prefix,
            "ca": ca,
        }
    finally:
        for process in reversed(started):
            process.stop()
        cluster.drop_database(DATABASE)


def logged_in(production):
    browser = production["browser"]
    status, _url, _headers, body = browser.get("/accounts/login/")
    assert status == 200, body
    status, url, _headers, body = browser.post(
        "/accounts/login/", {"username": ADMIN, "password": ADMIN_PASSWORD, "next": "/"}
    )
    assert status == 200 and "/accounts/login/" not in url, f"login failed ({status}): {body[:500]}"
    return browser


def product_id(browser):
    _status, _url, _headers, page = browser.get("/")
    match = re.search(r'data-add-product="(\d+)"', page)
    assert match, "no product on the counter page"
    return match.group(1)


def sell(browser, product, quantity):
    status, url, _headers, body = browser.post(
        "/", {"product": [product], "quantity": [str(quantity)], "payment_method": "cash", "customer_name": "Ana"}
    )
    assert status == 200 and "?order=" in url, f"sale failed ({status}, {url}): {body[:500]}"
    return int(url.rsplit("=", 1)[1])


def receipts_of(printer, marker):
    return [text for text in printer.received() if marker in text]


def job_states(database_url, order_id):
    import psycopg

    with psycopg.connect(database_url, connect_timeout=10) as connection:
        return [
            row[0]
            for row in connection.execute(
                "SELECT status FROM printing_printjob WHERE order_id = %s", (order_id,)
            ).fetchall()
        ]


def test_port_80_redirects_to_https(production):
    port = production["http_port"]
    request = urllib.request.Request(f"http://localhost:{port}/scheduled/?day=2026-11-29")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.build_opener(NoRedirect).open(request, timeout=10)
    assert answer.value.code == 301
    assert answer.value.headers["Location"] == f"{production['base_url']}/scheduled/?day=2026-11-29"


def test_static_files_come_from_collectstatic_through_nginx(production):
    status, _url, headers, body = production["browser"].get("/static/admin/css/base.css")
    assert status == 200 and "body" in body
    assert headers["Content-Type"].startswith("text/css")
    assert "daphne" not in headers.get("Server", "")


def test_a_client_cannot_choose_the_address_the_server_logs(production):
    browser = production["browser"]
    marker = secrets.token_hex(6)
    status, *_ = browser.get(f"/accounts/login/?probe={marker}", **{"X-Forwarded-For": SPOOFED_ADDRESS})
    assert status == 200
    live = [server for server in production["servers"] if server.alive]
    logs = "".join(server.log() for server in production["servers"])
    line = wait_for(
        lambda: next(
            (
                line
                for line in "".join(s.log() for s in live).splitlines()
                if "/accounts/login/" in line and line.startswith("127.0.0.1")
            ),
            None,
        ),
        10,
        message="the request in daphne's access log",
    )
    assert line.startswith("127.0.0.1:")
    assert SPOOFED_ADDRESS not in logs


def test_health_on_a_backend_answers_whatever_the_host_header(production):
    server, port = next(
        (s, p) for s, p in zip(production["servers"], production["daphne_ports"], strict=True) if s.alive
    )
    request = urllib.request.Request(f"http://127.0.0.1:{port}/health", headers={"Host": f"10.9.8.7:{port}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read())["status"] == "ok"
    log = server.log()
    assert "DisallowedHost" not in log and "Traceback" not in log


# Last: it kills one of the two daphne processes.
def test_a_staff_sale_through_https_prints_once_in_portuguese_and_survives_a_dead_daphne(production):
    browser = logged_in(production)
    printer = production["printer"]

    status, _url, headers, page = browser.get("/")
    assert status == 200
    for text in ("Balcão", "Confirmar e imprimir", "Impressoras"):  # the app's own msgids, translated
        assert text in page, text
    assert "Confirm and print" not in page
    assert headers.get("Strict-Transport-Security") == "max-age=86400"

    product = product_id(browser)
    first = sell(browser, product, 3)
    text = wait_for(lambda: next(iter(receipts_of(printer, "21,75")), None), 60, message="the first receipt")
    assert "Coxinha" in text and "Dinheiro" in text and "Cash" not in text
    wait_for(
        lambda: job_states(production["database_url"], first) == ["completed"], 30, message="the first job completed"
    )
    assert len(receipts_of(printer, "21,75")) == 1

    # Kill the daphne that holds the agent's socket: nginx sends the next sale to the other
    # one, and the agent reconnects through nginx.
    holder = next((server for server in production["servers"] if "WSCONNECT /ws/agent/" in server.log()), None)
    assert holder is not None, "no daphne logged the agent's connection"
    holder.kill()

    second = sell(browser, product, 2)
    text = wait_for(lambda: next(iter(receipts_of(printer, "14,50")), None), 90, message="the receipt after the kill")
    assert "Coxinha" in text
    wait_for(
        lambda: job_states(production["database_url"], second) == ["completed"], 30, message="the second job completed"
    )
    assert len(receipts_of(printer, "14,50")) == 1
    assert len(receipts_of(printer, "21,75")) == 1, "the first receipt printed again"
    assert production["agent"].alive
