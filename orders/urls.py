"""Staff pages for selling and scheduled orders."""

app_name = "orders"
urlpatterns = []
