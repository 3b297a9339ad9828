"""Staff pages for selling and scheduled orders."""

from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.counter, name="counter"),
    path("scheduled/", views.scheduled, name="scheduled"),
    path("scheduled/new/", views.scheduled_new, name="scheduled_new"),
    path("scheduled/<int:order_id>/edit/", views.scheduled_edit, name="scheduled_edit"),
    path("orders/<int:order_id>/confirm/", views.order_confirm, name="confirm"),
    path("orders/<int:order_id>/ready/", views.order_mark_ready, name="ready"),
    path("orders/<int:order_id>/delivered/", views.order_mark_delivered, name="delivered"),
    path("orders/<int:order_id>/cancel/", views.order_cancel, name="cancel"),
    path("products/<int:product_id>/sold-out/", views.product_sold_out, name="product_sold_out"),
]
