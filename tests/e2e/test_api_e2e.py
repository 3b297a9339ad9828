"""End to end through the print API: a real daphne, the real agent process, the real fake printer.

An order sent to ``POST /api/v1/orders`` prints its receipt on paper, and ``GET
/api/v1/print-jobs/{id}`` follows it to ``completed``; raw ZPL bytes reach the printer untouched.
"""

import base64
import json
import urllib.error
import urllib.request

import pytest

from tools.polling import wait_for
from tools.processes import AgentProcess, DaphneServer, FakePrinterProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def call(server, key, method, path, body=None, **headers):
    request = urllib.request.Request(
        server.http_url + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def system(tmp_path):
    server = DaphneServer(tmp_path / "server")
    token = server.manage.add_printer("Balcão")
    key = server.manage("apikey_add", "Loja online").stdout.strip().splitlines()[-1]
    printer = FakePrinterProcess(tmp_path / "paper").start()
    server.start()
    agent = AgentProcess(
        server.agent_url, token, printer.url, tmp_path / "agent" / "journal.sqlite3", tmp_path / "agent.log"
    ).start()
    yield server, key, printer
    agent.stop()
    server.stop()
    printer.stop()


def wait_completed(server, key, job_id):
    def completed():
        status, job = call(server, key, "GET", f"/api/v1/print-jobs/{job_id}")
        assert status == 200 and job["status"] not in {"failed", "cancelled"}, job
        return job if job["status"] == "completed" else None

    return wait_for(completed, 60, interval=0.2, message=f"job {job_id} to be completed")


def test_an_order_sent_to_the_api_is_printed_by_the_agent(system):
    server, key, printer = system
    order = {
        "external_id": "shop-1",
        "customer_name": "Ana Pão",
        "channel": "counter",
        "payment_method": "pix",
        "items": [{"name": "Pão de queijo", "quantity": 2, "unit_price": "4.50"}],
        "confirm": True,
    }

    status, body = call(server, key, "POST", "/api/v1/orders", order, **{"Idempotency-Key": "shop-1"})

    assert status == 201, body
    [receipt] = body["receipts"]
    job = wait_completed(server, key, receipt["id"])
    assert [event["status"] for event in job["events"]] == ["pending", "sent", "printing", "completed"]
    paper = wait_for(lambda: printer.received(), 10, message="the receipt on paper")
    assert len(paper) == 1 and "Ana Pão" in paper[0] and "Pão de queijo" in paper[0]
    _, again = call(server, key, "POST", "/api/v1/orders", order, **{"Idempotency-Key": "shop-1"})
    assert again["id"] == body["id"]
    assert call(server, key, "GET", f"/api/v1/orders/{body['id']}")[1]["receipts"][0]["status"] == "completed"
    assert len(printer.received()) == 1


def test_raw_label_bytes_reach_the_printer_untouched(system):
    server, key, printer = system
    label = "^XA^CI28^FO40,40^A0N,40,40^FDPão de queijo R$ 4,50^FS^BY2^FO40,100^BCN,80^FD000042^FS^XZ\r\n".encode()

    status, body = call(
        server,
        key,
        "POST",
        "/api/v1/print-jobs",
        {"printer": "Balcão", "raw": base64.b64encode(label).decode(), "raw_format": "zpl"},
    )

    assert status == 201, body
    wait_completed(server, key, body["id"])
    [job_file] = wait_for(lambda: sorted(printer.out_dir.glob("*.bin")), 10, message="the label")
    assert job_file.read_bytes() == label
