"""Brazilian Portuguese by default, English, Spanish or Chinese on request; money and job states as the canteen
says them; every message translated in all four."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from cantina import i18n_check, msgfmt
from printing.models import Printer, PrintJob

pytestmark = pytest.mark.django_db

LOCALE = Path(__file__).resolve().parents[2] / "locale"


@pytest.fixture(autouse=True, scope="module")
def compiled_translations():
    # .mo files are build output (gitignored): compile them as ./dev does, then reload the catalogues.
    msgfmt.main(LOCALE)
    translation.trans_real._translations.clear()
    translation.trans_real._default = None
    yield


@pytest.fixture
def portuguese_client(staff_user):
    client = Client()  # no Accept-Language: the default language
    client.force_login(staff_user)
    return client


def test_pages_speak_brazilian_portuguese_by_default(portuguese_client, products):
    body = portuguese_client.get("/").content.decode()
    assert '<html lang="pt-br">' in body
    for text in ("Balcão", "Agendados", "Impressoras", "Impressões", "Confirmar e imprimir", "Toque nos produtos"):
        assert text in body


def test_money_is_written_the_brazilian_way(portuguese_client, products, make_order):
    body = portuguese_client.get("/").content.decode()
    assert "R$ 4,50" in body and "R$ 7,25" in body
    assert re.search(
        r'<script id="money-format" type="application/json">\{"prefix": "R\$ ", "decimal": ",", "thousands": "\."\}',
        body,
    )


def test_english_is_selectable_with_the_language_switcher(portuguese_client, products):
    body = portuguese_client.get("/").content.decode()
    assert 'action="/i18n/setlang/"' in body
    response = portuguese_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    body = portuguese_client.get("/").content.decode()
    assert '<html lang="en">' in body
    assert "Confirm and print" in body and "R$ 4.50" in body


@pytest.mark.parametrize(
    "status, portuguese",
    [
        ("pending", "na fila"),
        ("sent", "enviado"),
        ("printing", "imprimindo"),
        ("completed", "impresso"),
        ("failed", "falhou"),
        ("cancelled", "cancelado"),
    ],
)
def test_job_states_are_named_in_portuguese(status, portuguese):
    with translation.override("pt-br"):
        assert str(PrintJob.Status(status).label) == portuguese


def test_live_labels_reach_the_page_in_the_readers_language(portuguese_client, products):
    body = portuguese_client.get("/").content.decode()
    config = re.search(r'<script id="live-config" type="application/json">(.*?)</script>', body).group(1)
    assert '"completed": "impresso"' in config
    assert '"paper_out": "sem papel"' in config
    assert '"offline": "offline"' in config


def test_printer_panel_speaks_portuguese(portuguese_client, make_printer):
    printer = make_printer("Cozinha")
    Printer.objects.filter(pk=printer.pk).update(connected=True, status="paper_out")
    body = portuguese_client.get("/printers/").content.decode()
    assert "sem papel" in body and "Imprimir teste" in body


def test_refusals_are_translated(portuguese_client, products):
    response = portuguese_client.post("/", {"product": [], "quantity": [], "payment_method": "cash"})
    assert "O pedido está vazio: adicione pelo menos um produto." in response.content.decode()


@pytest.fixture(scope="module")
def report():
    return i18n_check.check()


@pytest.mark.parametrize("language", list(i18n_check.CATALOGUES))
def test_every_message_of_the_project_is_translated(report, language):
    """Every msgid of the code, the templates and the Portuguese catalogue, in pt-br, en, es and zh-hans."""
    missing = [f"{entry.label()} ({' '.join(entry.references[:2])})" for entry in report.missing[language]]
    assert missing == [], (
        f"{len(missing)} message(s) untranslated in {language}: run `python -m cantina.i18n_check "
        f"--add-missing` and fill in the msgstr lines"
    )


@pytest.mark.parametrize("language", list(i18n_check.CATALOGUES))
def test_translations_keep_the_placeholders_of_their_msgid(report, language):
    assert [(entry.label(), problem) for entry, problem in report.placeholders[language]] == []
