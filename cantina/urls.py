"""The site's URLs: each app's URLconf, included. Views live in the apps."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/", include("api.urls")),
    path("", include("printing.cloud.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/print/", include("printing.dashboard_urls")),
    path("admin/", admin.site.urls),
    path("", include("orders.urls")),
    path("", include("printing.urls")),
]
