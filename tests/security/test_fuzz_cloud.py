"""The cloud printer endpoints under garbage: ``/cloudprnt/`` (Star) and ``/epson/sdp/`` (Epson).

Malformed JSON and form posts, XML entity bombs and external entities, wrong MACs, IDs and
secrets, another printer's credentials and job tokens, oversized bodies, unknown media types:
always a 4xx, no job or job event touched, no traceback logged. A printer whose job is in flight
still finishes it afterwards.
"""

import json
import logging
import os
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from printing.models import PrintJob, PrintJobEvent
from tools.cloud_printers import basic

pytestmark = [pytest.mark.timeout(300)]

EXAMPLES = int(os.getenv("FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
REFUSALS = {400, 401, 403, 404, 405, 409, 413, 415}


def snapshot():
    return (
        list(PrintJob.objects.order_by("id").values_list("id", "status", "attempts", "handout_token", "error_code")),
        PrintJobEvent.objects.count(),
    )


@pytest.fixture
def no_tracebacks(caplog):
    caplog.set_level(logging.INFO)
    yield
    bad = [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]
    assert not bad, [record.getMessage() for record in bad]


@pytest.fixture
def two_stars(star, make_order):
    """Printer A with a job handed out (in flight), printer B with a pending job."""
    first, sim_a = star("Star A", "00:11:62:AA:BB:01")
    second, sim_b = star("Star B", "00:11:62:AA:BB:02")
    make_order()
    answer = sim_a.poll()
    assert answer["jobReady"]
    sim_a.current = {"token": answer["jobToken"], "type": "text/plain"}
    return first, sim_a, second, sim_b


@pytest.fixture
def two_epsons(epson, make_order):
    first, sim_a = epson("Epson A", "epson-a")
    second, sim_b = epson("Epson B", "epson-b")
    make_order()
    ((token, _),) = sim_a.get_request()
    return first, sim_a, token, second, sim_b


# --- strategies ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=15,
)
macs = st.one_of(
    st.sampled_from(
        [
            "00:11:62:AA:BB:01",
            "00:11:62:AA:BB:02",
            "00:11:62:aa:bb:01",
            "00-11-62-AA-BB-01",
            "001162AABB01",
            "00:11:62:AA:BB:99",
            "",
            "zz:zz:zz:zz:zz:zz",
            "00:11:62:AA:BB:01\x00",
            "00:11:62:AA:BB:01 OR 1=1",
        ]
    ),
    st.text(max_size=30),
)
polls = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "printerMAC": macs | json_values,
            "statusCode": st.text(max_size=40) | json_values,
            "printingInProgress": json_values,
            "clientAction": json_values,
            "status": json_values,
        },
    ).map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=300),
)


# Authorization values: nothing, garbage, the wrong secret, and printer B's secret.
def authorizations(secret_of_b):
    return st.one_of(
        st.none(),
        st.text(st.characters(max_codepoint=255), max_size=80),
        st.text(max_size=40).map(lambda password: basic("x", password)),
        st.sampled_from(
            [
                basic("x", secret_of_b),
                basic("x", "cp_wrong"),
                "Basic !!!",
                "Basic " + "A" * 600,
                'Digest username="epson-a", realm="x", nonce="1.abc", uri="/epson/sdp/", response="0"',
                "Digest " + "a=b, " * 500,
                "Bearer cp_x",
            ]
        ),
    )


# Each of these is 400 (or 413), except the last ones: well-formed XML that nothing in it makes
# dangerous, answered 200 with nothing done (no include is processed, no job named).
XML_ATTACKS = [
    # billion laughs
    (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
        "<PrintResponseInfo>&lol4;</PrintResponseInfo>"
    ),
    # external entity (file) and external DTD (network)
    (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><PrintResponseInfo>&x;'
        "</PrintResponseInfo>"
    ),
    '<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><PrintResponseInfo/>',
    # parameter entities
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><PrintResponseInfo/>',
    # quadratic blowup: one big entity used many times
    '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "'
    + "a" * 5000
    + '">]><PrintResponseInfo>'
    + "&a;" * 200
    + "</PrintResponseInfo>",
    # deep nesting
    "<PrintResponseInfo>" + "<a>" * 5000 + "</a>" * 5000 + "</PrintResponseInfo>",
    "<statusmonitor>" + "<printerstatus>" * 3000 + "</printerstatus>" * 3000 + "</statusmonitor>",
    # wrong encodings and declarations
    '<?xml version="1.0" encoding="utf-16"?><PrintResponseInfo/>',
    '<?xml version="1.0" encoding="bogus"?><PrintResponseInfo/>',
    "<PrintResponseInfo>\x00</PrintResponseInfo>",
    '<statusmonitor><printerstatus asbstatus="' + "9" * 5000 + '"/></statusmonitor>',
]
HARMLESS = [
    # XInclude: not processed
    (
        '<PrintResponseInfo xmlns:xi="http://www.w3.org/2001/XInclude"><xi:include href="file:///etc/passwd"/>'
        "</PrintResponseInfo>"
    ),
    # a huge hexadecimal status: every bit set, read as such
    '<statusmonitor><printerstatus asbstatus="0x' + "f" * 5000 + '"/></statusmonitor>',
]


