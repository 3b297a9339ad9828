"""Epson Server Direct Print: a simulated TM printer with Digest authentication, via the test client."""

import logging
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from printing.models import Printer, PrintJob, PrintJobEvent
from tools.cloud_printers import EPOS_NS, ProtocolFailure, epos_text

pytestmark = pytest.mark.django_db(transaction=True)


def test_confirmed_order_printed_through_server_direct_print(epson, make_order, staff_events):
    printer, sim = epson()
    assert sim.cycle() == []
    order = make_order(customer_name="Luís Câmara")
    staff_events()
    jobs = sim.get_request()
    assert len(jobs) == 1
    token, document = jobs[0]
    job = PrintJob.objects.get(order=order, printer=printer)
    assert job.handout_token == token and job.status == "printing"
    text = epos_text(document)
    assert order.number in text and "Luís Câmara" in text and "Pão de queijo" in text
    assert document.find(f"{EPOS_NS}cut") is not None
    assert document.find(f"{EPOS_NS}symbol") is not None or document.find(f"{EPOS_NS}image") is not None

    sim.set_response([(token, True, "")])
    job.refresh_from_db()
    assert job.status == "completed"
    updates = [m["job"] for m in staff_events() if m["type"] == "job.updated" and m["job"]["id"] == job.pk]
    assert updates[-1]["status"] == "completed"
    assert sim.get_request() == []
    # The same result again changes nothing.
    events = job.events.count()
    sim.set_response([(token, True, "")])
    assert job.events.count() == events


def test_paper_out_result_holds_the_job_until_the_retry_window_or_a_ready_status(epson, make_order, settings):
    printer, sim = epson()
    order = make_order()
    sim.result_code = "EPTR_REC_EMPTY"
    assert len(sim.cycle()) == 1
    job = PrintJob.objects.get(order=order, printer=printer)
    assert job.status == "pending" and job.error_code == "paper_out"
    printer.refresh_from_db()
    assert printer.status == "paper_out"
    assert sim.get_request() == []  # within the retry window: the job waits
    sim.set_status(0x00080000)  # status notification: still paper end
    printer.refresh_from_db()
    assert printer.status == "paper_out"
    assert sim.get_request() == []
    sim.set_status(0x0F000006)  # paper loaded: ready
    printer.refresh_from_db()
    assert printer.status == "ready"
    sim.result_code = ""
    assert len(sim.cycle()) == 1
    job.refresh_from_db()
    assert job.status == "completed" and len(sim.printed) == 1


def test_without_status_notification_the_job_is_offered_again_after_the_retry_window(epson, make_order):
    printer, sim = epson()
    order = make_order()
    sim.result_code = "EPTR_COVER_OPEN"
    sim.cycle()
    assert sim.get_request() == []
    Printer.objects.filter(pk=printer.pk).update(status_reported_at=timezone.now() - timedelta(seconds=31))
    sim.result_code = ""
    assert len(sim.cycle()) == 1
    assert PrintJob.objects.get(order=order, printer=printer).status == "completed"


def test_a_restarted_printer_gets_the_same_job_again_and_prints_it_once(epson, make_order):
    printer, sim = epson()
    make_order()
    ((token, _document),) = sim.get_request()  # fetched, then the power goes before printing
    ((again, document),) = sim.get_request()
    assert again == token
    sim.printed.append(document)
    sim.set_response([(again, True, "")])
    assert sim.get_request() == []
    assert len(sim.printed) == 1
    assert PrintJob.objects.get(printer=printer).status == "completed"


def test_two_epson_printers_never_get_each_others_jobs(epson, make_order):
    first, sim_a = epson("Epson A", "epson-a")
    second, sim_b = epson("Epson B", "epson-b")
    order = make_order()
    ((token_a, _),) = sim_a.get_request()
    ((token_b, _),) = sim_b.get_request()
    assert PrintJob.objects.get(handout_token=token_a).printer_id == first.pk
    assert PrintJob.objects.get(handout_token=token_b).printer_id == second.pk
    sim_a.set_response([(token_b, True, "")])  # A reports B's job: ignored
    assert PrintJob.objects.get(handout_token=token_b).status == "printing"
    sim_a.set_response([(token_a, True, "")])
    sim_b.set_response([(token_b, True, "")])
    assert set(PrintJob.objects.filter(order=order).values_list("status", flat=True)) == {"completed"}


def test_wrong_secret_unknown_id_and_anothers_id_are_refused(epson, make_order, client):
    first, sim_a = epson("Epson A", "epson-a")
    second, _ = epson("Epson B", "epson-b")
    order = make_order()
    wrong = type(sim_a)(sim_a.transport, "epson-a", "cp_not-the-secret")
    with pytest.raises(ProtocolFailure) as refused:
        wrong.get_request()
    assert refused.value.status == 401
    unknown = type(sim_a)(sim_a.transport, "nobody", first.secret)
    with pytest.raises(ProtocolFailure) as refused:
        unknown.get_request()
    assert refused.value.status == 401
    basic_wrong = type(sim_a)(sim_a.transport, "epson-b", first.secret, use_digest=False)
    with pytest.raises(ProtocolFailure) as refused:
        basic_wrong.get_request()
    assert refused.value.status == 401
    # Digest as printer A, but the form names printer B.
    sim_a.get_request()
    status, _ = sim_a._post({"ConnectionType": "GetRequest", "ID": "epson-b"})
    assert status == 403
    # No credentials: a Digest challenge (what Epson firmware answers).
    response = client.post(
        "/epson/sdp/",
        urlencode({"ConnectionType": "GetRequest", "ID": "epson-a"}),
        content_type="application/x-www-form-urlencoded",
        secure=True,
    )
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Digest ")
    assert PrintJob.objects.get(order=order, printer=second).status == "pending"
    # HTTP Basic with the right secret works (e.g. curl).
    assert type(sim_a)(sim_a.transport, "epson-a", first.secret, use_digest=False).get_request()


