"""Which messages of the project lack a translation, per language.

    .venv/bin/python -m cantina.i18n_check              # report; exit status 1 if anything is missing
    .venv/bin/python -m cantina.i18n_check --add-missing # also append empty entries to fill in

The project's messages are extracted from the code and templates the way ``makemessages`` does
(it runs on a temporary copy of the sources, so no catalogue in ``locale/`` is rewritten), plus the
translation calls inside Python f-strings (which xgettext skips) and every msgid already present in
the Brazilian Portuguese catalogue. Each language in
``CATALOGUES`` must then carry a non-empty, non-fuzzy translation of each message whose placeholders
(``%(name)s``, ``%s``, ``{count}``) and HTML tags are the msgid's.

English is the source language of the staff pages, so the English catalogue only has to translate
the messages written in Portuguese: the receipt labels (message ids of the files in ``PORTUGUESE_SOURCES``,
what prints by default) and any msgid with Portuguese letters.

``--add-missing`` appends, at the end of each catalogue, one block of entries with an empty
msgstr for the messages it lacks (with the msgid's source references and flags), so that whoever
translates only fills in the msgstr lines. Compile afterwards with ``python -m cantina.msgfmt``.

Needs GNU gettext (``xgettext``/``msguniq``, Debian package ``gettext``) for the extraction;
without it only the messages of the Portuguese catalogue are checked, and the report says so.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
# Language code → locale directory name (Django's to_locale: zh-hans → zh_Hans).
CATALOGUES = {"pt-br": "pt_BR", "en": "en", "es": "es", "zh-hans": "zh_Hans"}
SOURCE_LANGUAGE = "en"
# Files whose message ids are Brazilian Portuguese (what prints when no other language is active).
PORTUGUESE_SOURCES = ("printing/receipts.py", "printing/rendering/")
PORTUGUESE_LETTERS = re.compile(r"[ãõçÃÕÇáéíóúâêôàÁÉÍÓÚÂÊÔÀ]")
# Top-level directories never scanned for messages (tools, tests, build output, the agent, which
# runs without Django).
NOT_SCANNED = {
    ".git",
    ".venv",
    "venv",
    "var",
    "artifacts",
    "tests",
    "bench",
    "agent",
    "locale",
    "static",
    "node_modules",
    "dev",
    ".ci",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".mypy_cache",
    ".ruff_cache",
    "mutants",
}

PLACEHOLDER = re.compile(
    r"%\([A-Za-z_][A-Za-z0-9_]*\)[-#0+]*\d*(?:\.\d+)?[sdifr]|%[-#0+]*\d*(?:\.\d+)?[sdifr]|\{[A-Za-z_0-9]*\}"
)


@dataclass
class Entry:
    msgid: str
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=list)  # one item, or one per plural form
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)  # "#." extracted comments
    obsolete: bool = False

    @property
    def key(self):
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self):
        return "fuzzy" in self.flags

    @property
    def translated(self):
        return bool(self.msgstr) and all(self.msgstr) and not self.fuzzy

    def label(self):
        text = self.msgid if self.msgctxt is None else f"[{self.msgctxt}] {self.msgid}"
        return text.replace("\n", "\\n")


def parse_po(text: str) -> list[Entry]:
    """Entries of a .po file, header included (msgid ""), in file order."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    meta: dict[str, Any] = {"flags": set(), "references": [], "comments": [], "obsolete": False}
    key = None

    def flush():
        nonlocal fields, meta, key
        if "msgid" in fields:
            plural_keys = sorted((k for k in fields if k.startswith("msgstr[")), key=lambda k: int(k[7:-1]))
            msgstr = [fields[k] for k in plural_keys] if plural_keys else [fields.get("msgstr", "")]
            entries.append(
                Entry(
                    msgid=fields["msgid"],
                    msgctxt=fields.get("msgctxt"),
                    msgid_plural=fields.get("msgid_plural"),
                    msgstr=msgstr,
                    flags=meta["flags"],
                    references=meta["references"],
                    comments=meta["comments"],
                    obsolete=meta["obsolete"],
                )
            )
        fields, key = {}, None
        meta = {"flags": set(), "references": [], "comments": [], "obsolete": False}

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            continue
        if line.startswith("#"):
            if fields.get("msgstr") is not None or any(k.startswith("msgstr") for k in fields):
                flush()
            if line.startswith("#,"):
                meta["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#:"):
                meta["references"].extend(line[2:].split())
            elif line.startswith("#."):
                meta["comments"].append(line[2:].strip())
            continue
        try:
            if line.startswith('"'):
                if key is None:
                    raise ValueError("continuation line without a keyword")
                fields[key] += ast.literal_eval(line)
                continue
            keyword, _, value = line.partition(" ")
            if keyword in {"msgctxt", "msgid"} and any(k.startswith("msgstr") for k in fields):
                flush()
            if keyword not in {"msgctxt", "msgid", "msgid_plural", "msgstr"} and not re.fullmatch(
                r"msgstr\[\d+\]", keyword
            ):
                raise ValueError(f"unknown keyword {keyword!r}")
            key = keyword
            fields[key] = ast.literal_eval(value)
            meta["obsolete"] = meta["obsolete"] or obsolete
        except (ValueError, SyntaxError) as error:
            raise ValueError(f"line {number}: cannot read {raw!r} ({error})") from None
    flush()
    return entries


