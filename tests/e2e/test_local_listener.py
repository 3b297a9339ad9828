"""The agent as a local print server: the seeds' own clients against a running agent process.

Each client below is written from its seed's documented messages and the real projects' field
names (ticket-daemon: ``tipo``/``id``/``datos``/``auth_token``, ``ack`` with ``current`` and
``capacity``, ``result`` with ``mensaje``; PrinterWebsocket: ``call``/``uid``/``params``,
``status_code``; Cantina Virtual: an order JSON and ``status``/``message``). The agent runs as a
real process, with ``import django`` made impossible, and prints on the real fake printer.
"""

import asyncio
import json
import time
import urllib.request

import pytest
import websockets

from tests.e2e.local_listener_support import (
    Client,
    LocalAgent,
    connect,
    printed_bytes,
    ticket,
)
from tools.processes import FakePrinterProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


async def until(predicate, timeout=30.0, message="condition"):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}")
        await asyncio.sleep(0.05)
    return value


@pytest.fixture
def printer(tmp_path):
    printer = FakePrinterProcess(tmp_path / "printer-out").start()
    yield printer
    printer.stop()


@pytest.fixture
def make_agent(tmp_path, printer):
    agents = []

    def make(*args, name="agent", **kwargs):
        agent = LocalAgent(tmp_path / name, printer.url, *args, **kwargs).start()
        agents.append(agent)
        return agent

    yield make
    for agent in agents:
        agent.stop(20)


# --- ticket-daemon (seed 002) ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_ticket_daemon_client_gets_info_ack_and_result_and_the_ticket_prints(make_agent, printer):
    agent = make_agent()
    async with connect(agent.url("/ws")) as ws:
        client = Client(ws)
        info = await client.recv()
        assert info["tipo"] == "info" and info["status"] == "connected"
        await client.send(ticket("pos1-20260115-001", "TICKET DE PRUEBA", "Coração de frango"))
        ack = await client.recv()
        assert ack == {
            "tipo": "ack",
            "id": "pos1-20260115-001",
            "status": "queued",
            "current": 1,
            "capacity": 100,
            "mensaje": "Job queued for printing",
        }
        result = await client.recv()
        assert result["tipo"] == "result" and result["id"] == "pos1-20260115-001"
        assert result["status"] == "success", result
        await until(lambda: printer.received(), message="the ticket at the printer")
        assert "TICKET DE PRUEBA" in printer.received()[0]
        assert "Coração de frango" in printer.received()[0]

        await client.send({"tipo": "ping", "id": "ping-1736956800000"})
        assert await client.recv() == {"tipo": "pong", "id": "ping-1736956800000", "status": "ok"}
        await client.send({"tipo": "status"})
        status = await client.recv()
        # Zero values are omitted, as ticket-daemon (Go omitempty) does.
        assert status == {"tipo": "status", "status": "ok", "capacity": 100, "mensaje": "Queue: 0/100"}
        await client.send({"tipo": "get_printers"})
        printers = await client.recv()
        assert printers["tipo"] == "printers" and printers["status"] == "ok"
        assert printers["printers"][0]["name"] == printer.url and printers["printers"][0]["status"] == "ready"
        assert set(printers["printers"][0]) == {
            "name",
            "port",
            "driver",
            "status",
            "is_default",
            "is_virtual",
            "printer_type",
        }
        assert printers["summary"]["status"] == "ok" and printers["summary"]["default_name"] == printer.url
        assert {"detected_count", "thermal_count"} <= set(printers["summary"])


@pytest.mark.asyncio
async def test_ticket_daemon_errors_unknown_type_missing_datos_bad_json_and_the_agent_keeps_serving(
    make_agent, printer
):
    agent = make_agent()
    async with connect(agent.url("/ws")) as ws:
        client = Client(ws)
        await client.recv()  # info
        await client.send({"tipo": "reimprimir", "id": "x1"})
        assert await client.recv() == {
            "tipo": "error",
            "id": "x1",
            "status": "error",
            "mensaje": "Unknown message type: reimprimir",
        }
        await client.send({"tipo": "ticket", "id": "x2"})
        assert await client.recv() == {
            "tipo": "error",
            "id": "x2",
            "status": "error",
            "mensaje": "Field 'datos' is required for type 'ticket'",
        }
        await client.send("{not json")
        error = await client.recv()
        assert error["tipo"] == "error" and "JSON" in error["mensaje"]
        await client.send(json.dumps([1, 2]))
        assert (await client.recv())["tipo"] == "error"
        await client.send({"tipo": "ticket", "id": "x3", "datos": {"commands": [{"type": "laser"}]}})
        error = await client.recv()
        assert error["tipo"] == "error" and error["id"] == "x3" and "laser" in error["mensaje"]
        await client.send(ticket("x4", "still alive"))
        assert (await client.recv())["tipo"] == "ack"
        assert (await client.recv())["status"] == "success"
    await until(lambda: len(printer.received()) == 1, message="only the good ticket printed")
    assert "still alive" in printer.received()[0]


