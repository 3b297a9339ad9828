"""The local print server's parts: settings, raw data, rendering without Django, the journal of
local jobs and the ``local_job`` report. The listeners themselves are tested end to end in
tests/e2e/test_local_listener*.py."""

import json
import subprocess
import sys

import pytest

from agent.client import local_job_message
from agent.config import ConfigError, Settings, normalize_origin, parse_listen, validate
from agent.journal import Journal
from agent.local import raw_bytes
from tests.agent.agent_support import REPO, agent_env


@pytest.mark.parametrize(
    "value, expected",
    [
        ("8989", ("127.0.0.1", 8989)),
        ("127.0.0.1:8766", ("127.0.0.1", 8766)),
        ("localhost:8765", ("localhost", 8765)),
        ("[::1]:8989", ("::1", 8989)),
        ("0.0.0.0:8766", ("0.0.0.0", 8766)),
    ],
)
def test_listen_addresses(value, expected):
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["", "host:", "host:99999", "http://x:1", "abc"])
def test_bad_listen_addresses_say_what_is_expected(value):
    with pytest.raises(ConfigError, match="PORT or HOST:PORT"):
        parse_listen(value)


def test_listening_beyond_loopback_needs_a_local_token():
    with pytest.raises(ConfigError, match="other machines print: set --local-token"):
        validate(Settings(printer="fake://x", listen=["0.0.0.0:8766"]))
    validate(Settings(printer="fake://x", listen=["0.0.0.0:8766"], local_token="long-enough-secret"))