# --- Star CloudPRNT ----------------------------------------------------------------------------


def test_fuzzed_polls_are_refused_and_touch_no_job(two_stars, client, no_tracebacks):
    first, sim_a, second, _sim_b = two_stars
    before = snapshot()
    statuses = []

    @FUZZ
    @given(
        polls,
        authorizations(second.secret),
        st.sampled_from(["application/json", "text/plain", "application/xml", "multipart/form-data"]),
    )
    def run(body, authorization, content_type):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
        response = client.post(
            "/cloudprnt/", body.encode("utf-8", "surrogatepass"), content_type=content_type, secure=True, **headers
        )
        statuses.append(response.status_code)
        assert response.status_code in REFUSALS, (body[:200], authorization, response.content[:300])
        assert "error" in response.json()

    run()
    assert snapshot() == before
    assert {400, 401} <= set(statuses)
    # Printer A's job, in flight all along, still prints and is confirmed.
    sim_a.fetch()
    sim_a.print_current()
    sim_a.confirm("200 OK")
    assert PrintJob.objects.get(printer=first).status == "completed"


def test_fuzzed_fetches_and_confirmations_with_wrong_mac_token_type_or_secret_touch_no_job(
    two_stars, client, no_tracebacks
):
    _first, sim_a, second, _sim_b = two_stars
    token = sim_a.current["token"]
    before = snapshot()

    @FUZZ
    @given(
        st.sampled_from(["GET", "DELETE", "PUT", "PATCH", "OPTIONS"]),
        st.fixed_dictionaries(
            {},
            optional={
                "mac": macs,
                "token": st.text(max_size=40) | st.sampled_from([token, token + "x", ""]),
                "type": st.sampled_from(["text/plain", "image/png", "application/vnd.star.starprnt", "", "../x"])
                | st.text(max_size=20),
                "code": st.sampled_from(["OK", "200", "410", "banana", "", "999999999999"]) | st.text(max_size=10),
                "delete": st.just(""),
            },
        ),
        authorizations(second.secret),
    )
    def run(method, query, authorization):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
        try:
            target = "/cloudprnt/?" + urlencode(query)
        except UnicodeEncodeError:
            return  # no HTTP client can send it
        response = client.generic(method, target, secure=True, **headers)
        # Only A's right secret could succeed, and it is never sent here.
        assert response.status_code in REFUSALS, (method, query, authorization, response.content[:300])

    run()
    assert snapshot() == before


def test_printer_bs_secret_with_printer_as_mac_and_token_is_refused(two_stars, client, no_tracebacks):
    _first, sim_a, second, sim_b = two_stars
    token = sim_a.current["token"]
    before = snapshot()
    b_auth = {"HTTP_AUTHORIZATION": basic("x", second.secret)}

    fetch = client.get("/cloudprnt/", {"mac": sim_a.mac, "type": "text/plain", "token": token}, secure=True, **b_auth)
    confirm = client.delete(f"/cloudprnt/?mac={sim_a.mac}&code=200&token={token}", secure=True, **b_auth)
    # B's own MAC with A's job token: B may not confirm or fetch A's job.
    own_fetch = client.get(
        "/cloudprnt/", {"mac": sim_b.mac, "type": "text/plain", "token": token}, secure=True, **b_auth
    )
    own_confirm = client.delete(f"/cloudprnt/?mac={sim_b.mac}&code=200&token={token}", secure=True, **b_auth)

    assert (fetch.status_code, confirm.status_code) == (401, 401)
    assert own_fetch.status_code == 404, own_fetch.content
    # A confirmation of a token this printer was never given is acknowledged (so the printer
    # stops repeating it) and changes nothing.
    assert own_confirm.status_code == 200 and own_confirm.json()["job_id"] is None, own_confirm.content
    assert snapshot() == before


