"""The translation sweep (python -m cantina.i18n_check) finds what is missing, and it agrees with
what Django and GNU gettext read from the catalogues cantina.msgfmt compiles."""

import gettext
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.utils.translation import to_locale

from cantina import i18n_check, msgfmt

REPO = Path(__file__).resolve().parents[1]
needs_gettext = pytest.mark.skipif(
    not i18n_check.gettext_available(), reason="GNU gettext is not installed (apt-get install gettext); CI installs it"
)

HEADER = textwrap.dedent("""\
    msgid ""
    msgstr ""
    "Content-Type: text/plain; charset=UTF-8\\n"
    "Plural-Forms: {plural}\\n"
    """)


def write_catalogue(root, language, entries, plural="nplurals=2; plural=(n != 1);"):
    path = root / "locale" / i18n_check.CATALOGUES[language] / "LC_MESSAGES" / "django.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER.format(plural=plural) + "\n" + textwrap.dedent(entries), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path):
    """A tiny project: one module with three messages, four catalogues that translate them all."""
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "views.py").write_text(
        textwrap.dedent("""\
        from django.utils.translation import gettext as _, ngettext, pgettext

        def page(count, number):
            return [_("Order %(number)s confirmed.") % {"number": number},
                    pgettext("printer state", "online"),
                    ngettext("%(count)d job", "%(count)d jobs", count) % {"count": count},
                    f"*** {_('REIMPRESSÃO')} ***"]
        """)
    )
    common = """
        msgctxt "printer state"
        msgid "online"
        msgstr "{online}"

        msgid "%(count)d job"
        msgid_plural "%(count)d jobs"
        {plural}

        msgid "REIMPRESSÃO"
        msgstr "{reprint}"

        #, python-format
        msgid "Order %(number)s confirmed."
        msgstr "{confirmed}"
    """
    write_catalogue(
        tmp_path,
        "pt-br",
        common.format(
            online="online",
            reprint="REIMPRESSÃO",
            confirmed="Pedido %(number)s confirmado.",
            plural='msgstr[0] "%(count)d impressão"\n        msgstr[1] "%(count)d impressões"',
        ),
    )
    write_catalogue(
        tmp_path,
        "es",
        common.format(
            online="en línea",
            reprint="REIMPRESIÓN",
            confirmed="Pedido %(number)s confirmado.",
            plural='msgstr[0] "%(count)d impresión"\n        msgstr[1] "%(count)d impresiones"',
        ),
    )
    write_catalogue(
        tmp_path,
        "zh-hans",
        common.format(
            online="在线", reprint="重印", confirmed="订单 %(number)s 已确认。", plural='msgstr[0] "%(count)d 个任务"'
        ),
        plural="nplurals=1; plural=0;",
    )
    # English is the source language: only the Portuguese message id needs an entry.
    write_catalogue(
        tmp_path,
        "en",
        """
        msgid "REIMPRESSÃO"
        msgstr "REPRINT"
    """,
    )
    return tmp_path


def test_a_project_translated_everywhere_is_reported_complete(project):
    report = i18n_check.check(project)
    assert report.missing == {language: [] for language in i18n_check.CATALOGUES}
    assert report.placeholders == {language: [] for language in i18n_check.CATALOGUES}
    assert report.ok


def test_a_message_missing_from_one_catalogue_is_reported_for_that_language(project):
    path = project / "locale" / "es" / "LC_MESSAGES" / "django.po"
    path.write_text(path.read_text(encoding="utf-8").replace('msgstr "en línea"', 'msgstr ""'), encoding="utf-8")
    report = i18n_check.check(project)
    assert [entry.label() for entry in report.missing["es"]] == ["[printer state] online"]
    assert report.missing["zh-hans"] == [] and not report.ok


def test_fuzzy_and_half_translated_plurals_count_as_missing(project):
    path = project / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"
    text = path.read_text(encoding="utf-8")
    text = text.replace('#, python-format\nmsgid "Order', '#, fuzzy, python-format\nmsgid "Order')
    text = text.replace('msgstr[1] "%(count)d impressões"', 'msgstr[1] ""')
    path.write_text(text, encoding="utf-8")
    missing = [entry.msgid for entry in i18n_check.check(project).missing["pt-br"]]
    assert sorted(missing) == ["%(count)d job", "Order %(number)s confirmed."]


@needs_gettext
def test_a_new_message_in_the_code_is_missing_everywhere_until_translated(project):
    (project / "shop" / "forms.py").write_text(
        'from django.utils.translation import gettext_lazy as _\nLABEL = _("Pickup day")\n'
    )
    (project / "templates").mkdir()
    (project / "templates" / "page.html").write_text('{% load i18n %}<p>{% translate "Tap the products" %}</p>\n')
    report = i18n_check.check(project)
    for language in ("pt-br", "es", "zh-hans"):
        assert sorted(entry.msgid for entry in report.missing[language]) == ["Pickup day", "Tap the products"]
    assert report.missing["en"] == [], "English msgids are their own English"


def test_english_must_translate_messages_written_in_portuguese(project):
    write_catalogue(project, "en", "")
    assert [entry.msgid for entry in i18n_check.check(project).missing["en"]] == ["REIMPRESSÃO"]


def test_messages_inside_f_strings_are_found(project):
    # xgettext skips f-strings; the receipt labels live in them.
    found = i18n_check.extract_python_calls(project)
    assert (None, "REIMPRESSÃO") in found and found[(None, "REIMPRESSÃO")].references == ["shop/views.py:7"]


