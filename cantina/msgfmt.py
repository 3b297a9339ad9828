"""Compile locale/*/LC_MESSAGES/*.po into .mo files without GNU gettext.

``./dev`` runs this so a fresh machine needs no msgfmt binary; the .mo files are build output
and never committed. Handles msgctxt, plurals and multi-line strings; fuzzy entries are skipped,
as msgfmt does.
"""

import ast
import struct
import sys
from pathlib import Path


def parse_po(text):
    messages = {}
    entry, fuzzy, key = {}, False, None

    def flush():
        nonlocal entry, fuzzy
        if "msgid" in entry and not fuzzy:
            msgid = entry["msgid"]
            if "msgctxt" in entry:
                msgid = entry["msgctxt"] + "\x04" + msgid
            if "msgid_plural" in entry:
                msgid += "\x00" + entry["msgid_plural"]
                forms = [entry[k] for k in sorted(k for k in entry if k.startswith("msgstr["))]
                msgstr = "\x00".join(forms)
            else:
                msgstr = entry.get("msgstr", "")
            if msgstr.replace("\x00", "") or msgid == "":
                messages[msgid] = msgstr
        entry, fuzzy = {}, False

    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#,") and "fuzzy" in line:
            if "msgid" in entry and "msgstr" in entry:
                flush()
            fuzzy = True
        elif line.startswith("#") or not line:
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            if (
                key == "msgctxt"
                or (key == "msgid" and "msgstr" in entry)
                or (key == "msgid" and any(k.startswith("msgstr[") for k in entry))
            ):
                flush()
            entry[key] = ast.literal_eval(value)
    flush()
    return messages


def mo_bytes(messages):
    keys = sorted(messages)
    ids = [key.encode("utf-8") for key in keys]
    strs = [messages[key].encode("utf-8") for key in keys]
    count = len(keys)
    key_start = 7 * 4 + 16 * count
    value_start = key_start + sum(len(i) + 1 for i in ids)
    key_offsets, value_offsets, offset = [], [], 0
    for item in ids:
        key_offsets += [len(item), key_start + offset]
        offset += len(item) + 1
    offset = 0
    for item in strs:
        value_offsets += [len(item), value_start + offset]
        offset += len(item) + 1
    header = struct.pack("Iiiiiii", 0x950412DE, 0, count, 7 * 4, 7 * 4 + count * 8, 0, 0)
    tables = struct.pack(f"{len(key_offsets)}i", *key_offsets) + struct.pack(f"{len(value_offsets)}i", *value_offsets)
    return header + tables + b"".join(i + b"\0" for i in ids) + b"".join(s + b"\0" for s in strs)


def main(root):
    compiled = 0
    for po in sorted(Path(root).glob("**/LC_MESSAGES/*.po")):
        po.with_suffix(".mo").write_bytes(mo_bytes(parse_po(po.read_text(encoding="utf-8"))))
        compiled += 1
    print(f"compiled {compiled} translation catalogue(s)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "locale")