# --- Epson Server Direct Print -------------------------------------------------------------------


@pytest.mark.parametrize("xml", XML_ATTACKS + HARMLESS, ids=range(len(XML_ATTACKS + HARMLESS)))
@pytest.mark.parametrize("field", ["ResponseFile", "Status"])
def test_xml_attacks_are_400_and_touch_no_job(two_epsons, field, xml, no_tracebacks):
    _first, sim_a, _token, _second, _sim_b = two_epsons
    before = snapshot()

    kind = "SetResponse" if field == "ResponseFile" else "SetStatus"
    status, body = sim_a._post({"ConnectionType": kind, "ID": sim_a.device_id, field: xml})

    if xml in HARMLESS:
        assert status in (200, 400), (status, body[:300])
    else:
        assert status in (400, 413), (status, body[:300])
    assert b"root:" not in body  # /etc/passwd never echoed
    assert snapshot() == before


def test_fuzzed_sdp_forms_are_refused_and_touch_no_job(two_epsons, client, no_tracebacks):
    first, sim_a, token, second, _sim_b = two_epsons
    before = snapshot()

    @FUZZ
    @given(
        st.fixed_dictionaries(
            {},
            optional={
                "ConnectionType": st.sampled_from(["GetRequest", "SetResponse", "SetStatus", "", "Explode"])
                | st.text(max_size=15),
                "ID": st.sampled_from(["epson-a", "epson-b", "", "epson-a\x00", "EPSON-A"]) | st.text(max_size=20),
                "ResponseFile": st.sampled_from(XML_ATTACKS) | st.text(max_size=200),
                "Status": st.sampled_from(XML_ATTACKS) | st.text(max_size=200),
                "Name": st.text(max_size=20),
            },
        ),
        authorizations(second.secret),
        st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/xml", "multipart/form-data"]),
    )
    def run(form, authorization, content_type):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization is not None else {}
        try:
            body = urlencode(form)
        except UnicodeEncodeError:
            body = json.dumps(form)
        response = client.post(
            "/epson/sdp/", body.encode("utf-8", "surrogatepass"), content_type=content_type, secure=True, **headers
        )
        assert response.status_code in REFUSALS, (form, authorization, response.status_code, response.content[:300])

    run()
    assert snapshot() == before
    # A's job, in flight all along, is still A's to finish.
    sim_a.set_response([(token, True, "")])
    assert PrintJob.objects.get(printer=first).status == "completed"


def test_printer_bs_credentials_cannot_answer_for_printer_as_job(two_epsons, no_tracebacks):
    first, _sim_a, token, _second, sim_b = two_epsons
    before = snapshot()
    result = (
        '<PrintResponseInfo Version="2.00"><ePOSPrint><Parameter><printjobid>'
        + token
        + '</printjobid></Parameter><PrintResponse><response success="false" code="EPTR_MECHANICAL" '
        'status="0"/></PrintResponse></ePOSPrint></PrintResponseInfo>'
    )

    # B, authenticated as itself, reports a result for A's job token.
    status, _ = sim_b._post({"ConnectionType": "SetResponse", "ID": "epson-b", "ResponseFile": result})
    # B's Digest credentials with A's ID in the form.
    status_as_a, _ = sim_b._post({"ConnectionType": "SetResponse", "ID": "epson-a", "ResponseFile": result})

    # B's report about a token it was never given is acknowledged and changes nothing.
    assert status in (200, 400, 404) and status_as_a == 403
    assert snapshot() == before
    assert PrintJob.objects.get(printer=first).status == "printing"


def test_oversized_bodies_are_413_before_being_read(two_stars, client, no_tracebacks):
    _first, sim_a, _second, _sim_b = two_stars
    before = snapshot()
    auth = {"HTTP_AUTHORIZATION": basic("x", sim_a.secret)}
    big = json.dumps({"printerMAC": sim_a.mac, "pad": "x" * (2 * 2**20)})

    assert client.post("/cloudprnt/", big, content_type="application/json", secure=True, **auth).status_code == 413
    response = client.post(
        "/epson/sdp/",
        urlencode({"ConnectionType": "SetStatus", "ID": "epson-a", "Status": "x" * (2 * 2**20)}),
        content_type="application/x-www-form-urlencoded",
        secure=True,
    )
    assert response.status_code == 413
    # A lying Content-Length is refused too.
    response = client.post(
        "/cloudprnt/", b"{}", content_type="application/json", secure=True, CONTENT_LENGTH="99999999999", **auth
    )
    assert response.status_code == 413
    response = client.post(
        "/cloudprnt/", b"{}", content_type="application/json", secure=True, CONTENT_LENGTH="-5", **auth
    )
    assert response.status_code in (400, 401)
    assert snapshot() == before


