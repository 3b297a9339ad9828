"""The database going away (PostgreSQL restarting): requests fail cleanly with a translated 503,
nothing is half-created, and an agent's acknowledgement the server could not record comes back.
Fault scenario tests/faults/test_postgres_restart.py does it with a real PostgreSQL."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import OperationalError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import Client

from cantina.asgi import application
from orders.models import Order, OrderItem
from printing import services
from printing.models import Printer, PrintJob

OUTAGE = "terminating connection due to administrator command"


@pytest.fixture
def staff_client(attendant_user):
    client = Client()
    client.force_login(attendant_user)
    return client


@pytest.fixture
def database_down(monkeypatch):
    """From now on every new cursor fails as a restarting PostgreSQL makes it fail."""

    def fail(*args, **kwargs):
        raise OperationalError(OUTAGE)

    def start():
        monkeypatch.setattr(BaseDatabaseWrapper, "cursor", fail)

    return start


@pytest.mark.django_db
def test_a_page_during_a_database_outage_is_a_503_in_portuguese_without_a_traceback(staff_client, database_down):
    database_down()
    response = staff_client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    text = response.content.decode()
    assert "O banco de dados não está respondendo" in text
    assert "Traceback" not in text and OUTAGE not in text


@pytest.mark.django_db
def test_a_json_client_during_a_database_outage_gets_a_503_it_can_read(staff_client, database_down):
    database_down()
    response = staff_client.get("/jobs/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 503
    assert response.json() == {
        "error": "database_unavailable",
        "message": "The database is not answering right now, so nothing was saved. Try again in a few seconds.",
    }


@pytest.mark.django_db(transaction=True)
def test_a_sale_cut_off_by_the_database_leaves_no_half_created_order(staff_client, products, make_printer, monkeypatch):
    make_printer("Balcão", auto_print=["counter"])

    def database_dies_midway(*args, **kwargs):  # the order row is written, its items are not
        raise OperationalError(OUTAGE)

    monkeypatch.setattr(OrderItem.objects, "bulk_create", database_dies_midway)
    response = staff_client.post("/", {"product": [products[0].pk], "quantity": [1], "payment_method": "cash"})

    assert response.status_code == 503
    assert Order.objects.count() == 0 and PrintJob.objects.count() == 0

    monkeypatch.undo()
    response = staff_client.post("/", {"product": [products[0].pk], "quantity": [1], "payment_method": "cash"})
    assert response.status_code == 302, "trying again once the database is back works"
    assert Order.objects.get().status == Order.Status.CONFIRMED


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_an_acknowledgement_the_database_could_not_record_is_asked_for_again(monkeypatch):
    @database_sync_to_async
    def printer_with_a_job():
        printer = Printer.objects.create(name="Balcão")
        token = services.printer_issue_token(printer=printer)
        return token, services.job_create_test_page(printer=printer).pk

    token, job_id = await printer_with_a_job()
    agent = WebsocketCommunicator(application, f"/ws/agent/?token={token}")
    assert (await agent.connect())[0]
    assert (await agent.receive_json_from(timeout=10))["type"] == "welcome"
    assert (await agent.receive_json_from(timeout=10))["order"]["job_id"] == job_id

    mark_status = services.job_mark_status

    def database_restarting(**kwargs):
        raise OperationalError(OUTAGE)

    monkeypatch.setattr(services, "job_mark_status", database_restarting)
    await agent.send_json_to({"type": "print_status", "job_id": job_id, "status": "completed", "message": "printed"})

    # The server cannot record it, so it closes the link instead of dropping the news...
    assert await agent.receive_output(timeout=10) == {"type": "websocket.close", "code": 4503}
    await agent.disconnect()
    monkeypatch.setattr(services, "job_mark_status", mark_status)

    # ...and the agent's reconnect gets the job again, which its journal answers "completed".
    again = WebsocketCommunicator(application, f"/ws/agent/?token={token}")
    assert (await again.connect())[0]
    assert (await again.receive_json_from(timeout=10))["type"] == "welcome"
    assert (await again.receive_json_from(timeout=10))["order"]["job_id"] == job_id
    await again.send_json_to({"type": "print_status", "job_id": job_id, "status": "completed", "message": "journal"})

    @database_sync_to_async
    def status():
        return PrintJob.objects.get(pk=job_id).status

    for _ in range(100):
        if await status() == "completed":
            break
        await asyncio.sleep(0.1)
    assert await status() == "completed"
    await again.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_an_agent_connecting_during_a_database_outage_is_told_to_come_back(monkeypatch):
    @database_sync_to_async
    def printer():
        return services.printer_issue_token(printer=Printer.objects.create(name="Balcão"))

    token = await printer()

    def database_restarting(token):
        raise OperationalError(OUTAGE)

    monkeypatch.setattr(services, "printer_authenticate", database_restarting)
    agent = WebsocketCommunicator(application, f"/ws/agent/?token={token}")
    assert (await agent.connect())[0]
    assert await agent.receive_output(timeout=10) == {"type": "websocket.close", "code": 4503}


@pytest.mark.django_db(transaction=True)
def test_a_sale_whose_receipts_could_not_be_queued_after_its_commit_is_answered_confirmed(
    staff_client, products, make_printer, monkeypatch
):
    """Found by tests/faults/test_postgres_restart.py: the database went away between the sale's
    commit and the queuing of its receipts, and the sale was answered 503 "nothing was saved"."""
    from datetime import timedelta

    from django.utils import timezone

    make_printer("Balcão", auto_print=["counter"])

    def database_gone(**kwargs):
        raise OperationalError(OUTAGE)

    monkeypatch.setattr(services, "jobs_create_for_order", database_gone)
    response = staff_client.post("/", {"product": [products[0].pk], "quantity": [1], "payment_method": "cash"})

    assert response.status_code == 302
    order = Order.objects.get()
    assert order.status == Order.Status.CONFIRMED and not PrintJob.objects.exists()

    monkeypatch.undo()
    services.jobs_create_missing(now=timezone.now() + timedelta(seconds=30))  # the sweep, a little later
    assert list(PrintJob.objects.values_list("order_id", "status")) == [(order.pk, "pending")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_a_delivery_cut_off_by_the_database_closes_the_link_so_claimed_jobs_are_sent_again(monkeypatch):
    """Found by tests/faults/test_postgres_restart.py: a claim whose commit went through while its
    answer was lost left jobs ``sent`` that no agent had, on a link that stayed open."""

    @database_sync_to_async
    def printer():
        return services.printer_issue_token(printer=Printer.objects.create(name="Balcão"))

    token = await printer()

    def database_restarting(**kwargs):
        raise OperationalError(OUTAGE)

    monkeypatch.setattr(services, "jobs_claim", database_restarting)
    agent = WebsocketCommunicator(application, f"/ws/agent/?token={token}")
    assert (await agent.connect())[0]
    assert (await agent.receive_json_from(timeout=10))["type"] == "welcome"
    await agent.send_json_to({"type": "ping"})
    while (message := await agent.receive_output(timeout=10))["type"] != "websocket.close":
        pass
    assert message == {"type": "websocket.close", "code": 4503}


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.timeout(60)
async def test_a_wakeup_the_database_cannot_serve_closes_the_link_with_4503(monkeypatch):
    """A wake-up (a job just queued) whose claim fails on the database closes the link with 4503,
    so the agent comes back in about 2 s and gets the job; swallowing the error would leave the
    job to the sweep with the agent believing all is well."""
    from channels.layers import get_channel_layer

    from printing.groups import printer_group

    @database_sync_to_async
    def printer():
        printer = Printer.objects.create(name="Balcão")
        return printer.pk, services.printer_issue_token(printer=printer)

    printer_id, token = await printer()
    agent = WebsocketCommunicator(application, f"/ws/agent/?token={token}")
    assert (await agent.connect())[0]
    assert (await agent.receive_json_from(timeout=10))["type"] == "welcome"
    assert await agent.receive_nothing(timeout=0.5)  # settled: nothing pending

    def database_restarting(**kwargs):
        raise OperationalError(OUTAGE)

    monkeypatch.setattr(services, "jobs_claim", database_restarting)
    await get_channel_layer().group_send(printer_group(printer_id), {"type": "job.wakeup", "job_id": 1})
    while (message := await agent.receive_output(timeout=10))["type"] != "websocket.close":
        pass
    assert message == {"type": "websocket.close", "code": 4503}
