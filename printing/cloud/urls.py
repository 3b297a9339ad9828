"""Cloud printer endpoints (no trailing-slash redirects: printers do not follow them on POST)."""

from django.urls import re_path

from printing.cloud import views

urlpatterns = [
    re_path(r"^cloudprnt/?$", views.cloudprnt_endpoint, name="cloudprnt"),
    re_path(r"^epson/sdp/?$", views.epson_sdp_endpoint, name="epson_sdp"),
]
