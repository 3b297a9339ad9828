"""Job history and printer messages in the reader's language, whatever language they were stored in.

A ``PrintJobEvent.message`` is stored as text: the server's messages in the language active when
it was written (pt-BR by default), the agent's reports in English ("sending to the printer",
"printed"). Rows already stored keep their text, so the translation happens when the history is
shown: a message that is one of the known ones, in any of ``settings.LANGUAGES`` (or one of the
agent's English reports), is shown in the current language; anything else (a printer's own error
text, a user name) is shown as it was stored.

Messages with parameters (``Cancelled by %(user)s``) are recognised by their translated pattern,
and their parameters are kept (a retry's reason is itself translated when it is a known message).
A printer's status message (the agent's reason for ``error``, a retry's reason) goes through the
same function where staff see it.
"""

import functools
import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as N_

# The server's own history messages (printing.services, printing.local_jobs, printing.cloud).
FIXED = [
    N_("Queued"),
    N_("Sent to the agent"),
    N_("Handed out to the printer"),
    N_("Fetched by the printer"),
    N_("Printing"),
    N_("Printed"),
    N_("Printer reported a failure"),
    N_("Cancelled"),
    N_("Retried"),
    N_("Expired: not printed in time"),
    N_("Sending to the printer"),
    N_("Queued at the agent"),
    N_("Already printed (agent journal)"),
]
# What the agent (agent/client.py, agent/printers.py, agent/journal.py) reports, always in
# English → the message shown for it.
AGENT = {
    "sending to the printer": N_("Sending to the printer"),
    "printing": N_("Printing"),
    "printed": N_("Printed"),
    "queued at the agent": N_("Queued at the agent"),
    "already printed (agent journal)": N_("Already printed (agent journal)"),
    "the agent stopped while printing this job; it may be partly printed (reprint it if needed)": N_(
        "The agent stopped while printing this job; it may be partly printed (reprint it if needed)"
    ),
    # agent.journal.REASON_TEXT, inside "agent %(problem)s: cannot write its journal…"
    "disk full": N_("disk full"),
    "file system is read-only": N_("file system is read-only"),
    "disk error": N_("disk error"),
}
# Messages with parameters; the TRANSLATED_PARAMETERS are themselves history messages (translated
# when known). The agent's are matched in English, as it writes them.
PATTERNS = [
    N_("Will retry when the printer is ready: %(reason)s"),
    N_("Cancelled by %(user)s"),
    N_("Retried by %(user)s"),
    N_("Reprint of job #%(id)s"),
    N_("Queued, with warnings: %(warnings)s"),
    N_("Local job from %(source)s"),
    N_("printer connection broke while printing (%(error)s); may be partly printed"),
    N_("the printer stopped reading: %(unread)s of %(total)s bytes not taken after %(seconds)s s"),
    N_("the printer stopped taking data for %(seconds)s s in the middle of the job"),
    N_("agent journal error: %(error)s"),
    N_("agent %(problem)s: cannot write its journal, not printing"),
]
TRANSLATED_PARAMETERS = {"reason", "error", "problem"}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _languages():
    return [code for code, _name in settings.LANGUAGES]


@functools.cache
def _fixed_index():
    """Lower-cased text in any language → msgid."""
    index = {}
    for language in _languages():
        with translation.override(language):
            for msgid in FIXED:
                index.setdefault(gettext(msgid).strip().lower(), msgid)
    for msgid in FIXED:
        index.setdefault(msgid.lower(), msgid)
    index.update(AGENT)
    return index


def _pattern_regex(text):
    parts = _PLACEHOLDER.split(text)
    regex = ""
    for position, part in enumerate(parts):
        regex += re.escape(part) if position % 2 == 0 else f"(?P<{part}>.+)"
    return re.compile(f"^{regex}$", re.DOTALL | re.IGNORECASE)


@functools.cache
def _pattern_index():
    """[(compiled regex of a translation, msgid)] for every language."""
    seen, index = set(), []
    for language in [*_languages(), None]:
        for msgid in PATTERNS:
            if language is None:
                text = msgid
            else:
                with translation.override(language):
                    text = gettext(msgid)
            if (text, msgid) not in seen:
                seen.add((text, msgid))
                index.append((_pattern_regex(text), msgid))
    return index


def history_message(message):
    """``message`` as the current reader should see it (unchanged when it is not a known one)."""
    if not message:
        return message
    text = str(message).strip()
    msgid = _fixed_index().get(text.lower())
    if msgid is not None:
        return gettext(msgid)
    for regex, pattern in _pattern_index():
        match = regex.match(text)
        if match:
            params = match.groupdict()
            for name in TRANSLATED_PARAMETERS & params.keys():
                params[name] = history_message(params[name])
            return gettext(pattern) % params
    return message
