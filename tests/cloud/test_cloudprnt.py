"""Star CloudPRNT: a simulated printer polls, fetches and confirms through the test client."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from printing.cloud import services as cloud
from printing.models import Printer, PrintJob, PrintJobEvent
from tools.cloud_printers import ProtocolFailure, basic

pytestmark = pytest.mark.django_db(transaction=True)


def job_of(order, printer):
    return PrintJob.objects.get(order=order, printer=printer)


def test_confirmed_order_polled_fetched_confirmed_prints_once_and_staff_see_it(star, make_order, staff_events):
    printer, sim = star()
    assert sim.poll() == {"jobReady": False}
    order = make_order(customer_name="Joana Brandão")
    job = job_of(order, printer)
    assert job.status == "pending"
    staff_events()

    answer = sim.poll()
    assert answer["jobReady"] is True and answer["jobToken"]
    assert "text/plain" in answer["mediaTypes"]
    assert "application/vnd.star.starprnt" not in answer["mediaTypes"]
    job.refresh_from_db()
    assert job.status == "sent" and job.handout_token == answer["jobToken"]

    sim.supported = ("text/plain",)
    sim.current["type"] = "text/plain"
    text = sim.fetch().decode("utf-8")
    assert f"#{order.number}" in text or order.number in text
    assert "Joana Brandão" in text and "Pão de queijo" in text
    assert sim.current["content_type"].startswith("text/plain")
    job.refresh_from_db()
    assert job.status == "printing"

    sim.print_current()
    assert sim.confirm("200 OK") == {"ok": True, "job_id": job.pk}
    job.refresh_from_db()
    assert job.status == "completed" and job.finished_at is not None
    assert list(job.events.values_list("status", flat=True)) == ["pending", "sent", "printing", "completed"]
    updates = [m["job"] for m in staff_events() if m["type"] == "job.updated" and m["job"]["id"] == job.pk]
    assert [u["status"] for u in updates][-1] == "completed"

    # Nothing more to print, and a repeated confirmation changes nothing.
    assert sim.poll() == {"jobReady": False}
    events = PrintJobEvent.objects.filter(job=job).count()
    sim.current = {"token": job.handout_token}
    sim.confirm("200 OK")
    assert PrintJobEvent.objects.filter(job=job).count() == events
    assert len(sim.printed) == 1


@pytest.mark.parametrize("paper, dots", [(58, 384), (80, 576)])
def test_png_is_the_receipt_at_the_printers_dot_width(star, make_order, paper, dots):
    from io import BytesIO

    from PIL import Image

    printer, sim = star(paper_width=paper, copies=2)
    order = make_order()
    answer = sim.poll()
    assert answer["mediaTypes"] == ["image/png", "text/plain"]
    assert sim.current["type"] == "image/png"
    png = sim.fetch()
    assert sim.current["content_type"] == "image/png"
    image = Image.open(BytesIO(png))
    assert image.format == "PNG" and image.width == dots and image.mode == "1"
    # Two copies, one under the other: ink in both halves, white paper between them.
    top = image.crop((0, 0, dots, image.height // 2 - 30))
    bottom = image.crop((0, image.height // 2 + 30, dots, image.height))
    assert top.getextrema()[0] == 0 and bottom.getextrema()[0] == 0
    sim.print_current()
    sim.confirm("OK")
    assert job_of(order, printer).status == "completed"


def test_paper_out_in_the_poll_holds_the_job_and_shows_on_the_printer(star, make_order, staff_events):
    printer, sim = star()
    sim.poll()
    order = make_order()
    staff_events()
    sim.status_code = "410 Out of paper"
    assert sim.poll() == {"jobReady": False}
    printer.refresh_from_db()
    assert printer.status == "paper_out" and printer.connected
    assert job_of(order, printer).status == "pending"
    pushed = [m["printer"] for m in staff_events() if m["type"] == "printer.updated"]
    assert pushed and pushed[-1]["status"] == "paper_out"

    sim.status_code = "420 Cover open"
    assert sim.poll() == {"jobReady": False}
    printer.refresh_from_db()
    assert printer.status == "cover_open"

    sim.status_code = "200 OK"
    assert sim.cycle() is not None
    printer.refresh_from_db()
    assert printer.status == "ready"
    assert job_of(order, printer).status == "completed"


def test_paper_running_out_while_printing_retries_the_job_later(star, make_order):
    printer, sim = star()
    order = make_order()
    sim.poll()
    sim.current["type"] = "text/plain"
    sim.fetch()
    first_token = sim.current["token"]
    sim.confirm("410 Out of paper")
    job = job_of(order, printer)
    assert job.status == "pending" and job.error_code == "paper_out" and job.attempts == 1
    printer.refresh_from_db()
    assert printer.status == "paper_out"
    sim.status_code = "410 Out of paper"
    assert sim.poll() == {"jobReady": False}
    sim.status_code = "200 OK"
    answer = sim.poll()
    assert answer["jobReady"] and answer["jobToken"] != first_token
    # A late confirmation of the first hand-out is ignored.
    sim.confirm("200 OK", token=first_token)
    assert job_of(order, printer).status == "sent"
    sim.current = {"token": answer["jobToken"], "type": "text/plain"}
    sim.fetch()
    sim.print_current()
    sim.confirm("200 OK")
    assert job_of(order, printer).status == "completed"
    assert len(sim.printed) == 1


def test_a_restart_between_fetch_and_confirm_gets_the_same_job_again_and_prints_it_once(star, make_order):
    printer, sim = star()
    order = make_order()
    first = sim.poll()
    sim.current["type"] = "text/plain"
    sim.fetch()
    sim.restart()  # power cut before printing: nothing on paper, nothing confirmed

    again = sim.poll()
    assert again["jobReady"] and again["jobToken"] == first["jobToken"]
    sim.current["type"] = "text/plain"
    sim.fetch()
    sim.print_current()
    sim.confirm("200 OK")
    assert sim.poll() == {"jobReady": False}
    assert len(sim.printed) == 1
    job = job_of(order, printer)
    assert job.status == "completed"
    assert PrintJob.objects.filter(order=order).count() == 1


def test_two_printers_never_get_each_others_jobs(star, make_order):
    first, sim_a = star("Star A", "00:11:62:AA:BB:01")
    second, sim_b = star("Star B", "00:11:62:AA:BB:02")
    order = make_order()
    job_a, job_b = job_of(order, first), job_of(order, second)
    answer_a = sim_a.poll()
    answer_b = sim_b.poll()
    assert PrintJob.objects.get(handout_token=answer_a["jobToken"]).pk == job_a.pk
    assert PrintJob.objects.get(handout_token=answer_b["jobToken"]).pk == job_b.pk

    # A with B's token: not found; confirming B's token from A changes nothing.
    sim_a.current = {"token": answer_b["jobToken"], "type": "text/plain"}
    with pytest.raises(ProtocolFailure) as refused:
        sim_a.fetch()
    assert refused.value.status == 404
    sim_a.confirm("200 OK", token=answer_b["jobToken"])
    job_b.refresh_from_db()
    assert job_b.status == "sent"

    for sim, answer in ((sim_a, answer_a), (sim_b, answer_b)):
        sim.current = {"token": answer["jobToken"], "type": "text/plain"}
        sim.fetch()
        sim.print_current()
        sim.confirm("200 OK")
    assert {job.status for job in PrintJob.objects.filter(order=order)} == {"completed"}
    assert len(sim_a.printed) == len(sim_b.printed) == 1


def test_wrong_secret_unknown_mac_and_someone_elses_mac_are_refused(star, make_order, client):
    first, sim_a = star("Star A", "00:11:62:AA:BB:01")
    second, _sim_b = star("Star B", "00:11:62:AA:BB:02")
    order = make_order()

    def poll(mac, auth):
        body = json.dumps({"printerMAC": mac, "statusCode": "200%20OK"})
        headers = {"HTTP_AUTHORIZATION": auth} if auth else {}
        return client.post("/cloudprnt/", body, content_type="application/json", secure=True, **headers)

    for mac, auth in [
        ("00:11:62:AA:BB:01", basic("x", "cp_wrong-secret")),  # wrong secret
        ("00:11:62:AA:BB:99", basic("x", first.secret)),  # unknown MAC
        ("00:11:62:AA:BB:02", basic("x", first.secret)),  # A's secret, B's MAC
        ("00:11:62:AA:BB:01", None),  # no credentials
        ("00:11:62:AA:BB:01", "Basic !!!not-base64"),
    ]:
        response = poll(mac, auth)
        assert response.status_code == 401, (mac, auth, response.content)
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert "error" in response.json()
    assert set(PrintJob.objects.filter(order=order).values_list("status", flat=True)) == {"pending"}
    # Fetching or confirming with a wrong secret is refused too.
    wrong = basic("x", second.secret)
    assert (
        client.get(
            "/cloudprnt/", {"mac": sim_a.mac, "type": "text/plain", "token": "x"}, HTTP_AUTHORIZATION=wrong, secure=True
        ).status_code
        == 401
    )
    assert (
        client.delete("/cloudprnt/?mac=00:11:62:AA:BB:01&code=200", HTTP_AUTHORIZATION=wrong, secure=True).status_code
        == 401
    )
    # An agent cannot log in with a cloud printer's secret.
    from printing import services

    assert services.printer_authenticate(first.secret) is None


def test_malformed_and_oversized_requests_are_refused_without_touching_any_job(star, make_order, client, caplog):
    printer, sim = star()
    order = make_order()
    auth = {"HTTP_AUTHORIZATION": basic("x", printer.secret), "secure": True}
    events_before = PrintJobEvent.objects.count()
    caplog.set_level(logging.INFO)
    cases = [
        b"{not json",
        b"[1, 2]",
        json.dumps({"statusCode": "200 OK"}).encode(),
        json.dumps({"printerMAC": "not-a-mac"}).encode(),
        json.dumps({"printerMAC": sim.mac, "printingInProgress": "yes"}).encode(),
        b"\xff\xfe\x00",
    ]
    for body in cases:
        response = client.post("/cloudprnt/", body, content_type="application/json", **auth)
        assert response.status_code == 400, (body, response.content)
        assert response.json()["error"] == "bad_request"
    big = json.dumps({"printerMAC": sim.mac, "padding": "x" * 70_000}).encode()
    assert client.post("/cloudprnt/", big, content_type="application/json", **auth).status_code == 413
    # Unknown media type, bad confirmation code, unsupported method.
    answer = sim.poll()
    events_before = PrintJobEvent.objects.count()
    response = client.get(
        "/cloudprnt/", {"mac": sim.mac, "type": "application/vnd.star.starprnt", "token": answer["jobToken"]}, **auth
    )
    assert response.status_code == 415
    response = client.delete(f"/cloudprnt/?mac={sim.mac}&code=banana&token={answer['jobToken']}", **auth)
    assert response.status_code == 400
    assert client.put("/cloudprnt/", b"", **auth).status_code == 405
    assert job_of(order, printer).status == "sent"
    assert PrintJobEvent.objects.count() == events_before
    assert not [record for record in caplog.records if record.exc_info]
    assert all(record.levelno < logging.ERROR for record in caplog.records)


def test_https_is_required_when_debug_is_off(star, settings, client):
    printer, sim = star()
    settings.DEBUG = False  # as in production (and under the test runner)
    body = json.dumps({"printerMAC": sim.mac, "statusCode": "200 OK"})
    auth = {"HTTP_AUTHORIZATION": basic("x", printer.secret)}
    response = client.post("/cloudprnt/", body, content_type="application/json", secure=False, **auth)
    assert response.status_code in (301, 403)
    settings.SECURE_SSL_REDIRECT = False
    response = client.post("/cloudprnt/", body, content_type="application/json", secure=False, **auth)
    assert response.status_code == 403 and response.json()["error"] == "https_required"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.post("/cloudprnt/", body, content_type="application/json", HTTP_X_FORWARDED_PROTO="https", **auth)
    settings.DEBUG = True  # development: plain http is fine
    settings.SECURE_PROXY_SSL_HEADER = None
    response = client.post("/cloudprnt/", body, content_type="application/json", **auth)
    assert response.status_code == 200 and response.json() == {"jobReady": False}


def test_a_job_handed_out_and_never_confirmed_fails_interrupted(star, make_order):
    printer, sim = star()
    order = make_order()
    sim.poll()
    sim.current["type"] = "text/plain"
    sim.fetch()
    job = job_of(order, printer)
    assert cloud.cloud_jobs_interrupt(now=timezone.now() + timedelta(seconds=60)) == []
    later = job.sent_at + timedelta(seconds=601)
    assert cloud.cloud_jobs_interrupt(now=later) == [job.pk]
    job.refresh_from_db()
    assert job.status == "failed" and job.error_code == "interrupted"
    assert sim.poll() == {"jobReady": False}  # not handed out again: a person decides
    sim.current = {"token": job.handout_token}
    sim.confirm("200 OK")  # a late confirmation changes nothing
    job.refresh_from_db()
    assert job.status == "failed"


def test_a_printer_that_stops_polling_shows_offline_after_three_missed_polls(star, staff_events):
    printer, sim = star(poll_interval=5)
    sim.poll()
    printer.refresh_from_db()
    assert printer.connected
    seen = printer.last_seen_at
    assert cloud.cloud_printers_mark_stale(now=seen + timedelta(seconds=14)) == []
    staff_events()
    assert cloud.cloud_printers_mark_stale(now=seen + timedelta(seconds=16)) == [printer.pk]
    printer.refresh_from_db()
    assert not printer.connected
    pushed = [m["printer"] for m in staff_events() if m["type"] == "printer.updated"]
    assert pushed and pushed[-1]["connected"] is False
    sim.poll()
    printer.refresh_from_db()
    assert printer.connected


def test_disabled_printer_gets_no_job(star, make_order):
    printer, sim = star()
    make_order()
    Printer.objects.filter(pk=printer.pk).update(is_active=False)
    assert sim.poll() == {"jobReady": False}


def test_every_process_maintenance_marks_silent_printers_offline_and_interrupts_overdue_jobs(star, make_order):
    from printing import maintenance

    printer, sim = star(poll_interval=5)
    order = make_order()
    sim.poll()
    job = job_of(order, printer)
    long_ago = timezone.now() - timedelta(seconds=3600)
    Printer.objects.filter(pk=printer.pk).update(last_seen_at=long_ago)
    PrintJob.objects.filter(pk=job.pk).update(sent_at=long_ago)
    cloud_task = [task for task in maintenance.MAINTENANCE_TASKS if task.name == "cloud_printers"]
    assert maintenance.run_pass(force=True, tasks=cloud_task) == {}
    printer.refresh_from_db()
    job.refresh_from_db()
    assert not printer.connected
    assert job.status == "failed" and job.error_code == "interrupted"


def test_confirmation_by_get_with_delete_for_printers_told_delete_method_get(star, make_order, client):
    printer, sim = star()
    order = make_order()
    answer = sim.poll()
    sim.current["type"] = "text/plain"
    sim.fetch()
    response = client.get(
        "/cloudprnt/",
        {"mac": sim.mac, "code": "200 OK", "token": answer["jobToken"], "delete": ""},
        HTTP_AUTHORIZATION=basic("x", printer.secret),
        secure=True,
    )
    assert response.status_code == 200
    assert job_of(order, printer).status == "completed"
