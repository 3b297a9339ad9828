"""The agent's local listener (``--listen``) under garbage, against a real agent process.

Every frame a local page or app could send, in each of the three dialects (ticket-daemon
``tipo``, PrinterWebsocket ``call``/``uid``, Cantina Virtual order/document JSON), plus random
text and bytes, oversized frames, floods, hostile origins and wrong tokens: the client gets an
error in its own dialect or a clean close, the agent keeps answering a well-formed ping /
``printers.find`` afterwards, and nothing reaches the printer unless the right token came with it.
"""

import asyncio
import json
import os
import socket
import uuid

import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.e2e.local_listener_support import LocalAgent, connect, printed_bytes, ticket
from tools.polling import wait_for
from tools.processes import FakePrinterProcess

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

TOKEN = "local-s3cret-token"
EXAMPLES = int(os.getenv("FUZZ_EXAMPLES", "60"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
# Close codes a client may see: normal, going away, policy (flood), too big.
CLEAN_CLOSES = {1000, 1001, 1008, 1009}


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    """One fake printer and one agent with --local-token, shared by this module's attacks."""
    workdir = tmp_path_factory.mktemp("local-fuzz")
    printer = FakePrinterProcess(workdir / "printer-out").start()
    agent = LocalAgent(
        workdir / "agent", printer.url, "--local-token", TOKEN, "--allow-origin", "https://pos.example.com"
    ).start()
    yield agent, printer
    agent.stop(20)
    printer.stop()
    assert "unexpected error" not in agent.log(), agent.log()[-3000:]
    assert "Traceback" not in agent.log(), agent.log()[-3000:]


# --- strategies -------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=15,
)
tokens = st.one_of(
    st.none(), st.text(max_size=30), st.just(TOKEN[:-1]), st.just(TOKEN + " "), st.just(TOKEN.upper()), json_values
)
commands = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["text", "cut", "qr", "barcode", "image", "raw", "beep", "laser"]),
        "data": st.dictionaries(st.sampled_from(["content", "data", "lines", "mode"]), json_values, max_size=3)
        | json_values,
    }
)
documents = st.fixed_dictionaries(
    {"commands": st.lists(commands, max_size=4) | json_values},
    optional={"version": json_values, "profile": json_values},
)
ticket_daemon = st.fixed_dictionaries(
    {"tipo": st.sampled_from(["ticket", "status", "ping", "get_printers", "info", "", "TICKET"]) | json_values},
    optional={"id": json_values, "datos": documents | json_values, "auth_token": tokens},
)
printer_websocket = st.fixed_dictionaries(
    {"call": st.sampled_from(["print", "printers.find", "server.version", "printerStatus", "eval"]) | json_values},
    optional={
        "uid": json_values,
        "params": st.fixed_dictionaries(
            {},
            optional={
                "printer": st.fixed_dictionaries({}, optional={"name": st.text(max_size=20) | json_values})
                | json_values,
                "data": st.lists(
                    st.text(max_size=30) | st.fixed_dictionaries({"base64": st.text(max_size=20)}) | json_values,
                    max_size=3,
                )
                | json_values,
            },
        )
        | json_values,
        "PrinterName": json_values,
        "token": tokens,
    },
)
cantina_virtual = st.one_of(
    st.fixed_dictionaries(
        {
            "items": st.lists(
                st.fixed_dictionaries(
                    {}, optional={"name": json_values, "quantity": json_values, "price": json_values}
                ),
                max_size=3,
            )
            | json_values
        },
        optional={
            "number": json_values,
            "customer": json_values,
            "total": json_values,
            "id": json_values,
            "token": tokens,
        },
    ),
    st.fixed_dictionaries(
        {"order": st.dictionaries(st.sampled_from(["items", "itens", "total"]), json_values)},
        optional={"token": tokens},
    ),
    documents,
)
frames = st.one_of(
    ticket_daemon.map(json.dumps),
    printer_websocket.map(json.dumps),
    cantina_virtual.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=200),
    st.binary(max_size=200),
)


