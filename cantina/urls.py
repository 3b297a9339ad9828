from django.contrib import admin
from django.urls import include, path

from printing.views import health

urlpatterns = [
    path("health", health, name="health"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
