"""Shared by the staff pages of both apps: who may see them, who did something, and where an
action goes back to."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme


def staff_required(view):
    """Logged-in staff only: visitors go to the login page, other accounts get 403."""

    @wraps(view)
    def check(request, *args, **kwargs):
        if not request.user.is_staff:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return login_required(check)


def redirect_back(request, default):
    """Redirect to the posted ``next`` (a page of this site) or else to ``default``."""
    candidate = request.POST.get("next", "")
    # A path of this site only: redirect() would take any other word for a view name to reverse.
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(candidate)
    return redirect(default)


def username(user):
    """How logs and job histories name the person who asked for something ("" when nobody did)."""
    return user.get_username() if user is not None and user.is_authenticated else ""