@pytest.mark.asyncio
async def test_a_ticket_without_the_local_token_is_refused_and_nothing_prints(make_agent, printer):
    agent = make_agent("--local-token", "s3cret-token")
    async with connect(agent.url("/ws")) as ws:
        client = Client(ws)
        await client.recv()
        await client.send(ticket("t1", "no token"))
        assert await client.recv() == {
            "tipo": "error",
            "id": "t1",
            "status": "error",
            "mensaje": "Invalid or missing auth token",
        }
        await client.send(ticket("t2", "wrong token", auth_token="wrong-token"))
        assert (await client.recv())["mensaje"] == "Invalid or missing auth token"
        await client.send(ticket("t3", "right token", auth_token="s3cret-token"))
        assert (await client.recv())["tipo"] == "ack"
        assert (await client.recv())["status"] == "success"
    await until(lambda: printer.received(), message="the authorised ticket")
    assert len(printer.received()) == 1 and "right token" in printer.received()[0]


@pytest.mark.asyncio
async def test_a_full_queue_answers_queue_full_and_keeps_order_when_the_paper_comes_back(make_agent, printer):
    printer.out_dir.mkdir(parents=True, exist_ok=True)
    (printer.out_dir / "state").write_text("paper_out")
    agent = make_agent("--queue-capacity", "3")
    async with connect(agent.url("/ws")) as ws:
        client = Client(ws)
        await client.recv()
        for n in range(3):
            await client.send(ticket(f"job-{n}", f"ticket number {n}"))
            ack = await client.recv()
            assert ack["tipo"] == "ack" and ack["current"] == n + 1 and ack["capacity"] == 3, ack
        await client.send(ticket("job-3", "one too many"))
        assert await client.recv() == {
            "tipo": "error",
            "id": "job-3",
            "status": "error",
            "mensaje": "Queue full, please retry in a few seconds",
        }
        assert printer.received() == []
        (printer.out_dir / "state").write_text("ready")
        results = [await client.recv(timeout=60) for _ in range(3)]
        assert [(r["tipo"], r["id"], r["status"]) for r in results] == [
            ("result", f"job-{n}", "success") for n in range(3)
        ]
    texts = printer.received()
    assert len(texts) == 3
    assert [next(n for n in range(3) if f"ticket number {n}" in text) for text in texts] == [0, 1, 2]


def test_health_answers_in_ticket_daemons_shape_with_cors(make_agent):
    agent = make_agent()
    with urllib.request.urlopen(f"http://127.0.0.1:{agent.port}/health", timeout=10) as response:
        assert response.headers["Content-Type"] == "application/json"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        health = json.loads(response.read())
    assert health["status"] == "ok"
    assert health["queue"] == {"current": 0, "capacity": 100, "utilization": 0.0}
    assert set(health["worker"]) == {"running", "jobs_processed", "jobs_failed"}
    assert set(health["printers"]) >= {"status", "detected_count", "thermal_count", "default_name"}
    assert isinstance(health["uptime_seconds"], int)


# --- PrinterWebsocket (seed 003) ------------------------------------------------------------


TSPL = 'SIZE 40 mm, 30 mm\r\nGAP 3 mm, 0 mm\r\nCLS\r\nTEXT 25,60,"4",0,1,1,"26 OCT T 07"\r\nPRINT 1,1\r\n'


