"""The deploy/ files, rendered for loopback: nginx site, systemd units, environment file.

Every rewrite must match the deploy file exactly as many times as expected, so a change there
that the tests do not follow fails loudly instead of testing something else.
"""

import os
import shlex
import shutil
import subprocess
from pathlib import Path

from tools.processes import REPO

DEPLOY = REPO / "deploy"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def require_binary(path_or_name, package):
    """The binary's path; a missing one fails the test in CI (CI=true) and skips it elsewhere."""
    path = shutil.which(path_or_name) if path_or_name else None
    if path:
        return path
    import pytest

    message = f"{package} is not installed (apt-get install {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}: CI needs it")
    pytest.skip(message)


def rewrite(text, old, new, count=1):
    found = text.count(old)
    assert found == count, f"expected {old!r} {count} time(s) in the deploy file, found {found}"
    return text.replace(old, new)


def render_nginx_site(*, http_port, https_port, upstream_ports, cert, key, static_dir, server_name="localhost"):
    """deploy/nginx-cantina.conf with loopback ports, the test's certificate and static dir."""
    text = (DEPLOY / "nginx-cantina.conf").read_text()
    text = rewrite(text, "listen 0.0.0.0:80;", f"listen 127.0.0.1:{http_port};")
    text = rewrite(text, "    listen [::]:80;\n", "")
    text = rewrite(text, "listen 0.0.0.0:443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    text = rewrite(text, "    listen [::]:443 ssl;\n", "")
    # The redirect keeps the standard port's form; the test's HTTPS port is not 443.
    text = rewrite(text, "return 301 https://$host$request_uri;", f"return 301 https://$host:{https_port}$request_uri;")
    text = rewrite(text, "/etc/ssl/certs/print.example.com.pem", str(cert))
    text = rewrite(text, "/etc/ssl/private/print.example.com.key", str(key))
    text = rewrite(text, "server_name print.example.com;", f"server_name {server_name};", count=2)
    text = rewrite(text, "alias /var/lib/cantina/static/;", f"alias {static_dir}/;")
    upstream = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;\n" for port in upstream_ports)
    text = rewrite(
        text,
        "    server 127.0.0.1:8001 max_fails=1 fail_timeout=10s;\n    server 127.0.0.1:8002 max_fails=1 fail_timeout=10s;\n",
        upstream,
    )
    return text


def nginx_main_config(prefix, site_path):
    """A main nginx.conf that keeps everything (pid, logs, temp files) under ``prefix``."""
    prefix = Path(prefix)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)
    # As root, nginx's workers would switch to "nobody", who cannot read pytest's private
    # temporary directories (the static files).
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
error_log {prefix}/error.log info;
pid {prefix}/nginx.pid;
events {{ worker_connections 512; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    include {site_path};
}}
"""


def write_nginx_config(prefix, **site):
    """Write the site and its main config under ``prefix``; returns the main config's path."""
    prefix = Path(prefix)
    prefix.mkdir(parents=True, exist_ok=True)
    site_path = prefix / "cantina.conf"
    site_path.write_text(render_nginx_site(**site))
    main = prefix / "nginx.conf"
    main.write_text(nginx_main_config(prefix, site_path))
    return main


def nginx_command(prefix, main_config, *extra):
    return [NGINX, "-p", f"{prefix}/", "-e", f"{prefix}/error.log", "-c", str(main_config), *extra]


def make_certificate(directory, name="localhost"):
    """A private CA and a server certificate it signed for ``name`` and 127.0.0.1.

    Returns (ca_cert, server_cert, server_key) paths.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ca_key, ca_cert = directory / "ca.key", directory / "ca.pem"
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    extensions = directory / "server.ext"
    extensions.write_text(
        f"subjectAltName=DNS:{name},IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
    )

    def openssl(*args):
        result = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, f"openssl {' '.join(args)} failed:\n{result.stderr}"

    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        ca_key,
        "-out",
        ca_cert,
        "-days",
        "2",
        "-subj",
        "/CN=Cantina Test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={name}")
    openssl(
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        ca_cert,
        "-CAkey",
        ca_key,
        "-CAcreateserial",
        "-out",
        cert,
        "-days",
        "2",
        "-extfile",
        extensions,
    )
    return ca_cert, cert, key


def render_unit(name, *, checkout=REPO):
    """A deploy/ unit with the install paths (/srv/cantina, /opt/cantina-agent) replaced by ``checkout``."""
    text = (DEPLOY / name).read_text()
    return text.replace("/srv/cantina", str(checkout)).replace("/opt/cantina-agent", str(checkout))


def unit_exec_start(name, instance=None, *, checkout=REPO):
    """The unit's ExecStart as an argument list (``%i`` replaced by ``instance``)."""
    lines = [line for line in render_unit(name, checkout=checkout).splitlines() if line.startswith("ExecStart=")]
    assert len(lines) == 1, f"{name} should have one ExecStart line"
    command = lines[0].removeprefix("ExecStart=")
    if instance is not None:
        command = command.replace("%i", str(instance))
    assert "%" not in command, f"unexpanded specifier in {command!r}"
    return shlex.split(command)


def read_environment_file(path):
    """KEY=value lines as systemd's EnvironmentFile reads them (comments, blank lines, quotes)."""
    values = {}
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=value: {raw!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def render_environment_file(path, **overrides):
    """deploy/cantina.env.example with some values replaced (every key must exist there) or added."""
    lines = (DEPLOY / "cantina.env.example").read_text().splitlines()
    remaining = dict(overrides)
    out = []
    for line in lines:
        key = line.partition("=")[0]
        if not line.startswith("#") and key in remaining:
            out.append(f"{key}={remaining.pop(key)}")
        else:
            out.append(line)
    out += [f"{key}={value}" for key, value in remaining.items()]
    Path(path).write_text("\n".join(out) + "\n")
    return path


def unit_environment(name):
    """The unit's ``Environment=`` assignments."""
    values = {}
    for line in (DEPLOY / name).read_text().splitlines():
        if line.startswith("Environment="):
            for assignment in shlex.split(line.removeprefix("Environment=")):
                key, _, value = assignment.partition("=")
                values[key] = value
    return values
