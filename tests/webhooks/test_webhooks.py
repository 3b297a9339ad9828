"""Webhooks: events written with the change (outbox), delivered signed, retried, deduped by id."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from printing import services
from tools.processes import free_port
from webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from webhooks.services import event_record, subscription_create, webhooks_deliver_due

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP endpoint that records every POST; ``failures`` first answers are 503."""

    def __init__(self, port=None, failures=0):
        self.port = port or free_port()
        self.failures = failures
        self.requests = []
        self.server = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/hooks/cantina"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(503)
                else:
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def events(self, secret):
        """Each distinct event once (receivers dedupe on the id), after checking every signature."""
        unique = {}
        for headers, body in self.requests:
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["X-Cantina-Signature"], expected), "bad signature"
            event = json.loads(body)
            unique.setdefault(event["id"], event)
        return list(unique.values())


@pytest.fixture
def receiver():
    receivers = []

    def make(**options):
        receivers.append(Receiver(**options))
        return receivers[-1]

    yield make
    for receiver in receivers:
        receiver.stop()


def test_webhook_add_prints_the_secret_alone_on_the_last_line(capsys):
    call_command("webhook_add", "https://pos.example.com/hooks", "--events", "job.completed,job.failed")

    secret = capsys.readouterr().out.strip().splitlines()[-1]
    subscription = WebhookSubscription.objects.get()
    assert secret == subscription.secret and secret.startswith("whsec_")
    assert subscription.events == ["job.completed", "job.failed"]


@pytest.mark.parametrize(("url", "events"), [("ftp://x.example/", ""), ("https://x.example/", "job completed")])
def test_webhook_add_refuses_bad_urls_and_event_names(url, events):
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("webhook_add", url, "--events", events)
    assert not WebhookSubscription.objects.exists()


def test_events_are_written_in_the_transaction_of_the_change():
    subscription_create(url="https://pos.example.com/hooks")

    with pytest.raises(RuntimeError), transaction.atomic():
        event_record(type="job.completed", data={"job": {"id": 1}})
        raise RuntimeError("the change failed")
    assert not WebhookEvent.objects.exists()

    event_record(type="job.completed", data={"job": {"id": 1}})
    assert WebhookEvent.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_only_subscriptions_that_want_the_event_get_a_delivery():
    everything = subscription_create(url="https://a.example/")
    failures = subscription_create(url="https://b.example/", events=["job.failed"])
    printers = subscription_create(url="https://c.example/", events=["printer.*"])
    subscription_create(url="https://d.example/").__class__.objects.filter(url="https://d.example/").update(
        active=False
    )

    event_record(type="job.failed", data={})
    event_record(type="printer.updated", data={})

    by_type = {}
    for delivery in WebhookDelivery.objects.select_related("event"):
        by_type.setdefault(delivery.event.type, set()).add(delivery.subscription_id)
    assert by_type == {"job.failed": {everything.pk, failures.pk}, "printer.updated": {everything.pk, printers.pk}}


def test_nothing_is_recorded_without_subscribers():
    calls = []

    assert event_record(type="job.completed", data=lambda: calls.append(1) or {}) is None
    assert calls == [] and not WebhookEvent.objects.exists()


def test_job_transitions_and_printer_changes_become_events(make_printer):
    subscription_create(url="https://pos.example.com/hooks")
    printer = make_printer("Balcão")
    WebhookEvent.objects.all().delete()

    job = services.job_create_test_page(printer=printer)
    services.jobs_claim(printer_id=printer.pk)
    services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="printing")
    services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="completed")
    services.printer_report(printer_id=printer.pk, status="paper_out")

    events = list(WebhookEvent.objects.order_by("created_at"))
    assert [event.type for event in events] == [
        "job.pending",
        "job.sent",
        "job.printing",
        "job.completed",
        "printer.updated",
    ]
    completed = events[3].data
    assert completed["job"]["id"] == job.pk and completed["job"]["status"] == "completed"
    assert events[4].data["printer"]["status"] == "paper_out"


def test_a_receiver_down_at_first_gets_every_event_once_signed(receiver, make_printer):
    down = receiver()  # nothing listens on its port yet
    subscription = subscription_create(url=down.url, events=["job.*"])
    printer = make_printer("Balcão")
    job = services.job_create_test_page(printer=printer)
    services.jobs_claim(printer_id=printer.pk)
    services.job_mark_status(job_id=job.pk, printer_id=printer.pk, status="completed")
    now = timezone.now()

    assert webhooks_deliver_due(now=now) == 0  # connection refused
    delivery = WebhookDelivery.objects.order_by("id").first()
    assert delivery.attempts == 1 and delivery.last_error and delivery.last_status_code is None
    assert delivery.next_attempt_at >= now + timedelta(seconds=10)

    flaky = receiver(port=down.port, failures=1).start()  # up, but its first answer is 503
    now += timedelta(seconds=12)
    assert webhooks_deliver_due(now=now) == 0
    assert WebhookDelivery.objects.filter(last_status_code=503).count() == 1
    for _ in range(10):  # later runs: everything goes through
        now += timedelta(minutes=5)
        webhooks_deliver_due(now=now)

    events = flaky.events(subscription.secret)
    assert sorted(event["type"] for event in events) == ["job.completed", "job.pending", "job.sent"]
    assert all(set(event) == {"id", "type", "created_at", "data"} for event in events)
    assert {event["data"]["job"]["id"] for event in events} == {job.pk}
    assert WebhookDelivery.objects.filter(delivered_at__isnull=True).count() == 0
    headers = flaky.requests[-1][0]
    assert headers["Content-Type"] == "application/json" and headers["X-Cantina-Event-Id"]


def test_delivery_backs_off_exponentially_and_gives_up_after_a_day(receiver):
    dead = receiver()
    subscription_create(url=dead.url)
    event = event_record(type="job.failed", data={})
    now = event.created_at
    waits = []
    while (delivery := WebhookDelivery.objects.get()).failed_at is None:
        webhooks_deliver_due(now=now)
        delivery = WebhookDelivery.objects.get()
        if delivery.failed_at is None:
            waits.append((delivery.next_attempt_at - now).total_seconds())
            now = delivery.next_attempt_at
        assert now - event.created_at <= timedelta(hours=25)

    assert waits[0] < waits[1] < waits[2] < waits[3]
    assert max(waits) <= 3600 * 1.1
    assert delivery.failed_at is not None and 15 < delivery.attempts < 50


def test_delivering_never_happens_in_the_print_path(receiver, make_printer):
    listening = receiver().start()
    subscription_create(url=listening.url)

    services.job_create_test_page(printer=make_printer("Balcão"))

    assert listening.requests == []  # queued in the outbox, not sent by the request that printed
    assert webhooks_deliver_due() == 1
    assert json.loads(listening.requests[0][1])["type"] == "job.pending"


def test_the_maintenance_of_every_server_process_delivers_them(receiver):
    from printing.maintenance import MAINTENANCE_TASKS, run_pass

    listening = receiver().start()
    subscription_create(url=listening.url)
    event_record(type="job.completed", data={"job": {"id": 1}})

    assert {"webhooks_deliver", "webhook_events_purge", "idempotency_records_purge"} <= {
        task.name for task in MAINTENANCE_TASKS
    }
    # Only this task: forcing them all would make the hourly ones "just ran" for later tests.
    assert run_pass(tasks=[task for task in MAINTENANCE_TASKS if task.name == "webhooks_deliver"]) == {}
    assert [json.loads(body)["type"] for _, body in listening.requests] == ["job.completed"]