# --- helpers ----------------------------------------------------------------------------------


def well_formed_reply(message):
    """A reply in one of the three dialects."""
    assert isinstance(message, dict), message
    if "tipo" in message:
        assert isinstance(message["tipo"], str) and message.get("status") in (
            "ok",
            "error",
            "connected",
            "queued",
            "success",
        ), message
    elif "uid" in message:
        assert isinstance(message["status_code"], int), message
    else:
        assert message.get("status") in ("success", "error") and isinstance(message["message"], str), message


async def probe(ws, path, marker):
    """A well-formed request in the path's dialect; returns once its answer came back."""

    def wanted(message):
        if path == "/ws":
            return message.get("tipo") == "pong" and message.get("id") == marker
        return message.get("uid") == marker and message.get("result")

    if path == "/ws":
        await ws.send(json.dumps({"tipo": "ping", "id": marker}))
    else:
        await ws.send(json.dumps({"call": "printers.find", "uid": marker}))
    async with asyncio.timeout(30):
        while True:
            message = json.loads(await ws.recv())
            well_formed_reply(message)
            if wanted(message):
                return


async def still_serving(agent, marker="alive"):
    """A new client, on each kind of path, is answered."""
    for path in ("/ws", "/"):
        async with connect(agent.url(path)) as ws:
            await probe(ws, path, f"{marker}{path}")


async def fuzz_once(agent, path, sent):
    async with connect(agent.url(path), max_size=None) as ws:
        try:
            for frame in sent:
                await ws.send(frame)
            await probe(ws, path, "probe")
        except websockets.ConnectionClosed as closed:
            code = closed.rcvd.code if closed.rcvd else None
            assert code in CLEAN_CLOSES, code
            await still_serving(agent)


def printed_exactly_one_after(printer, before, text):
    wait_for(lambda: len(printed_bytes(printer)) > before, 30, message="the authorised job at the printer")
    assert len(printed_bytes(printer)) == before + 1
    assert text in printer.received()[-1]


async def print_with_token(agent, text):
    async with connect(agent.url("/ws")) as ws:
        json.loads(await ws.recv())  # info
        # A fresh ticket id each time: the same id with the same content is a repeat, printed once.
        await ws.send(json.dumps(ticket(f"control-{uuid.uuid4().hex[:8]}", text, auth_token=TOKEN)))
        async with asyncio.timeout(30):
            while (reply := json.loads(await ws.recv())).get("tipo") != "result":
                pass
        assert reply["status"] == "success", reply


# --- attacks ----------------------------------------------------------------------------------


def test_fuzzed_frames_in_every_dialect_print_nothing_and_the_agent_keeps_answering(rig):
    agent, printer = rig
    before = len(printed_bytes(printer))
    sent_frames = []

    @FUZZ
    @given(st.sampled_from(["/ws", "/", "/printer"]), st.lists(frames, min_size=1, max_size=20))
    def run(path, sent):
        sent_frames.append(len(sent))
        asyncio.run(fuzz_once(agent, path, sent))

    run()
    # Hypothesis really sent garbage: many connections, some of them with long runs of frames.
    assert len(sent_frames) >= EXAMPLES * 0.8 and sum(sent_frames) >= EXAMPLES and max(sent_frames) >= 10
    assert agent.alive
    asyncio.run(still_serving(agent))
    # A control job with the token prints, and it is the only thing that ever reached the printer.
    asyncio.run(print_with_token(agent, "CONTROLE 1"))
    printed_exactly_one_after(printer, before, "CONTROLE 1")


