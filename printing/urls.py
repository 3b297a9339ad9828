"""Staff pages for printers and print jobs."""

app_name = "printing"
urlpatterns = []
