"""POST/GET /api/v1/print-jobs: documents and raw bytes in, state and history out, bad input refused."""

import base64
from datetime import timedelta

import pytest
from django.utils import timezone

from printing import services
from printing.models import PrintJob
from printing.selectors import job_payloads
from tests.api.conftest import DOCUMENT, problem_fields

pytestmark = pytest.mark.django_db

URL = "/api/v1/print-jobs"


def b64(data):
    return base64.b64encode(data).decode()


def test_it_queues_a_document_by_printer_name(api, printer):
    response = api.post(URL, {"printer": "Balcão", "document": DOCUMENT, "title": "Senha 42", "priority": 2})

    assert response.status_code == 201, response.content
    body = response.json()
    job = PrintJob.objects.get()
    assert body["id"] == job.pk
    assert body["status"] == "pending"
    assert body["printer"] == {"id": printer.pk, "name": "Balcão"}
    assert body["url"] == f"http://testserver/api/v1/print-jobs/{job.pk}"
    assert response["Location"] == body["url"]
    assert body["created_at"]
    assert (job.kind, job.title, job.priority, job.source) == ("document", "Senha 42", 2, "Loja online")
    assert b"Pedido 42" in bytes(job.escpos)
    assert "Pedido 42" in job.content


def test_a_size_written_as_a_name_prints_and_the_history_says_how(api, printer):
    document = {
        "commands": [{"type": "text", "data": {"content": {"text": "Senha 7", "content_style": {"size": "normal"}}}}]
    }
    response = api.post(URL, {"printer": "Balcão", "document": document})

    assert response.status_code == 201, response.content
    (event,) = PrintJob.objects.get().events.all()
    assert event.status == "pending" and "size" in event.message and "normal" in event.message
    history = api.get(f"{URL}/{response.json()['id']}").json()["events"]
    assert "normal" in history[0]["message"]


def test_it_queues_a_document_by_printer_id(api, printer):
    response = api.post(URL, {"printer": printer.pk, "document": DOCUMENT})

    assert response.status_code == 201
    assert PrintJob.objects.get().printer == printer


@pytest.mark.parametrize("raw_format", ["escpos", "tspl", "zpl", "text"])
def test_raw_bytes_are_stored_untouched(api, printer, raw_format):
    data = b"^XA^FO50,50^ADN,36,20^FDCantina \xc3\xa7^FS^XZ\x00\xff"

    response = api.post(URL, {"printer": "Balcão", "raw": b64(data), "raw_format": raw_format, "copies": 2})

    assert response.status_code == 201, response.content
    job = PrintJob.objects.get()
    assert (job.kind, job.raw_format, job.copies) == ("raw", raw_format, 2)
    assert bytes(job.escpos) == data * 2
    assert job_payloads([job.pk])[0]["escpos"] == b64(data * 2)  # what the agent gets, base64 of the same bytes


def test_expire_after_sets_the_deadline_and_an_expired_job_fails(api, printer):
    response = api.post(URL, {"printer": "Balcão", "document": DOCUMENT, "expire_after": 60})

    job = PrintJob.objects.get(pk=response.json()["id"])
    assert timedelta(seconds=55) < job.expires_at - timezone.now() <= timedelta(seconds=60)
    assert services.jobs_expire(now=job.expires_at - timedelta(seconds=1)) == []
    assert services.jobs_expire(now=job.expires_at + timedelta(seconds=1)) == [job.pk]
    assert api.get(f"{URL}/{job.pk}").json()["error_code"] == "expired"


def test_an_expired_job_is_never_sent(api, printer):
    job_id = api.post(URL, {"printer": "Balcão", "document": DOCUMENT, "expire_after": 1}).json()["id"]
    PrintJob.objects.filter(pk=job_id).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert services.jobs_claim(printer_id=printer.pk) == []


