from django.contrib import admin
from django.urls import include, path

from printing.monitoring import health

urlpatterns = [
    path("health", health, name="health"),
    path("", include("printing.cloud.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/print/", include("printing.dashboard")),
    path("admin/", admin.site.urls),
    path("", include("orders.urls")),
    path("", include("printing.urls")),
]
