"""Helpers for driving the admin through the test client."""

from django.urls import reverse

PRINTERS_URL = reverse("admin:printing_printer_changelist")
JOBS_URL = reverse("admin:printing_printjob_changelist")
ORDERS_URL = reverse("admin:orders_order_changelist")


def post_action(client, url, action, objects, **extra):
    return client.post(url, {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}, follow=True)


def messages_of(response):
    return [str(message) for message in response.context["messages"]] if response.context else []
