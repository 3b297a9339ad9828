"""The print dashboard at /admin/print/."""

app_name = "print_dashboard"
urlpatterns = []
