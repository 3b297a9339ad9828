"""Staff pages for printers and print jobs, and /health (monitoring, public)."""

from django.urls import path

from printing import monitoring, views

app_name = "printing"
urlpatterns = [
    path("health", monitoring.health, name="health"),
    path("printers/", views.printers, name="printers"),
    path("printers/status", views.printers_status, name="printers_status"),
    path("printers/<int:printer_id>/test-print/", views.printer_test_print, name="printer_test_print"),
    path("jobs/", views.jobs, name="jobs"),
    path("jobs/status", views.jobs_status, name="jobs_status"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/reprint/", views.job_reprint, name="job_reprint"),
    path("jobs/<int:job_id>/retry/", views.job_retry, name="job_retry"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="job_cancel"),
    path("orders/<int:order_id>/reprint/", views.order_reprint, name="order_reprint"),
    path("receipt-preview.css", views.preview_css, name="preview_css"),
]
