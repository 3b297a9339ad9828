"""deploy/: the nginx site passes nginx -t, the systemd units pass systemd-analyze verify, the
environment file reads the same in systemd and in sh (deploy/cantina-manage)."""

import subprocess
from pathlib import Path

import pytest

from tools.deploy import (
    DEPLOY,
    make_certificate,
    nginx_command,
    read_environment_file,
    render_unit,
    require_binary,
    unit_exec_start,
    write_nginx_config,
)
from tools.processes import REPO

UNITS = ["cantina@.service", "cantina-maintenance.service", "cantina-agent.service"]


def test_the_nginx_site_passes_nginx_t(tmp_path):
    require_binary("nginx", "nginx")
    _ca, cert, key = make_certificate(tmp_path / "tls")
    (tmp_path / "static").mkdir()
    main = write_nginx_config(
        tmp_path / "nginx",
        http_port=8080,
        https_port=8443,
        upstream_ports=[8001, 8002],
        cert=cert,
        key=key,
        static_dir=tmp_path / "static",
    )

    result = subprocess.run(nginx_command(tmp_path / "nginx", main, "-t"), capture_output=True, text=True, timeout=60)

    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_the_nginx_site_sets_the_headers_that_matter():
    site = (DEPLOY / "nginx-cantina.conf").read_text()
    # Both proxied locations (WebSockets and the rest) send the same client facts.
    for header in ("Host $http_host", "X-Forwarded-For $remote_addr", "X-Forwarded-Proto $scheme"):
        assert site.count(f"proxy_set_header {header};") == 2, header
    assert "X-Forwarded-For $proxy_add_x_forwarded_for" not in site  # daphne would log the client's claim
    assert "client_header_timeout 10s;" in site
    assert "return 301 https://" in site
    assert "listen 443" not in site and "listen 80" not in site  # addresses are explicit


@pytest.mark.parametrize("unit", UNITS)
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path, unit):
    analyze = require_binary("systemd-analyze", "systemd")
    # Paths must exist for verify (ExecStart): the install paths become this checkout.
    rendered = tmp_path / unit
    rendered.write_text(render_unit(unit))
    targets = [str(rendered)]
    if unit.endswith("@.service"):
        targets.append(str(tmp_path / unit.replace("@.", "@8001.")))

    result = subprocess.run([analyze, "verify", *targets], capture_output=True, text=True, timeout=60, cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    # Unknown keys or sections are only warnings for verify: none is acceptable here.
    assert result.stdout.strip() == "" and result.stderr.strip() == "", result.stdout + result.stderr


def test_the_server_unit_runs_daphne_behind_the_proxy_on_its_instance_port():
    command = unit_exec_start("cantina@.service", 8003)
    assert Path(command[0]) == REPO / ".venv" / "bin" / "daphne"
    assert command[command.index("--port") + 1] == "8003"
    assert command[command.index("--bind") + 1] == "127.0.0.1"
    assert "--proxy-headers" in command
    assert command[command.index("--websocket_timeout") + 1] == "-1"
    assert command[-1] == "cantina.asgi:application"
    unit = render_unit("cantina@.service")
    assert "EnvironmentFile=/etc/cantina/cantina.env" in unit
    assert "Restart=on-failure" in unit


def test_the_agent_unit_keeps_the_token_off_the_command_line():
    unit = (DEPLOY / "cantina-agent.service").read_text()
    command = unit_exec_start("cantina-agent.service")
    assert "--token" not in command
    assert "EnvironmentFile=/etc/cantina-agent/agent.env" in unit
    assert "CANTINA_TOKEN=" in (DEPLOY / "agent.env.example").read_text()


@pytest.mark.parametrize("example", ["cantina.env.example", "agent.env.example"])
def test_environment_files_read_the_same_in_systemd_and_sh(example):
    path = DEPLOY / example
    systemd_view = read_environment_file(path)
    script = f"set -a; . {path}; set +a; env -0"
    result = subprocess.run(["sh", "-c", script], capture_output=True, timeout=30, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    shell_view = dict(item.split("=", 1) for item in result.stdout.decode().split("\0") if "=" in item)
    assert {key: shell_view.get(key) for key in systemd_view} == systemd_view


def test_every_setting_of_the_environment_example_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for key in read_environment_file(DEPLOY / "cantina.env.example"):
        assert f"`{key}`" in readme, key


def test_every_environment_variable_of_the_settings_is_in_the_readme_table():
    import re

    settings_source = (REPO / "cantina" / "settings.py").read_text()
    names = set(re.findall(r"""(?:env_\w+|os\.getenv)\(\s*["']([A-Z][A-Z0-9_]+)["']""", settings_source))
    assert {"DJANGO_DEBUG", "CANTINA_VAR_DIR", "DJANGO_SECURE_HSTS_SECONDS"} <= names  # the regex finds them
    readme = (REPO / "README.md").read_text()
    table = [line for line in readme.splitlines() if line.startswith("| `")]
    missing = sorted(name for name in names if not any(f"`{name}`" in row for row in table))
    assert missing == [], f"settings missing from the README's configuration table: {missing}"
