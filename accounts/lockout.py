"""What a locked-out login sees: the same login page (staff or admin) with a clear message."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.forms import AuthenticationForm
from django.forms.utils import ErrorDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import ngettext

LOCKED_OUT_STATUS = 429
USERNAME_MAX_LENGTH = 150  # django.contrib.auth's User.username


def lockout_message():
    minutes = max(1, round(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return ngettext(
        "Too many failed login attempts for this username. For your security, logging in is "
        "blocked for %(minutes)d minute; try again later or ask a manager to unlock it.",
        "Too many failed login attempts for this username. For your security, logging in is "
        "blocked for %(minutes)d minutes; try again later or ask a manager to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the login form again, its error saying why, with 429."""
    form = AuthenticationForm(request, initial={"username": (credentials or {}).get("username", "")})
    # An unbound form with one non-field error: validating it would try the password again.
    form.cleaned_data = {}
    form._errors = ErrorDict()
    form.add_error(None, lockout_message())
    if request.path.startswith(reverse("admin:login")):
        context = {**admin.site.each_context(request), "form": form, "title": "", "app_path": request.get_full_path()}
        template = "admin/login.html"
    else:
        context = {"form": form, "locked_out": True, "next": request.POST.get("next", "")}
        template = "registration/login.html"
    return render(request, template, context, status=LOCKED_OUT_STATUS)


def client_username(request, credentials=None):
    """AXES_USERNAME_CALLABLE: the posted username as axes records it.

    Cut to the longest username an account can have (150): a longer one is no account anyway, and
    axes' column holds 255 characters, so PostgreSQL refused a 5,000-character guess with a 500
    (found by tests/security/test_fuzz_staff_forms.py). NUL characters, which PostgreSQL text
    cannot hold, are dropped.
    """
    source = credentials if credentials else request.POST
    username = source.get(settings.AXES_USERNAME_FORM_FIELD)
    if username is None:
        return None
    return str(username).replace("\x00", "")[:USERNAME_MAX_LENGTH]