# --- the same attacks through a real daphne (the cloud paths skip the site's middleware there) ---


@pytest.mark.e2e
def test_attacks_over_real_http_are_4xx_touch_no_job_and_leave_no_traceback_in_the_server_log(tmp_path):
    import http.client
    import socket

    from tools.processes import DaphneServer

    with DaphneServer(tmp_path / "var") as server:
        manage = server.manage
        star_secret = manage.add_printer(
            "Star", "--transport", "cloudprnt", "--mac", "00:11:62:12:34:56", "--auto-print", "counter"
        )
        manage.add_printer("Epson", "--transport", "epson_sdp", "--device-id", "tm-1", "--auto-print", "counter")
        api_key = manage("apikey_add", "Loja").stdout.strip().splitlines()[-1]
        manage.confirm_orders(1)
        jobs_before = manage.jobs()
        star_auth = basic("x", star_secret)

        def request(method, path, body=b"", headers=None):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                connection.request(method, path, body=body, headers=headers or {})
                response = connection.getresponse()
                return response.status, response.read()
            finally:
                connection.close()

        attacks = [
            ("POST", "/cloudprnt/", b"{not json", {"Authorization": star_auth, "Content-Type": "application/json"}),
            (
                "POST",
                "/cloudprnt/",
                json.dumps({"printerMAC": "00:11:62:12:34:99"}).encode(),
                {"Authorization": star_auth},
            ),
            (
                "POST",
                "/cloudprnt/",
                json.dumps({"printerMAC": "00:11:62:12:34:56"}).encode(),
                {"Authorization": basic("x", "cp_wrong")},
            ),
            ("POST", "/cloudprnt/", b"x" * 100_000, {"Authorization": star_auth}),
            (
                "GET",
                "/cloudprnt/?mac=00:11:62:12:34:56&type=application/x-evil&token=x",
                b"",
                {"Authorization": star_auth},
            ),
            ("DELETE", "/cloudprnt/?mac=00:11:62:12:34:56&code=%00&token=%00", b"", {"Authorization": star_auth}),
            ("PUT", "/cloudprnt/", b"", {}),
            (
                "POST",
                "/epson/sdp/",
                urlencode({"ConnectionType": "SetResponse", "ID": "tm-1", "ResponseFile": XML_ATTACKS[0]}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded"},
            ),
            (
                "POST",
                "/epson/sdp/",
                urlencode({"ConnectionType": "GetRequest", "ID": "tm-1"}).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Digest " + "a=b, " * 500},
            ),
            (
                "POST",
                "/epson/sdp/",
                b"\xff\xfe" * 100,
                {"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic("x", star_secret)},
            ),
            (
                "POST",
                "/api/v1/print-jobs",
                b'{"printer": "\\ud800", "document": {"commands": []}}',
                {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            ),
            (
                "POST",
                "/api/v1/orders",
                json.dumps({"items": [{"product": 2**70, "quantity": 1}]}).encode(),
                {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            ),
            ("GET", "/api/v1/print-jobs?printer=%C2%B2", b"", {"Authorization": f"Bearer {api_key}"}),
            ("GET", "/api/v1/print-jobs?since=9999-12-31T23:59:59", b"", {"Authorization": f"Bearer {api_key}"}),
        ]
        for method, path, body, headers in attacks:
            status, answer = request(method, path, body, headers)
            assert 400 <= status < 500, (method, path, status, answer[:300])
            assert b"Traceback" not in answer
        # Header bytes no client library will send: a NUL in the Idempotency-Key and the key.
        for header in (b"Idempotency-Key: a\x00b", b"Authorization: Bearer ck_\x00" + b"a" * 40):
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
                body = b'{"printer": "Star", "document": {"commands": []}}'
                sock.sendall(
                    b"POST /api/v1/print-jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + f"Authorization: Bearer {api_key}\r\n".encode() * (b"Authorization" not in header)
                    + header
                    + b"\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
            status_line = answer.split(b"\r\n", 1)[0]
            assert b" 4" in status_line, answer[:300]  # 400 (daphne or the API) or 401

        assert manage.jobs() == jobs_before
        assert server.healthy()
    log = server.log()
    assert "Traceback" not in log, log[-4000:]
    assert " ERROR " not in log, log[-4000:]