def test_detail_has_state_attempts_timestamps_and_history(api, printer):
    job_id = api.post(URL, {"printer": "Balcão", "document": DOCUMENT}).json()["id"]
    services.jobs_claim(printer_id=printer.pk)
    services.job_mark_status(job_id=job_id, printer_id=printer.pk, status="printing")
    services.job_mark_status(job_id=job_id, printer_id=printer.pk, status="completed")

    response = api.get(f"{URL}/{job_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "completed"
    assert body["attempts"] == 0
    assert body["sent_at"] and body["started_at"] and body["finished_at"]
    assert [event["status"] for event in body["events"]] == ["pending", "sent", "printing", "completed"]


def test_list_filters_by_status_printer_and_since_and_paginates(api, printer, make_printer):
    other = make_printer("Cozinha")
    ids = [api.post(URL, {"printer": "Balcão", "document": DOCUMENT}).json()["id"] for _ in range(5)]
    kitchen = api.post(URL, {"printer": "Cozinha", "document": DOCUMENT}).json()["id"]
    services.job_cancel(job_id=ids[0])
    PrintJob.objects.filter(pk=ids[1]).update(created_at=timezone.now() - timedelta(days=2))

    assert [job["id"] for job in api.get(URL, {"status": "cancelled"}).json()["items"]] == [ids[0]]
    assert [job["id"] for job in api.get(URL, {"printer": "Cozinha"}).json()["items"]] == [kitchen]
    assert [job["id"] for job in api.get(URL, {"printer": str(other.pk)}).json()["items"]] == [kitchen]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids[1] not in [job["id"] for job in api.get(URL, {"since": since}).json()["items"]]

    first = api.get(URL, {"limit": 4}).json()
    assert [job["id"] for job in first["items"]] == [kitchen, ids[4], ids[3], ids[2]]
    assert first["next"].startswith("http://testserver/api/v1/print-jobs?")
    second = api.get(URL, {"limit": 4, "cursor": first["next_cursor"]}).json()
    assert [job["id"] for job in second["items"]] == [ids[1], ids[0]]
    assert second["next"] is None and second["next_cursor"] is None


def test_list_refuses_an_unknown_status_naming_the_field(api, printer):
    response = api.get(URL, {"status": "lost"})

    assert response.status_code == 422
    assert problem_fields(response) == ["status"]


def test_cancel_a_queued_job(api, printer):
    job_id = api.post(URL, {"printer": "Balcão", "document": DOCUMENT}).json()["id"]

    response = api.post(f"{URL}/{job_id}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert PrintJob.objects.get(pk=job_id).status == "cancelled"


def test_cancel_a_printing_job_is_a_conflict(api, printer):
    job_id = api.post(URL, {"printer": "Balcão", "document": DOCUMENT}).json()["id"]
    services.jobs_claim(printer_id=printer.pk)
    services.job_mark_status(job_id=job_id, printer_id=printer.pk, status="printing")

    response = api.post(f"{URL}/{job_id}/cancel")

    assert response.status_code == 409
    assert response.json()["code"] == "not_cancellable"
    assert PrintJob.objects.get(pk=job_id).status == "printing"


def test_unknown_job_is_404(api, printer):
    assert api.get(f"{URL}/999").status_code == 404
    assert api.post(f"{URL}/999/cancel").status_code == 404


# --- bad input: a precise problem naming the field, and nothing created ---------------------


def refused(api, body=None, *, raw=None):
    response = api.post(URL, body, raw=raw)
    assert PrintJob.objects.count() == 0
    assert response["Content-Type"] == "application/problem+json"
    return response


def test_unknown_printer_is_404(api, printer):
    response = refused(api, {"printer": "Nowhere", "document": DOCUMENT})

    assert response.status_code == 404
    assert problem_fields(response) == ["printer"]
    assert "Nowhere" in response.json()["detail"]


def test_disabled_printer_is_409(api, printer):
    services.printer_set_active(printer=printer, active=False)

    response = refused(api, {"printer": "Balcão", "document": DOCUMENT})

    assert response.status_code == 409
    assert response.json()["code"] == "printer_disabled"
    assert problem_fields(response) == ["printer"]


def test_invalid_document_is_422_with_the_command_index(api, printer):
    document = {"version": "1.0", "commands": [{"type": "text", "data": {"content": "ok"}}, {"type": "qr", "data": {}}]}

    response = refused(api, {"printer": "Balcão", "document": document})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_document"
    assert response.json()["detail"].startswith("command 1 (qr):")
    assert problem_fields(response) == ["document.commands.1.data"]


def test_raw_over_one_mebibyte_is_413(api, printer):
    response = refused(api, {"printer": "Balcão", "raw": b64(b"x" * (1024 * 1024 + 1)), "raw_format": "zpl"})

    assert response.status_code == 413
    assert problem_fields(response) == ["raw"]


def test_exactly_one_mebibyte_prints(api, printer):
    response = api.post(URL, {"printer": "Balcão", "raw": b64(b"x" * (1024 * 1024)), "raw_format": "zpl"})

    assert response.status_code == 201


def test_bad_base64_is_422(api, printer):
    response = refused(api, {"printer": "Balcão", "raw": "not base64!", "raw_format": "escpos"})

    assert response.status_code == 422
    assert problem_fields(response) == ["raw"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"printer": "Balcão", "document": DOCUMENT, "copeis": 2}, "copeis"),
        ({"printer": "Balcão", "document": DOCUMENT, "copies": "2"}, "copies"),
        ({"printer": "Balcão", "document": DOCUMENT, "copies": 9}, "copies"),
        ({"printer": "Balcão", "document": DOCUMENT, "priority": 0}, "priority"),
        ({"printer": "Balcão", "document": DOCUMENT, "priority": True}, "priority"),
        ({"printer": ["Balcão"], "document": DOCUMENT}, "printer"),
        ({"printer": "Balcão", "document": "text"}, "document"),
        ({"printer": "Balcão", "raw": b64(b"x"), "raw_format": "pdf"}, "raw_format"),
        ({"printer": "Balcão", "raw": b64(b"x")}, "raw_format"),
        ({"printer": "Balcão", "document": DOCUMENT, "raw_format": "zpl"}, "raw_format"),
        ({"printer": "Balcão"}, "document"),
        ({"printer": "Balcão", "document": DOCUMENT, "raw": b64(b"x"), "raw_format": "zpl"}, "raw"),
        ({"document": DOCUMENT}, "printer"),
        ({"printer": "Balcão", "document": DOCUMENT, "expire_after": -1}, "expire_after"),
        ({"printer": "Balcão", "document": DOCUMENT, "title": "a\u0000b"}, "title"),
        (
            {"printer": "Balcão", "document": {**DOCUMENT, "commands": [{"type": "qr", "data": {"data": "x\u0000"}}]}},
            "document",
        ),
    ],
)
def test_bad_fields_are_422_naming_the_field(api, printer, body, field):
    response = refused(api, body)

    assert response.status_code == 422, response.content
    assert field in problem_fields(response)


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]", "\xff"])
def test_a_body_that_is_not_a_json_object_is_refused(api, printer, raw):
    response = refused(api, raw=raw)

    assert response.status_code in {400, 422}
    assert problem_fields(response) in (["body"],)


def test_a_server_failure_is_a_problem_document_without_traceback(api, printer, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(services, "job_create_document", broken)

    response = api.post(URL, {"printer": "Balcão", "document": DOCUMENT})

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "server_error"
    assert b"Traceback" not in response.content and b"on fire" not in response.content


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("delete", URL, 405),
        ("put", "/api/v1/orders", 405),
        ("get", "/api/v1/nothing", 404),
    ],
)
def test_unknown_routes_and_methods_are_problem_documents(api, method, path, status):
    response = getattr(api.client, method)(path, HTTP_AUTHORIZATION=f"Bearer {api.key}")

    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