def read_catalogue(path: Path) -> dict:
    """{(msgctxt, msgid): Entry} of a catalogue, without its header and obsolete entries."""
    if not path.exists():
        return {}
    catalogue = {}
    for entry in parse_po(path.read_text(encoding="utf-8")):
        if entry.msgid == "" or entry.obsolete:
            continue
        if entry.key in catalogue:
            raise ValueError(f"{path}: {entry.label()!r} appears twice (msgfmt would refuse it)")
        catalogue[entry.key] = entry
    return catalogue


def catalogue_path(language: str, root: Path = ROOT) -> Path:
    return root / "locale" / CATALOGUES[language] / "LC_MESSAGES" / "django.po"


def gettext_available() -> bool:
    return all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge"))


def extract_messages(root: Path = ROOT) -> dict:
    """{(msgctxt, msgid): Entry} of every message in the code and templates, as makemessages sees them."""
    with tempfile.TemporaryDirectory(prefix="cantina-i18n-") as temp:
        copy = Path(temp) / "src"
        copy.mkdir()
        for item in sorted(root.iterdir()):
            if item.is_dir() and item.name not in NOT_SCANNED and not item.is_symlink():
                shutil.copytree(item, copy / item.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
        (copy / "locale").mkdir()
        env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
        result = subprocess.run(
            [sys.executable, "-m", "django", "makemessages", "--all", "--keep-pot", "--no-wrap"],
            check=False,
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        pot = copy / "locale" / "django.pot"
        if result.returncode != 0 or not pot.exists():
            raise RuntimeError(f"makemessages failed:\n{result.stdout}\n{result.stderr}")
        return read_catalogue(pot)


# Django's translation functions → (position of msgctxt, msgid, msgid_plural) in their arguments.
GETTEXT_CALLS = {
    "_": (None, 0, None),
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "gettext_noop": (None, 0, None),
    "N_": (None, 0, None),  # gettext_noop's usual alias (printing/history.py), unknown to makemessages
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}


def extract_python_calls(root: Path = ROOT) -> dict:
    """Messages of translation calls with literal arguments found by parsing the Python sources.

    xgettext does not look inside f-strings (``f"{_('PEDIDO')} {number}"``); this does.
    """
    import ast as python_ast

    messages: dict[tuple[str | None, str], Entry] = {}
    for directory in sorted(root.iterdir()):
        if not directory.is_dir() or directory.name in NOT_SCANNED or directory.is_symlink():
            continue
        for path in sorted(directory.rglob("*.py")):
            try:
                tree = python_ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            except (SyntaxError, UnicodeDecodeError):
                continue
            for node in python_ast.walk(tree):
                if not isinstance(node, python_ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name not in GETTEXT_CALLS:
                    continue
                positions = GETTEXT_CALLS[name]
                values: list[str | None] = []
                for position in positions:
                    if position is None:
                        values.append(None)
                        continue
                    argument = node.args[position] if position < len(node.args) else None
                    if not (isinstance(argument, python_ast.Constant) and isinstance(argument.value, str)):
                        break
                    values.append(argument.value)
                else:
                    msgctxt, msgid, msgid_plural = values
                    assert msgid is not None  # every GETTEXT_CALLS entry has a msgid position
                    reference = f"{path.relative_to(root).as_posix()}:{node.lineno}"
                    entry = messages.setdefault(
                        (msgctxt, msgid), Entry(msgid=msgid, msgctxt=msgctxt, msgid_plural=msgid_plural)
                    )
                    entry.references.append(reference)
                    if PLACEHOLDER.search(msgid):
                        entry.flags.add("python-format")
    return messages


def project_messages(root: Path = ROOT) -> tuple[dict, bool]:
    """All messages of the project (code + the Portuguese catalogue), and whether the code was scanned."""
    messages = {}
    for key, entry in read_catalogue(catalogue_path("pt-br", root)).items():
        messages[key] = Entry(
            msgid=entry.msgid,
            msgctxt=entry.msgctxt,
            msgid_plural=entry.msgid_plural,
            flags=entry.flags - {"fuzzy"},
            references=entry.references,
        )
    for key, entry in extract_python_calls(root).items():
        messages.setdefault(key, entry)
    scanned = gettext_available()
    if scanned:
        messages.update(extract_messages(root))  # makemessages' references and flags win
    return messages, scanned


def written_in_portuguese(entry: Entry) -> bool:
    sources = {reference.rsplit(":", 1)[0] for reference in entry.references}
    from_portuguese_source = any(source.startswith(PORTUGUESE_SOURCES) for source in sources)
    return from_portuguese_source or bool(PORTUGUESE_LETTERS.search(entry.msgid))


def needs_translation(language: str, entry: Entry) -> bool:
    return language != SOURCE_LANGUAGE or written_in_portuguese(entry)


MARKUP = re.compile(r"</?[A-Za-z][^<>]*>")


def placeholders(text: str) -> list[str]:
    """Format placeholders and HTML tags of a message, sorted (a translation may reorder them)."""
    return sorted(PLACEHOLDER.findall(text) + MARKUP.findall(text))


def placeholder_problems(entry: Entry) -> list[str]:
    """How a translation's placeholders differ from its msgid's (empty when they match)."""
    if not entry.translated:
        return []
    problems = []
    if entry.msgid_plural is None:
        if placeholders(entry.msgstr[0]) != placeholders(entry.msgid):
            problems.append(f"{placeholders(entry.msgstr[0])} instead of {placeholders(entry.msgid)}")
        return problems
    allowed = set(placeholders(entry.msgid)) | set(placeholders(entry.msgid_plural))
    for index, form in enumerate(entry.msgstr):
        extra = set(placeholders(form)) - allowed
        if extra:
            problems.append(f"msgstr[{index}] has {sorted(extra)}, not in the msgid")
    # The last form (the general plural; the only one in Chinese) must carry every placeholder.
    if placeholders(entry.msgstr[-1]) != placeholders(entry.msgid_plural):
        problems.append(
            f"msgstr[{len(entry.msgstr) - 1}] has {placeholders(entry.msgstr[-1])}, "
            f"not {placeholders(entry.msgid_plural)}"
        )
    return problems


@dataclass
class Report:
    scanned: bool
    missing: dict  # language → [Entry of the project lacking a translation]
    placeholders: dict  # language → [(Entry of the catalogue, problem)]
    unused: dict  # language → [Entry of the catalogue no longer in the project]

    @property
    def ok(self):
        return not any(self.missing.values()) and not any(self.placeholders.values())


def check(root: Path = ROOT, languages=None) -> Report:
    messages, scanned = project_messages(root)
    report = Report(scanned, {}, {}, {})
    for language in languages or CATALOGUES:
        catalogue = read_catalogue(catalogue_path(language, root))
        report.missing[language] = [
            entry
            for key, entry in messages.items()
            if needs_translation(language, entry) and not (key in catalogue and catalogue[key].translated)
        ]
        report.placeholders[language] = [
            (entry, problem) for entry in catalogue.values() for problem in placeholder_problems(entry)
        ]
        report.unused[language] = [entry for key, entry in catalogue.items() if scanned and key not in messages]
    return report


def quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n")
    return f'"{escaped}"'


def format_entry(entry: Entry, nplurals: int) -> str:
    lines = []
    if entry.references:
        lines.append("#: " + " ".join(entry.references))
    flags = sorted(entry.flags - {"fuzzy"})
    if flags:
        lines.append("#, " + ", ".join(flags))
    if entry.msgctxt is not None:
        lines.append(f"msgctxt {quote(entry.msgctxt)}")
    lines.append(f"msgid {quote(entry.msgid)}")
    if entry.msgid_plural is None:
        lines.append('msgstr ""')
    else:
        lines.append(f"msgid_plural {quote(entry.msgid_plural)}")
        lines.extend(f'msgstr[{index}] ""' for index in range(nplurals))
    return "\n".join(lines)


def nplurals_of(path: Path) -> int:
    header = next((entry for entry in parse_po(path.read_text(encoding="utf-8")) if entry.msgid == ""), None)
    match = re.search(r"nplurals\s*=\s*(\d+)", header.msgstr[0] if header else "")
    return int(match.group(1)) if match else 2


def add_missing(report: Report, root: Path = ROOT) -> dict:
    """Append an empty entry for each message a catalogue lacks entirely; {language: how many}."""
    added = {}
    for language, entries in report.missing.items():
        path = catalogue_path(language, root)
        if not path.exists():
            raise FileNotFoundError(f"{path} does not exist: create it with its header first")
        present = read_catalogue(path)
        absent = [entry for entry in entries if entry.key not in present]
        if absent:
            nplurals = nplurals_of(path)
            text = path.read_text(encoding="utf-8").rstrip("\n")
            block = "\n\n".join(format_entry(entry, nplurals) for entry in absent)
            path.write_text(f"{text}\n\n{block}\n", encoding="utf-8")
        added[language] = len(absent)
    return added


def main(argv=None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(prog="python -m cantina.i18n_check", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--add-missing",
        action="store_true",
        help="append empty entries for the messages each catalogue lacks, to fill in",
    )
    parser.add_argument(
        "--language", action="append", choices=sorted(CATALOGUES), help="check only this language (repeatable)"
    )
    parser.add_argument("--unused", action="store_true", help="also list catalogue entries no longer in the code")
    args = parser.parse_args(argv)

    report = check(root, languages=args.language)
    if not report.scanned:
        print(
            "warning: GNU gettext (xgettext) is not installed: checked only the messages of the "
            "Portuguese catalogue, not the code (apt-get install gettext)"
        )
    for language in report.missing:
        missing, wrong, unused = report.missing[language], report.placeholders[language], report.unused[language]
        where = catalogue_path(language, root).relative_to(root)
        print(
            f"{language} ({where}): {len(missing)} missing, {len(wrong)} with wrong placeholders, {len(unused)} unused"
        )
        for entry in missing:
            print(f"  missing: {entry.label()}  ({' '.join(entry.references[:3])})")
        for entry, problem in wrong:
            print(f"  placeholders: {entry.label()}: {problem}")
        if args.unused:
            for entry in unused:
                print(f"  unused: {entry.label()}")
    if args.add_missing:
        for language, count in add_missing(report, root).items():
            if count:
                print(
                    f"{language}: appended {count} empty entr{'y' if count == 1 else 'ies'} to "
                    f"{catalogue_path(language, root).relative_to(root)}"
                )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