@pytest.mark.asyncio
async def test_printerwebsocket_client_finds_printers_first_and_prints_raw_tspl_byte_for_byte(make_agent, printer):
    agent = make_agent()
    async with connect(agent.url("/")) as ws:
        client = Client(ws)
        # PrinterWebSocket.fetchPrinters() takes the first message it receives as the answer.
        await client.send({"call": "printers.find", "uid": "uid-hHOIa02asXJ"})
        found = await client.recv()
        assert found["uid"] == "uid-hHOIa02asXJ" and found["status_code"] == 0
        assert isinstance(found["result"], list) and found["result"] and found["result"][0] == printer.url
        await client.send({"call": "server.version", "uid": "uid-2"})
        version = await client.recv()
        assert version["uid"] == "uid-2" and version["info"] == "serverVersion" and version["status_code"] == 0
        await client.send(
            {"call": "print", "uid": "uid-3", "params": {"printer": {"name": "Gprinter GP-3120TUC"}, "data": [TSPL]}}
        )
        started = await client.recv()
        assert started["uid"] == "uid-3" and started["status_code"] == 1
        done = await client.recv()
        assert done == {
            "uid": "uid-3",
            "status": "success",
            "message": "Printed on Gprinter GP-3120TUC",
            "status_code": 0,
        }
        await client.send({"call": "printerStatus", "uid": "uid-4", "PrinterName": "Gprinter GP-3120TUC"})
        status = await client.recv()
        assert status == {
            "uid": "uid-4",
            "status": "Printer status retrieved",
            "PrinterName": "Gprinter GP-3120TUC",
            "status_code": 0,
        }
        await client.send({"call": "print", "uid": "uid-5", "params": {"printer": {"name": "X"}}})
        assert await client.recv() == {
            "uid": "uid-5",
            "status": "error",
            "message": "Invalid printer or TSPL data",
            "status_code": 3,
        }
    await until(lambda: printed_bytes(printer), message="the TSPL at the printer")
    assert printed_bytes(printer) == [TSPL.encode()]


@pytest.mark.asyncio
async def test_printerwebsocket_readme_lines_are_sent_as_command_lines(make_agent, printer):
    agent = make_agent()
    lines = ["SIZE 100 mm, 150 mm", "GAP 3 mm, 0", 'TEXT 100,100,"TSS24.BF2",0,1,1,"Hello World"', "PRINT 1,1"]
    async with connect(agent.url("/printer")) as ws:
        client = Client(ws)
        await client.send({"call": "print", "uid": "u", "params": {"printer": {"name": "Any"}, "data": lines}})
        assert (await client.recv())["status_code"] == 1
        assert (await client.recv())["status"] == "success"
    await until(lambda: printed_bytes(printer), message="the label")
    assert printed_bytes(printer) == ["".join(line + "\r\n" for line in lines).encode()]


@pytest.mark.asyncio
async def test_on_other_paths_the_first_message_is_the_answer_to_the_first_request(make_agent):
    agent = make_agent()
    for path in ("/", "/printers", "/ws/"):
        async with connect(agent.url(path)) as ws:
            client = Client(ws)
            await client.send({"call": "printers.find", "uid": "first"})
            first = await client.recv()
            assert first["uid"] == "first" and first["result"], (path, first)


# --- Cantina Virtual (seed 000) -------------------------------------------------------------


ORDER = {
    "number": "0042",
    "customer": {"name": "Joana Conceição"},
    "channel": "counter",
    "items": [
        {"name": "Pão de queijo", "quantity": 2, "price": "4.50"},
        {"name": "Açaí com maçã", "quantity": 1, "price": 12.0},
    ],
    "total": "21.00",
    "payment_method": "Pix",
}


@pytest.mark.asyncio
async def test_cantina_virtual_order_prints_the_canteen_receipt_with_accents(make_agent, printer):
    agent = make_agent("--shop-name", "Cantina São José")
    async with connect(agent.url("/")) as ws:
        client = Client(ws)
        await client.send(ORDER)
        reply = await client.recv()
        assert reply["status"] == "success", reply
        assert "#0042" in reply["message"]
        await client.send({**ORDER, "total": "99.00"})
        refused = await client.recv()
        assert refused["status"] == "error" and "total" in refused["message"]
        await client.send({"items": [{"name": "Suco"}]})
        refused = await client.recv()
        assert refused["status"] == "error" and "price" in refused["message"]
    await until(lambda: printer.received(), message="the receipt")
    (text,) = printer.received()
    for expected in (
        "Cantina São José",
        "PEDIDO #0042",
        "Joana Conceição",
        "Pão de queijo",
        "Açaí com maçã",
        "R$ 21,00",
        "Pix",
        "Balcão",
    ):
        assert expected in text, (expected, text)


@pytest.mark.asyncio
async def test_cantina_virtual_poster_document_without_envelope(make_agent, printer):
    agent = make_agent()
    document = {
        "version": "1.0",
        "commands": [
            {"type": "text", "data": {"content": "Senha 17 — retirar no balcão"}},
            {"type": "cut", "data": {"mode": "full"}},
        ],
    }
    async with connect(agent.url("/")) as ws:
        await ws.send(json.dumps(document))
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["status"] == "success"
    await until(lambda: printer.received(), message="the document")
    assert "Senha 17 — retirar no balcão" in printer.received()[0]


