from django.contrib import admin
from django.urls import include, path

from api.urls import api
from printing.monitoring import health

urlpatterns = [
    path("health", health, name="health"),
    path("api/v1/", api.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/print/", include("printing.dashboard")),
    path("admin/", admin.site.urls),
    path("", include("orders.urls")),
    path("", include("printing.urls")),
]