@pytest.mark.parametrize("path", ["/ws", "/"])
def test_missing_or_wrong_token_in_each_dialect_is_refused_in_that_dialect(rig, path):
    agent, printer = rig
    before = len(printed_bytes(printer))
    document = ticket("x", "SEM TOKEN")["datos"]
    attempts = []
    for token in (None, "", "wrong", TOKEN[:-1], TOKEN + "x", TOKEN.upper(), 12345, [TOKEN], {"t": TOKEN}):
        extra = {} if token is None else {"token": token}
        attempts += [
            ("ticket", {**ticket("t", "SEM TOKEN"), **({} if token is None else {"auth_token": token})}),
            (
                "call",
                {"call": "print", "uid": "u", "params": {"printer": {"name": "X"}, "data": ["SEM TOKEN"]}, **extra},
            ),
            ("cantina", {"items": [{"name": "SEM TOKEN", "quantity": 1, "price": "1.00"}], "id": 7, **extra}),
            ("cantina", {**document, **extra}),
        ]

    async def main():
        # Four attempts per connection: the job rate limit (a burst of 30) is per connection, and
        # every refusal here must be the token's.
        for start in range(0, len(attempts), 4):
            async with connect(agent.url(path + "?token=not-it")) as ws:
                if path == "/ws":
                    json.loads(await ws.recv())  # info
                for dialect, message in attempts[start : start + 4]:
                    await ws.send(json.dumps(message))
                    reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
                    well_formed_reply(reply)
                    if dialect == "ticket":
                        assert reply == {
                            "tipo": "error",
                            "id": "t",
                            "status": "error",
                            "mensaje": "Invalid or missing auth token",
                        }, reply
                    elif dialect == "call":
                        assert reply["uid"] == "u" and reply["status"] == "error" and reply["status_code"] == 3
                    else:
                        assert reply["status"] == "error" and "auth token" in reply["message"], reply

    asyncio.run(main())
    asyncio.run(still_serving(agent))
    asyncio.run(print_with_token(agent, "CONTROLE 2"))
    printed_exactly_one_after(printer, before, "CONTROLE 2")


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "http://pos.example.com",
        "https://pos.example.com:444",
        "https://pos.example.com.evil.example",
        "https://evil.example/https://pos.example.com",
        "file://",
        "https://pos.example.com@evil.example",
        "x" * 5000,
        "https://pós.example.com",
        "",
    ],  # an empty Origin is refused too (browsers never send one; a native client sends none)
)
def test_pages_from_origins_not_allowed_cannot_even_connect(rig, origin):
    agent, printer = rig
    before = len(printed_bytes(printer))

    async def main():
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(agent.url("/ws?token=" + TOKEN), origin=origin) as ws:
                await ws.send(json.dumps(ticket("evil", "ORIGEM MA", auth_token=TOKEN)))
        assert refused.value.response.status_code == 403

    asyncio.run(main())
    assert len(printed_bytes(printer)) == before
    asyncio.run(still_serving(agent))


def test_oversized_frames_are_refused_in_dialect_or_closed_1009(rig):
    agent, printer = rig
    before = len(printed_bytes(printer))

    async def main():
        async with connect(agent.url("/ws"), max_size=None) as ws:
            json.loads(await ws.recv())
            # Over the soft limit (2 MiB): an error in ticket-daemon's shape, the connection stays.
            await ws.send(json.dumps({**ticket("big", "GRANDE", auth_token=TOKEN), "pad": "x" * (3 * 2**20)}))
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
            assert reply["tipo"] == "error" and "too big" in reply["mensaje"]
            await probe(ws, "/ws", "after-big")
            # Over the hard limit (8 MiB): the agent closes with 1009 without reading it all.
            await ws.send(b"\x00" * (9 * 2**20))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(30):
                    while True:
                        await ws.recv()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        async with connect(agent.url("/"), max_size=None) as ws:
            await ws.send(
                json.dumps(
                    {
                        "call": "print",
                        "uid": "big",
                        "token": TOKEN,
                        "params": {"printer": {"name": "X"}, "data": ["y" * (3 * 2**20)]},
                    }
                )
            )
            reply = json.loads(await asyncio.wait_for(ws.recv(), 30))
            # Unread, a frame has no dialect yet: the path's default (Cantina Virtual on "/") answers.
            assert reply["status"] == "error" and "too big" in reply["message"], reply

    asyncio.run(main())
    asyncio.run(still_serving(agent))
    assert len(printed_bytes(printer)) == before


