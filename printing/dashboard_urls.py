"""URLs of the print dashboard, mounted at /admin/print/ by cantina/urls.py (admin views)."""

from django.contrib import admin
from django.urls import path

from printing import dashboard_views

app_name = "print_dashboard"
urlpatterns = [
    path("", admin.site.admin_view(dashboard_views.dashboard), name="index"),
    path("data/", admin.site.admin_view(dashboard_views.data), name="data"),
]