@pytest.mark.parametrize(
    "value, expected",
    [
        ("https://POS.Example.com/", "https://pos.example.com"),
        ("http://localhost:80", "http://localhost"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("null", "null"),
    ],
)
def test_origins_are_compared_as_browsers_send_them(value, expected):
    assert normalize_origin(value) == expected


@pytest.mark.parametrize("value", ["pos.example.com", "https://pos.example.com/app", "ftp://x", "*"])
def test_an_origin_with_a_path_or_without_a_scheme_is_a_config_error(value):
    with pytest.raises(ConfigError, match="allowed origin"):
        normalize_origin(value)


def test_list_settings_come_comma_separated_from_the_environment(tmp_path):
    from agent.config import load_settings

    settings, _ = load_settings(
        {"config": None},
        {
            "CANTINA_LISTEN": "127.0.0.1:8989, 8766",
            "CANTINA_ALLOW_ORIGIN": "https://a.example,http://b.example:8080",
            "CANTINA_CONFIG": "",
            "XDG_CONFIG_HOME": str(tmp_path),
        },
    )
    assert settings.listen_addresses == [("127.0.0.1", 8989), ("127.0.0.1", 8766)]
    assert settings.allow_origin == ["https://a.example", "http://b.example:8080"]


def test_raw_data_one_string_is_sent_byte_for_byte():
    tspl = 'SIZE 40 mm, 30 mm\nCLS\nTEXT 10,10,"3",0,1,1,"Açúcar"\nPRINT 1\n'
    assert raw_bytes([tspl]) == tspl.encode("utf-8")
    assert raw_bytes(tspl) == tspl.encode("utf-8")


def test_raw_data_several_strings_are_command_lines():
    assert raw_bytes(["CLS", "PRINT 1,1\r\n"]) == b"CLS\r\nPRINT 1,1\r\n"


def test_raw_data_binary_items_in_base64():
    assert raw_bytes([{"base64": "G0AbYQE="}]) == b"\x1b@\x1ba\x01"


@pytest.mark.parametrize("data", [None, [], [""], [1, 2], {"x": 1}, [{"base64": "not base64!"}]])
def test_raw_data_that_cannot_be_printed(data):
    assert raw_bytes(data) is None


def test_local_jobs_cut_off_by_a_crash_are_interrupted_and_waiting_ones_failed(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3", "scope")
    common = dict(
        printer="tcp://p",
        source="ticket-daemon",
        kind="document",
        client_ref="t",
        origin="",
        content="text",
        byte_count=3,
        sha256="abc",
    )
    journal.local_add(local_id="a" * 32, **common)
    journal.local_add(local_id="b" * 32, **common)
    journal.local_add(local_id="c" * 32, **common)
    journal.local_started("a" * 32)
    journal.local_started("c" * 32)
    journal.local_finish("c" * 32, "completed")
    journal.close()

    journal = Journal(tmp_path / "journal.sqlite3", "scope")  # the agent restarts
    interrupted, dropped = journal.local_recover("tcp://p")
    assert interrupted == ["a" * 32] and dropped == ["b" * 32]
    states = {entry.local_id[0]: (entry.state, entry.error_code) for entry in journal.local_unreported("tcp://p")}
    assert states == {"a": ("interrupted", "interrupted"), "b": ("failed", "agent_stopped"), "c": ("completed", "")}
    journal.local_mark_reported("a" * 32, "interrupted")
    journal.local_mark_reported("b" * 32, "completed")  # a stale confirmation changes nothing
    assert sorted(e.local_id[0] for e in journal.local_unreported("tcp://p")) == ["b", "c"]
    assert journal.local_recover("tcp://p") == ([], [])


def test_local_job_message_carries_the_history_and_fits_the_servers_limit(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite3", "scope")
    journal.local_add(
        local_id="d" * 32,
        printer="tcp://p",
        source="cantina-virtual",
        kind="order",
        client_ref="pedido #7",
        origin="https://pos.example",
        content="x" * 100_000,
        byte_count=10,
        sha256="f" * 64,
    )
    journal.local_started("d" * 32)
    journal.local_finish("d" * 32, "completed")
    message = local_job_message(journal.local_get("d" * 32))
    assert message["type"] == "local_job" and message["status"] == "completed"
    assert message["client"] == {"ref": "pedido #7", "origin": "https://pos.example"}
    assert [event["status"] for event in message["events"]] == ["pending", "printing", "completed"]
    assert len(json.dumps(message).encode()) < 64 * 1024


NO_DJANGO_RENDER = r"""
import sys
sys.modules["django"] = None  # `import django` now fails, as on a canteen PC
from agent.render import PrinterSpec, render_document, render_order
order = {"number": "12", "cliente": "Conceição", "canal": "agendado", "retirada": "2026-11-30T12:30:00-03:00",
         "itens": [{"nome": "Pão de queijo", "quantidade": "3", "preco": "1.234,50"}]}
receipt = render_order(order, PrinterSpec(name="x", paper_width=58))
document = render_document({"commands": [{"type": "text", "data": {"content": "Olá"}}]}, PrinterSpec(name="x"))
print(receipt.text)
print("BYTES", len(receipt.data), len(document.data))
print("MODULES", sorted({name.split(".")[0] for name, module in sys.modules.items()
                         if module is not None and name.split(".")[0] in ("django", "orders", "cantina")}))
"""


def test_receipts_and_documents_render_with_django_unimportable(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", NO_DJANGO_RENDER],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=agent_env(tmp_path),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("PEDIDO #12", "Conceição", "Pão de queijo", "Agendado", "R$ 3.703,50", "30/11 12:30"):
        assert expected in out, (expected, out)
    assert "MODULES []" in out


def test_unreported_local_jobs_page_through_equal_timestamps(tmp_path, monkeypatch):
    import agent.journal as journal_module

    monkeypatch.setattr(journal_module.time, "time", lambda: 1000.0)  # a coarse clock: every job at once
    journal = Journal(tmp_path / "journal.sqlite3", "scope")
    for n in range(5):
        journal.local_add(
            local_id=f"{n:032d}",
            printer="p",
            source="s",
            kind="raw",
            client_ref="",
            origin="",
            content="",
            byte_count=1,
            sha256="x",
        )
        journal.local_finish(f"{n:032d}", "completed")
    seen, after = [], None
    while page := journal.local_unreported("p", after=after, limit=2):
        seen += [entry.local_id for entry in page]
        after = page[-1]
    assert seen == [f"{n:032d}" for n in range(5)]