def test_malformed_and_hostile_xml_is_refused_without_touching_any_job(epson, make_order, client, caplog):
    printer, sim = epson()
    make_order()
    ((token, _),) = sim.get_request()
    job = PrintJob.objects.get(printer=printer)
    events = PrintJobEvent.objects.count()
    caplog.set_level(logging.INFO)
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        "<PrintResponseInfo>&lol2;</PrintResponseInfo>"
    )
    external = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<PrintResponseInfo><ePOSPrint>&x;</ePOSPrint></PrintResponseInfo>"
    )
    for response_file in [
        "<PrintResponseInfo><ePOSPrint>",
        "not xml at all",
        "",
        bomb,
        external,
        "<Other/>",
        "<PrintResponseInfo><ePOSPrint><Parameter/></ePOSPrint></PrintResponseInfo>",
    ]:
        status, body = sim._post({"ConnectionType": "SetResponse", "ID": sim.device_id, "ResponseFile": response_file})
        assert status == 400, (response_file, body)
    for status_xml in [
        "<statusmonitor>",
        "<statusmonitor/>",
        '<statusmonitor><printerstatus asbstatus="zz"/></statusmonitor>',
    ]:
        status, _ = sim._post({"ConnectionType": "SetStatus", "ID": sim.device_id, "Status": status_xml})
        assert status == 400
    status, _ = sim._post({"ConnectionType": "Explode", "ID": sim.device_id})
    assert status == 400
    status, _ = sim._post({"ConnectionType": "SetResponse", "ID": sim.device_id, "ResponseFile": "x" * 70_000})
    assert status == 413
    assert client.get("/epson/sdp/", secure=True).status_code == 405
    job.refresh_from_db()
    assert job.status == "printing" and PrintJobEvent.objects.count() == events
    assert not [record for record in caplog.records if record.exc_info]
    sim.set_response([(token, True, "")])
    job.refresh_from_db()
    assert job.status == "completed"


def test_the_printer_refusing_the_xml_fails_the_job_as_bad_data(epson, make_order):
    printer, sim = epson()
    make_order()
    sim.get_request()
    refusal = (
        '<?xml version="1.0" encoding="utf-8"?><PrintResponseInfo Version="3.00"><ServerDirectPrint>'
        '<Response Success="false"><ErrorSummary>Invalid XML format</ErrorSummary>'
        "<ErrorDetail>parser error</ErrorDetail></Response></ServerDirectPrint></PrintResponseInfo>"
    )
    sim.post_raw({"ConnectionType": "SetResponse", "ID": sim.device_id, "ResponseFile": refusal})
    job = PrintJob.objects.get(printer=printer)
    assert job.status == "failed" and job.error_code == "bad_data" and "Invalid XML format" in job.error_message


def test_a_raster_only_epson_printer_gets_the_receipt_as_one_picture(epson, make_order):
    printer, sim = epson(paper_width=58, raster_only=True)
    make_order(customer_name="王小明")
    ((token, document),) = sim.get_request()
    image = document.find(f"{EPOS_NS}image")
    assert image is not None and int(image.get("width")) == 384 and int(image.get("height")) > 100
    assert document.find(f"{EPOS_NS}text") is None and document.find(f"{EPOS_NS}cut") is not None
    sim.set_response([(token, True, "")])
    assert PrintJob.objects.get(printer=printer).status == "completed"


def test_an_old_digest_nonce_is_answered_stale_and_the_printer_authenticates_again(epson, make_order):
    import time

    from printing.cloud import auth

    _printer, sim = epson()
    assert auth.nonce_state(auth.new_nonce(now=time.time() - 3600)) == "stale"
    assert auth.nonce_state("123.forged") == "bad"
    sim.nonce = auth.new_nonce(now=time.time() - 3600)  # what the printer cached an hour ago
    make_order()
    jobs = sim.get_request()  # 401 stale=true, then a fresh nonce
    assert len(jobs) == 1 and sim.nonce != auth.new_nonce(now=time.time() - 3600)


def test_a_document_from_the_print_api_prints_on_a_cloud_printer(epson, star):
    from printing import services

    epson_printer, epson_sim = epson()
    star_printer, star_sim = star()
    document = {"commands": [{"type": "text", "data": {"content": {"text": "Etiqueta da cozinha: ação"}}}]}
    services.job_create_document(printer=epson_printer, document=document)
    services.job_create_document(printer=star_printer, document=document)
    ((_token, printed),) = epson_sim.cycle()
    assert "Etiqueta da cozinha: ação" in epos_text(printed)
    star_sim.supported = ("text/plain",)
    assert "Etiqueta da cozinha: ação" in star_sim.cycle().decode("utf-8")
    assert set(PrintJob.objects.values_list("status", flat=True)) == {"completed"}
