"""The print API, version 1: ``/api/v1/`` (schema at ``openapi.json``, interactive docs at ``docs``)."""

from django.core.exceptions import RequestDataTooBig
from django.urls import path
from django.utils.translation import gettext as _
from ninja import NinjaAPI

from api import errors
from api.views import router

api = NinjaAPI(
    title="Cantina Print API",
    version="1",
    description=(
        "Print documents or raw bytes, and send orders that print like counter sales. "
        "Authenticate with `Authorization: Bearer ck_…` (`manage.py apikey_add`). Every POST accepts "
        "an `Idempotency-Key` header. Errors are RFC 9457 problem documents naming the field."
    ),
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)


@api.exception_handler(RequestDataTooBig)
def body_too_big(request, exc):
    return errors.problem(
        413, "too_large", _("The request body is too large."), [{"field": "body", "message": _("Too large.")}]
    )


api.add_router("", router)

urlpatterns = [path("v1/", api.urls)]
