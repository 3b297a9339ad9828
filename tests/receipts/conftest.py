"""Receipts and rendering need no database: configure a minimal Django only when nothing else did
(the project's own settings take over once DJANGO_SETTINGS_MODULE is set)."""

import os

import django
from django.conf import settings

if not settings.configured and not os.environ.get("DJANGO_SETTINGS_MODULE"):
    settings.configure(USE_I18N=True, USE_TZ=True, LANGUAGE_CODE="pt-br", INSTALLED_APPS=[])
    django.setup()
