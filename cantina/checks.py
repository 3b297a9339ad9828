"""System checks of the project as installed (not of one app).

``cantina.E003``: a translation catalogue (``locale/*/LC_MESSAGES/*.po``) has no compiled
``.mo`` beside it, or one older than the ``.po``. Without it Django falls back to the English
msgids silently: staff pages say "Counter" and receipts "Cash". ``migrate``, ``collectstatic``
and ``createsuperuser`` run the checks, so the documented install stops there with the fix;
daphne runs no checks, so ``cantina.asgi`` refuses to start in production too.
"""

import logging
from pathlib import Path

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

COMPILE_COMMAND = "python -m cantina.msgfmt"


def stale_translations(locale_paths=None):
    """``(po, reason)`` for every catalogue whose ``.mo`` is missing or older than its ``.po``."""
    problems = []
    for root in locale_paths if locale_paths is not None else settings.LOCALE_PATHS:
        for po in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
            mo = po.with_suffix(".mo")
            if not mo.exists():
                problems.append((po, "has no compiled .mo file"))
            elif mo.stat().st_mtime < po.stat().st_mtime:
                problems.append((po, "is newer than its compiled .mo file"))
    return problems


def translation_errors(locale_paths=None):
    return [
        Error(
            f"Translation catalogue {po} {reason}: the app would run in English.",
            hint=f"Compile the translations: {COMPILE_COMMAND} (from the project directory).",
            obj=str(po),
            id="cantina.E003",
        )
        for po, reason in stale_translations(locale_paths)
    ]


@register()
def compiled_translations(app_configs, **kwargs):
    return translation_errors()


def ensure_compiled_translations():
    """For the server's entry point, which runs no system checks: production refuses to start
    on a missing or stale catalogue (it would serve English silently); development logs it."""
    for po, reason in stale_translations():
        message = f"Translation catalogue {po} {reason}: run {COMPILE_COMMAND} from the project directory."
        if not settings.DEBUG:
            raise ImproperlyConfigured(message)
        logging.getLogger("cantina").error(message)