# --- security --------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_page_from_an_origin_not_allowed_is_refused_before_anything_prints(make_agent, printer):
    agent = make_agent("--allow-origin", "https://pos.example.com")
    for origin in ("https://evil.example", "null", "https://pos.example.com.evil.example"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(agent.url("/ws"), origin=origin) as ws:
                await ws.send(json.dumps(ticket("evil", "should not print")))
        assert refused.value.response.status_code == 403
    async with connect(agent.url("/ws"), origin="https://pos.example.com") as ws:
        client = Client(ws)
        await client.recv()
        await client.send(ticket("good", "allowed page"))
        assert (await client.recv())["tipo"] == "ack"
        assert (await client.recv())["status"] == "success"
    async with connect(agent.url("/")) as ws:  # no Origin: a native client
        await ws.send(json.dumps(ORDER))
        assert json.loads(await asyncio.wait_for(ws.recv(), 30))["status"] == "success"
    await until(lambda: len(printer.received()) == 2, message="two allowed jobs")
    assert not any("should not print" in text for text in printer.received())
    assert "refused a connection from origin 'https://evil.example'" in agent.log()


@pytest.mark.asyncio
async def test_oversized_and_flooding_messages_get_errors_in_the_clients_dialect(make_agent, printer):
    agent = make_agent()
    async with connect(agent.url("/ws"), max_size=None) as ws:
        client = Client(ws)
        await client.recv()
        await client.send({"tipo": "ticket", "id": "big", "datos": {"padding": "x" * (3 * 2**20)}})
        error = await client.recv()
        assert error["tipo"] == "error" and "too big" in error["mensaje"]
        for n in range(40):  # the job rate limit: a burst of 30, then 1 a second
            await client.send(ticket(f"burst-{n}", f"burst {n}"))
        replies = [await client.recv(timeout=60) for _ in range(40 + 30)]
        refused = [r for r in replies if r["tipo"] == "error"]
        assert refused and all(
            r["mensaje"] == "Rate limit exceeded: please wait before submitting more jobs" for r in refused
        )
    assert agent.alive


@pytest.mark.asyncio
async def test_a_ticket_sent_again_with_the_same_id_prints_once(make_agent, printer):
    """A ticket-daemon client that lost its connection before the ``result`` (the agent restarted,
    Wi-Fi dropped) sends the same ticket again: it used to print twice. Same id: printed once;
    the repeat hears the first one's result. A new id, or the id reused for other content, prints."""
    agent = make_agent()
    async with connect(agent.url("/ws")) as first, connect(agent.url("/ws")) as second:
        one, two = Client(first), Client(second)
        await one.recv()  # info
        await two.recv()
        await one.send(ticket("pos1-dup-001", "UMA VEZ SÓ"))
        await two.send(ticket("pos1-dup-001", "UMA VEZ SÓ"))  # while the first is queued or printing
        assert (await one.recv())["tipo"] == "ack"
        repeat_ack = await two.recv()
        assert repeat_ack["tipo"] in ("ack", "result"), repeat_ack
        assert (await one.recv())["status"] == "success"
        if repeat_ack["tipo"] == "ack":
            assert (await two.recv())["status"] == "success"
        else:
            assert repeat_ack["status"] == "success"
    async with connect(agent.url("/ws")) as later:
        client = Client(later)
        await client.recv()
        await client.send(ticket("pos1-dup-001", "UMA VEZ SÓ"))  # long after it printed
        answer = await client.recv()
        assert answer["tipo"] == "result" and answer["status"] == "success", answer
        assert "Already printed" in answer["mensaje"]
        await client.send(ticket("pos1-dup-002", "OUTRO"))
        assert (await client.recv())["tipo"] == "ack"
        assert (await client.recv())["status"] == "success"
        await client.send(ticket("pos1-dup-001", "OUTRO TEXTO"))  # an id reused for another ticket
        assert (await client.recv())["tipo"] == "ack"
        assert (await client.recv())["status"] == "success"
    await until(lambda: len(printer.received()) >= 3, message="the other tickets at the printer")
    await asyncio.sleep(1.0)  # anything printed twice would be there by now
    texts = printer.received()
    assert sum("UMA VEZ" in text for text in texts) == 1, texts
    assert sum("OUTRO" in text for text in texts) == 2, texts  # "OUTRO" and "OUTRO TEXTO"
