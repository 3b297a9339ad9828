"""Admin: webhook subscriptions and their deliveries, with last attempts and response codes."""

import pytest

from tests.admin.helpers import post_action
from webhooks.models import WebhookDelivery
from webhooks.services import event_record, subscription_create

pytestmark = pytest.mark.django_db


def test_deliveries_show_attempts_and_response_codes(manager_client):
    subscription = subscription_create(url="https://pos.example.com/hooks")
    event_record(type="job.completed", data={"job": {"id": 7}})
    WebhookDelivery.objects.update(attempts=3, last_status_code=503, last_error="HTTP 503")

    page = manager_client.get("/admin/webhooks/webhookdelivery/").content.decode()
    detail = manager_client.get(f"/admin/webhooks/webhooksubscription/{subscription.pk}/change/").content.decode()

    assert "job.completed" in page and "503" in page and "https://pos.example.com/hooks" in page
    assert subscription.secret in detail


def test_retry_now_makes_a_given_up_delivery_due(manager_client):
    subscription_create(url="https://pos.example.com/hooks")
    event_record(type="job.completed", data={})
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.update(failed_at=delivery.next_attempt_at)

    post_action(manager_client, "/admin/webhooks/webhookdelivery/", "retry_now", [delivery])

    assert WebhookDelivery.objects.get().failed_at is None
