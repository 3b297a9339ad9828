"""Agent settings: flags > environment > config file (TOML or JSON) > defaults."""

import json
import stat

import pytest

from agent.config import ConfigError, Settings, load_settings, read_config_file, redact_url, save_settings


def flags(**values):
    return values


def test_defaults_use_the_built_in_fake_printer(tmp_path):
    settings, path = load_settings(flags(), {"XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)})
    assert settings.printer == "fake://"
    assert settings.server is None and settings.token is None


def test_flags_beat_environment_beat_config_file(tmp_path):
    config = tmp_path / "agent.toml"
    config.write_text(
        'server = "ws://file:8000/ws/agent/"\ntoken = "file-token"\nprinter = "tcp://file:9100"\nprofile = "TM-T88V"\n'
    )
    env = {"CANTINA_CONFIG": str(config), "CANTINA_TOKEN": "env-token", "CANTINA_PRINTER": "tcp://env:9100"}

    settings, _ = load_settings(flags(printer="tcp://flag:9100"), env)

    assert settings.server == "ws://file:8000/ws/agent/"  # only in the file
    assert settings.token == "env-token"  # environment over file
    assert settings.printer == "tcp://flag:9100"  # flag over environment
    assert settings.profile == "TM-T88V"


def test_json_config_file_is_read(tmp_path):
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "server": "wss://cantina.example/ws/agent/",
                "token": "t",
                "printer": "usb://04b8:0e15",
                "journal": "/tmp/j.sqlite3",
            }
        )
    )
    settings, _ = load_settings(flags(config=str(config)), {})
    assert settings.printer == "usb://04b8:0e15"
    assert settings.journal == "/tmp/j.sqlite3"


@pytest.mark.parametrize(
    "content, message",
    [
        ('serer = "ws://x/"', "unknown setting"),
        ("server = ", "not valid TOML"),
        ('server = "http://x/"', "ws:// or wss://"),
        ('printer = "lpt1"', "printer"),
        ('profile = "NoSuchPrinter"', "unknown printer profile"),
        ("token = 5", "must be a string"),
    ],
)
def test_bad_config_file_raises_a_clear_error(tmp_path, content, message):
    config = tmp_path / "config.toml"
    config.write_text(content + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(flags(config=str(config)), {})


def test_explicit_missing_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(flags(config=str(tmp_path / "nope.toml")), {})


@pytest.mark.parametrize("name", ["config.toml", "config.json"])
def test_saved_settings_remember_the_chosen_printer(tmp_path, name):
    path = tmp_path / "dir" / name
    settings = Settings(
        server="ws://h:8000/ws/agent/", token='to"ken', printer="tcp://10.0.0.9:9100", profile="TM-T20II"
    )
    save_settings(settings, path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it holds the token
    loaded, _ = load_settings(flags(config=str(path)), {})
    assert (loaded.server, loaded.token, loaded.printer, loaded.profile) == (
        "ws://h:8000/ws/agent/",
        'to"ken',
        "tcp://10.0.0.9:9100",
        "TM-T20II",
    )
    assert read_config_file(path)["printer"] == "tcp://10.0.0.9:9100"


def test_redacted_server_url_hides_query_token_and_password():
    assert redact_url("wss://u:pw@cantina.example:8443/ws/agent/?token=abc") == "wss://cantina.example:8443/ws/agent/"


def test_journal_scope_is_server_and_printer_without_token():
    settings = Settings(server="ws://h/ws/agent/?token=secret", token="secret", printer="tcp://p:9100")
    assert settings.journal_scope == "ws://h/ws/agent/|tcp://p:9100"