@pytest.mark.parametrize(
    "msgid, msgstr, problem",
    [
        ("Order %(number)s confirmed.", "Pedido %(numero)s confirmado.", "['%(numero)s'] instead of ['%(number)s']"),
        ("Order %(number)s confirmed.", "Pedido confirmado.", "[] instead of ['%(number)s']"),
        ("{count} in queue", "{contador} en cola", "['{contador}'] instead of ['{count}']"),
        ("Replace <code>%(x)s</code>.", "Reemplace %(x)s.", "['%(x)s'] instead of ['%(x)s', '</code>', '<code>']"),
    ],
)
def test_placeholders_and_markup_must_match_the_msgid(msgid, msgstr, problem):
    entry = i18n_check.Entry(msgid=msgid, msgstr=[msgstr])
    assert i18n_check.placeholder_problems(entry) == [problem]
    # Reordered placeholders are fine: a language may put them elsewhere.
    assert i18n_check.placeholder_problems(i18n_check.Entry(msgid="%(a)s of %(b)s", msgstr=["%(b)s 的 %(a)s"])) == []


def test_a_chinese_plural_has_one_form_with_every_placeholder():
    entry = i18n_check.Entry(
        msgid="%(count)d job (%(ids)s)", msgid_plural="%(count)d jobs (%(ids)s)", msgstr=["%(count)d 个任务"]
    )
    assert i18n_check.placeholder_problems(entry) == ["msgstr[0] has ['%(count)d'], not ['%(count)d', '%(ids)s']"]


def test_add_missing_appends_empty_entries_to_fill_in(project):
    (project / "shop" / "more.py").write_text(
        "from django.utils.translation import gettext as _, ngettext\n"
        'A = _("Pickup day")\nB = ngettext("%(n)d order", "%(n)d orders", 2)\n'
    )
    report = i18n_check.check(project)
    added = i18n_check.add_missing(report, project)
    assert added == {"pt-br": 2, "en": 0, "es": 2, "zh-hans": 2}
    chinese = (project / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert chinese.endswith('msgid "%(n)d order"\nmsgid_plural "%(n)d orders"\nmsgstr[0] ""\n')
    spanish = (project / "locale" / "es" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert '#: shop/more.py:2\nmsgid "Pickup day"\nmsgstr ""\n' in spanish and 'msgstr[1] ""' in spanish
    # Still missing (empty), and adding again appends nothing twice.
    assert len(i18n_check.check(project).missing["es"]) == 2
    assert i18n_check.add_missing(i18n_check.check(project), project)["es"] == 0


def test_the_command_lists_missing_messages_and_fails(project, capsys):
    write_catalogue(project, "en", "")
    assert i18n_check.main([], root=project) == 1
    out = capsys.readouterr().out
    assert "en (locale/en/LC_MESSAGES/django.po): 1 missing" in out and "  missing: REIMPRESSÃO" in out
    assert "es (locale/es/LC_MESSAGES/django.po): 0 missing" in out
    write_catalogue(project, "en", 'msgid "REIMPRESSÃO"\nmsgstr "REPRINT"\n')
    assert i18n_check.main([], root=project) == 0


# --- the project's own catalogues --------------------------------------------------------------


@needs_gettext
def test_the_project_messages_are_extracted_from_the_code():
    messages, scanned = i18n_check.project_messages()
    assert scanned
    assert (None, "Confirm and print") in messages  # a template
    assert ("printer state", "out of paper") in messages  # pgettext in Python
    assert (None, "PEDIDO") in messages  # inside an f-string


@pytest.mark.parametrize("language", list(i18n_check.CATALOGUES))
def test_no_catalogue_is_fuzzy_or_holds_a_message_twice(language):
    path = i18n_check.catalogue_path(language)
    entries = i18n_check.parse_po(path.read_text(encoding="utf-8"))
    assert [entry.label() for entry in entries if entry.fuzzy] == []
    keys = [entry.key for entry in entries]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("language", list(i18n_check.CATALOGUES))
def test_cantina_msgfmt_compiles_what_gettext_reads(tmp_path, language):
    """cantina.msgfmt's .mo holds every translation of the catalogue, plural forms included."""
    source = i18n_check.catalogue_path(language)
    directory = to_locale(language)
    assert source.parent.parent.name == directory, "Django looks for zh-hans in locale/zh_Hans"
    target = tmp_path / directory / "LC_MESSAGES" / "django.po"
    target.parent.mkdir(parents=True)
    shutil.copy(source, target)
    msgfmt.main(tmp_path)
    with open(target.with_suffix(".mo"), "rb") as compiled:
        catalogue = gettext.GNUTranslations(compiled)
    for entry in i18n_check.read_catalogue(source).values():
        if not entry.translated:
            continue
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            assert catalogue._catalog[key] == entry.msgstr[0]
        else:
            assert [catalogue._catalog[(key, index)] for index in range(len(entry.msgstr))] == entry.msgstr
    if shutil.which("msgfmt"):
        result = subprocess.run(
            ["msgfmt", "--check", "-o", str(tmp_path / "gnu.mo"), str(source)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        with open(tmp_path / "gnu.mo", "rb") as compiled:
            gnu = gettext.GNUTranslations(compiled)._catalog
        # The header differs (GNU msgfmt drops POT-Creation-Date); every message must not.
        assert {k: v for k, v in gnu.items() if k != ""} == {k: v for k, v in catalogue._catalog.items() if k != ""}


def test_the_sweep_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "cantina.i18n_check", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and "--add-missing" in result.stdout