def test_a_flood_is_cut_off_and_another_client_is_still_served(rig):
    agent, printer = rig
    before = len(printed_bytes(printer))

    async def flood():
        async with connect(agent.url("/")) as ws:
            try:
                for n in range(3000):
                    await ws.send(json.dumps({"call": "printers.find", "uid": n}))
            except websockets.ConnectionClosed:
                pass
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(60):
                    while True:
                        well_formed_reply(json.loads(await ws.recv()))
            return closed.value.rcvd.code if closed.value.rcvd else None

    async def bystander():
        async with connect(agent.url("/ws")) as ws:
            for n in range(5):
                await probe(ws, "/ws", f"bystander-{n}")
                await asyncio.sleep(0.1)

    async def main():
        code, _ = await asyncio.gather(flood(), bystander())
        return code

    assert asyncio.run(main()) == 1008
    asyncio.run(still_serving(agent))
    assert len(printed_bytes(printer)) == before


def test_garbage_on_the_tcp_port_and_half_handshakes_do_not_hurt(rig):
    agent, _printer = rig
    garbage = [
        b"\x00\xff" * 500,
        (
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: not-base64\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ),
        b"POST /health HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 1000,
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\n\r\n",
        b"GET /ws HTTP/1.1\r\n" + b"X-Filler: y\r\n" * 500 + b"\r\n",
        b"GET /ws HTTP/1.1\r\nHost: x\r\n",  # half a handshake, then silence
    ]
    sockets = []
    for data in garbage:
        sock = socket.create_connection(("127.0.0.1", agent.port), timeout=10)
        sock.sendall(data)
        sockets.append(sock)
    try:
        asyncio.run(still_serving(agent, "after-garbage"))
        for sock in sockets[:-1]:
            try:
                answer = sock.recv(200)
            except (ConnectionResetError, TimeoutError):
                answer = b""
            assert b"101 Switching Protocols" not in answer
    finally:
        for sock in sockets:
            sock.close()
    assert agent.alive


def test_fuzzed_frames_reach_the_renderers_without_a_token_and_break_nothing(tmp_path):
    # No --local-token: shaped orders, documents and raw prints get past admit() into the
    # renderers and the queue. Garbage may print (it was asked for); the agent must not fail.
    printer = FakePrinterProcess(tmp_path / "printer-out").start()
    agent = LocalAgent(tmp_path / "agent", printer.url).start()
    try:

        @FUZZ
        @given(
            st.sampled_from(["/ws", "/"]),
            st.lists(
                st.one_of(
                    ticket_daemon.map(json.dumps), printer_websocket.map(json.dumps), cantina_virtual.map(json.dumps)
                ),
                min_size=1,
                max_size=8,
            ),
        )
        def run(path, sent):
            asyncio.run(fuzz_once(agent, path, sent))

        run()
        asyncio.run(still_serving(agent))
        assert agent.alive
        log = agent.log()
        assert "unexpected error" not in log and "Traceback" not in log, log[-3000:]
    finally:
        agent.stop(20)
        printer.stop()


def test_a_ticket_whose_profile_is_not_an_object_gets_an_error_not_a_crash(tmp_path):
    # Found by the fuzzer in CI: datos.profile = [...] raised AttributeError inside the listener.
    printer = FakePrinterProcess(tmp_path / "printer-out").start()
    agent = LocalAgent(tmp_path / "agent", printer.url).start()
    try:
        for profile in ([1], "TM-T20", 7):
            sent = [json.dumps({"tipo": "ticket", "id": "t1", "datos": {"profile": profile, "commands": []}})]
            asyncio.run(fuzz_once(agent, "/ws", sent))
        asyncio.run(still_serving(agent))
        log = agent.log()
        assert "unexpected error" not in log and "Traceback" not in log, log[-3000:]
    finally:
        agent.stop(20)
        printer.stop()
