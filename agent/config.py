"""Agent settings: command-line flags > environment variables > config file > defaults.

The config file is TOML (``.toml``) or JSON (any other name) with the keys of
:data:`FILE_KEYS`. ``--save-config`` writes the effective settings back to it, so the agent
remembers the chosen printer (as the old local print bridge did with ``config.JSON``).
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from agent.printers import PrinterURLError, open_printer

ENVIRONMENT = {
    "server": "CANTINA_SERVER",
    "token": "CANTINA_TOKEN",
    "printer": "CANTINA_PRINTER",
    "profile": "CANTINA_PROFILE",
    "journal": "CANTINA_JOURNAL",
    "log_file": "CANTINA_LOG_FILE",
    "listen": "CANTINA_LISTEN",
    "allow_origin": "CANTINA_ALLOW_ORIGIN",
    "local_token": "CANTINA_LOCAL_TOKEN",
    "queue_capacity": "CANTINA_QUEUE_CAPACITY",
    "ca_file": "CANTINA_CA_FILE",
    "shop_name": "CANTINA_SHOP_NAME",
}
# Settings that hold several values: a list in the config file, comma-separated elsewhere.
LIST_SETTINGS = ("listen", "allow_origin")
DEFAULT_LISTEN = "127.0.0.1:8989"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
CONFIG_ENVIRONMENT = "CANTINA_CONFIG"


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


@dataclass
class Settings:
    server: str | None = None
    token: str | None = None
    printer: str = "fake://"
    profile: str | None = None
    journal: str | None = None
    log_file: str | None = None
    name: str | None = None
    status_interval: float = 3.0
    listen: list[str] = field(default_factory=list)  # ["HOST:PORT", ...] local WebSocket listeners
    allow_origin: list[str] = field(default_factory=list)  # browser Origins allowed on the listeners
    local_token: str | None = None
    queue_capacity: int = 100
    ca_file: str | None = None
    shop_name: str | None = None

    @property
    def listen_addresses(self) -> list[tuple[str, int]]:
        return [parse_listen(value) for value in self.listen]

    @property
    def server_display(self) -> str:
        return redact_url(self.server) if self.server else "(none)"

    @property
    def journal_scope(self) -> str:
        """Job ids are per server and per printer: the journal keys rows by both."""
        return f"{redact_url(self.server or '')}|{self.printer}"


FILE_KEYS = tuple(f.name for f in fields(Settings))


def _state_dir() -> Path:
    if sys.platform.startswith("win"):
        return Path(os.environ.get("LOCALAPPDATA", Path.home())) / "cantina-agent"
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "cantina-agent"


def _config_dir() -> Path:
    if sys.platform.startswith("win"):
        return Path(os.environ.get("APPDATA", Path.home())) / "cantina-agent"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "cantina-agent"


def default_journal_path() -> Path:
    return _state_dir() / "journal.sqlite3"


def default_config_path() -> Path:
    """The first existing of ``config.toml`` / ``config.json`` in the user config dir."""
    for name in ("config.toml", "config.json"):
        if (_config_dir() / name).exists():
            return _config_dir() / name
    return _config_dir() / "config.toml"


def redact_url(url: str) -> str:
    """The URL without its query string and password (the token may travel in ``?token=``)."""
    try:
        parts = urlsplit(url)
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return "(unparsable URL)"


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        if path.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"config file {path} is not valid {path.suffix.lstrip('.').upper() or 'JSON'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a table/object of settings")
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)} in {path}; known: {', '.join(FILE_KEYS)}")
    return data


def load_settings(flags: dict[str, Any], environ: Mapping[str, str] | None = None) -> tuple[Settings, Path]:
    """Merge defaults, config file, environment and flags (``None`` flags are unset).

    Returns the settings and the config file path (which may not exist).
    """
    env: Mapping[str, str] = os.environ if environ is None else environ
    explicit = flags.get("config") or env.get(CONFIG_ENVIRONMENT)
    config_path = Path(explicit).expanduser() if explicit else default_config_path()
    values: dict[str, Any] = {}
    if config_path.exists():
        values.update(read_config_file(config_path))
    elif explicit and not flags.get("save_config"):
        raise ConfigError(f"config file {config_path} does not exist")
    for key, variable in ENVIRONMENT.items():
        if env.get(variable):
            values[key] = env[variable]
    for key in FILE_KEYS:
        if flags.get(key) is not None:
            values[key] = flags[key]
    for key in LIST_SETTINGS:
        value = values.get(key)
        if isinstance(value, str):
            values[key] = [part.strip() for part in value.split(",") if part.strip()]
    settings = Settings(**values)
    validate(settings)
    return settings, config_path


def validate(settings: Settings) -> None:
    for key in ("server", "token", "printer", "profile", "journal", "log_file", "name"):
        value = getattr(settings, key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"setting {key!r} must be a string, got {value!r}")
    if settings.server is not None:
        parts = urlsplit(settings.server)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise ConfigError(
                f"server must be a ws:// or wss:// URL such as ws://HOST:8000/ws/agent/, "
                f"got {redact_url(settings.server)!r}"
            )
    if settings.token is not None and (not settings.token.strip() or any(c.isspace() for c in settings.token)):
        raise ConfigError("token is empty or contains spaces; copy it from `manage.py printer_token`")
    try:
        open_printer(settings.printer)
    except PrinterURLError as exc:
        raise ConfigError(f"printer: {exc}") from None
    if settings.profile:
        from escpos.capabilities import get_profile

        try:
            get_profile(settings.profile)
        except Exception:
            raise ConfigError(
                f"unknown printer profile {settings.profile!r} (python-escpos profile names, e.g. TM-T88V)"
            ) from None
    try:
        settings.status_interval = float(settings.status_interval)
    except (TypeError, ValueError):
        raise ConfigError(f"status_interval must be a number of seconds, got {settings.status_interval!r}") from None
    if not 0.05 <= settings.status_interval <= 600:
        raise ConfigError("status_interval must be between 0.05 and 600 seconds")
    for key in ("local_token", "ca_file", "shop_name"):
        value = getattr(settings, key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"setting {key!r} must be a string, got {value!r}")
    for key in LIST_SETTINGS:
        value = getattr(settings, key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"setting {key!r} must be a list of strings (or a comma-separated string)")
    addresses = [parse_listen(value) for value in settings.listen]
    if len(set(addresses)) != len(addresses):
        raise ConfigError("the same listen address is given twice")
    exposed = [f"{host}:{port}" for host, port in addresses if host not in LOOPBACK_HOSTS]
    if exposed and not settings.local_token:
        raise ConfigError(
            f"listening on {', '.join(exposed)} lets other machines print: set --local-token / "
            "CANTINA_LOCAL_TOKEN, or listen on 127.0.0.1 only"
        )
    settings.allow_origin = [normalize_origin(value) for value in settings.allow_origin]
    if settings.local_token is not None and (
        len(settings.local_token) < 8 or any(c.isspace() for c in settings.local_token)
    ):
        raise ConfigError("local_token must be at least 8 characters, without spaces")
    try:
        settings.queue_capacity = int(settings.queue_capacity)
    except (TypeError, ValueError):
        raise ConfigError(f"queue_capacity must be a whole number, got {settings.queue_capacity!r}") from None
    if not 1 <= settings.queue_capacity <= 10_000:
        raise ConfigError("queue_capacity must be between 1 and 10000")
    if settings.ca_file is not None:
        path = Path(settings.ca_file).expanduser()
        if not path.is_file():
            raise ConfigError(f"ca_file {settings.ca_file!r} does not exist (a PEM file with your CA's certificate)")
        import ssl

        try:
            ssl.create_default_context(cafile=str(path))
        except (ssl.SSLError, OSError, ValueError) as exc:
            raise ConfigError(f"ca_file {settings.ca_file!r} is not a PEM certificate file: {exc}") from None


def parse_listen(value: str) -> tuple[str, int]:
    """``PORT``, ``HOST:PORT`` or ``[IPv6]:PORT`` → (host, port); the host defaults to 127.0.0.1."""
    text = str(value).strip()
    host = "127.0.0.1"
    port_text = text
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif ":" in text:
        host, _, port_text = text.rpartition(":")
    if not host:
        host = "127.0.0.1"
    if not text.startswith("[") and not all(c.isalnum() or c in ".-" for c in host):
        raise ConfigError(f"listen address {value!r} must be PORT or HOST:PORT, e.g. 127.0.0.1:8989")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ConfigError(f"listen address {value!r} must be PORT or HOST:PORT, e.g. 127.0.0.1:8989")
    return host, int(port_text)


def normalize_origin(value: str) -> str:
    """An Origin as browsers send it: ``scheme://host[:port]``, lower case, no path."""
    text = str(value).strip()
    if text == "null":
        return text
    parts = urlsplit(text)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username
    ):
        raise ConfigError(
            f"allowed origin {value!r} must look like http://HOST[:PORT] or https://HOST[:PORT] (no path)"
        )
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"allowed origin {value!r} has a bad port") from None
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def token_in_url(url: str | None) -> bool:
    return url is not None and "token" in parse_qs(urlsplit(url).query)


def require_connection(settings: Settings, *, standalone_ok: bool = False) -> None:
    """Running or checking needs a server and a token (``--token``, or ``?token=`` in the URL);
    an agent that listens for local clients may run without a server (a local print server)."""
    if standalone_ok and settings.listen and not settings.server:
        return
    missing = []
    if not settings.server:
        missing.append(
            "--server / CANTINA_SERVER" + (" (or --listen for a local print server)" if standalone_ok else "")
        )
    if not settings.token and not token_in_url(settings.server):
        missing.append("--token / CANTINA_TOKEN")
    if missing:
        raise ConfigError(f"missing {' and '.join(missing)}")


def save_settings(settings: Settings, path: Path) -> None:
    """Write the settings (token included) to ``path``, readable by the owner only."""
    values = {
        key: value
        for key, value in asdict(settings).items()
        if value is not None and value != [] and value != getattr(Settings, key, None)
    }
    for key in ("server", "token", "printer"):
        if getattr(settings, key) is not None:
            values[key] = getattr(settings, key)
    if path.suffix.lower() == ".toml":
        text = "".join(f"{key} = {json.dumps(value, ensure_ascii=False)}\n" for key, value in values.items())
    else:
        text = json.dumps(values, indent=2, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text)
