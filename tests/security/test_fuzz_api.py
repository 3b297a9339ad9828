"""The print API under garbage: hypothesis-generated bodies, query strings and headers.

Whatever arrives, the answer is a 2xx or a 4xx problem document (never a 500, never a
traceback in the log), and a refused request leaves no job, order or idempotency record behind.
The named cases at the top are what the fuzzer found in round two (each was a 500 before).
"""

import base64
import json
import logging
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.models import ApiOrder, IdempotencyRecord
from orders.models import Order
from printing.models import PrintJob, PrintJobEvent
from tests.api.conftest import DOCUMENT, ApiClient

pytestmark = [pytest.mark.django_db, pytest.mark.timeout(300)]

JOBS = "/api/v1/print-jobs"
ORDERS = "/api/v1/orders"
EXAMPLES = int(os.getenv("FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
# What the API may answer; 500 is not in it.
ANSWERS = {200, 201, 400, 401, 403, 404, 405, 409, 413, 415, 422, 429}


def counts():
    return (
        PrintJob.objects.count(),
        PrintJobEvent.objects.count(),
        Order.objects.count(),
        ApiOrder.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def check(response, before):
    """The response is an answer the API documents; a refusal changed nothing."""
    assert response.status_code in ANSWERS, (response.status_code, response.content[:500])
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json", response.content[:300]
        body = response.json()
        assert body["status"] == response.status_code and body["code"] and body["detail"]
        assert "Traceback" not in body["detail"]
        assert counts() == before, f"a refused request ({response.status_code}) changed the database"
    else:
        assert response["Content-Type"].startswith("application/json")
    return response


@pytest.fixture
def fuzzer(make_key, printer, settings):
    # A key that the rate limit never stops (the limit has its own tests below and in tests/api).
    settings.CANTINA_API_BURST = 100_000
    return ApiClient(make_key(rate_per_minute=1_000_000).key)


@pytest.fixture
def no_errors_logged(caplog):
    caplog.set_level(logging.WARNING)
    yield
    bad = [record for record in caplog.records if record.levelno >= logging.ERROR or record.exc_info]
    assert not bad, [record.getMessage() for record in bad]


# --- what the fuzzer found (each of these was a 500) ---------------------------------------------

ITEM = {"name": "Coxinha", "quantity": 1, "unit_price": "7.25"}


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        # A lone surrogate is valid JSON ("\ud800") and no UTF-8: the database refused it.
        (JOBS, {"printer": "\ud800", "document": DOCUMENT}, "printer"),
        (
            JOBS,
            {"printer": "Balcão", "document": {"commands": [{"type": "text", "data": {"content": "\udcff"}}]}},
            "document",
        ),
        (ORDERS, {"items": [{**ITEM, "name": "Co\ud83dxinha"}]}, "items.0.name"),
        # NUL in a printer name: PostgreSQL refuses it in a query.
        (JOBS, {"printer": "Bal\x00cão", "document": DOCUMENT}, "printer"),
        # Ids beyond 64 bits: SQLite raised OverflowError.
        (ORDERS, {"items": [{"product": 2**63, "quantity": 1}]}, "items.0.product"),
        (ORDERS, {"items": [{"product": 2**70, "quantity": 1}]}, "items.0.product"),
        # Year 9999 local is year 10000 in UTC: OverflowError (SQLite), DataError (PostgreSQL).
        (ORDERS, {"items": [ITEM], "channel": "scheduled", "scheduled_for": "9999-12-31T23:59:59"}, "scheduled_for"),
        (
            ORDERS,
            {"items": [ITEM], "channel": "scheduled", "scheduled_for": "0001-01-01T00:00:00+12:00"},
            "scheduled_for",
        ),
        # Deeply nested documents: the NUL check recursed until RecursionError.
        (
            JOBS,
            {"printer": "Balcão", "document": {"commands": [], "x": json.loads('{"a":' * 800 + "1" + "}" * 800)}},
            "document",
        ),
    ],
    ids=[
        "surrogate-printer",
        "surrogate-document",
        "surrogate-item",
        "nul-printer",
        "id-2^63",
        "id-2^70",
        "year-10000",
        "year-0",
        "nesting-800",
    ],
)
def test_hostile_values_found_by_the_fuzzer_are_422_naming_the_field(fuzzer, path, body, field, no_errors_logged):
    before = counts()

    response = check(fuzzer.post(path, raw=json.dumps(body)), before)

    assert response.status_code == 422, response.content
    assert field in [error["field"] for error in response.json()["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"printer": "²"}, "printer"),  # "²".isdigit() is True, int("²") raises
        ({"printer": "a\x00b"}, "printer"),
        ({"cursor": "²"}, "cursor"),
        ({"cursor": str(2**70)}, "cursor"),
        ({"since": "9999-12-31T23:59:59"}, "since"),
    ],
    ids=["superscript-printer", "nul-printer", "superscript-cursor", "huge-cursor", "year-10000"],
)
def test_hostile_list_filters_are_4xx(fuzzer, params, field, no_errors_logged):
    response = check(fuzzer.get(JOBS, params), counts())

    assert response.status_code in (404, 422), response.content
    assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        ('{"printer": "Balcão", "document": ' + "[" * 5000 + "]" * 5000 + "}", "too deeply"),
        ('{"printer": ' + "1" * 5000 + "}", "not valid JSON"),
    ],
    ids=["nesting-5000", "5000-digits"],
)
def test_bodies_json_cannot_parse_are_bad_json(fuzzer, raw, detail, no_errors_logged):
    response = check(fuzzer.post(JOBS, raw=raw, HTTP_ACCEPT_LANGUAGE="en"), counts())

    assert response.status_code == 400 and response.json()["code"] == "bad_json"
    assert detail in response.json()["detail"]


@pytest.mark.parametrize("key", ["abc\x00def", "line\nbreak", "tab\there", "\x7f"])
def test_an_idempotency_key_with_control_characters_is_400(fuzzer, key, no_errors_logged):
    response = check(fuzzer.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Idempotency_Key=key), counts())

    assert response.status_code == 400 and response.json()["code"] == "bad_idempotency_key"


@pytest.mark.parametrize("token", ["ck_\x00" + "a" * 40, "ck_" + "é" * 40, "ck_" + "\ud800" * 20])
def test_an_api_key_with_characters_no_key_has_is_401(fuzzer, token, no_errors_logged):
    response = check(ApiClient(token).get("/api/v1/printers"), counts())

    assert response.status_code == 401 and response.json()["code"] == "invalid_key"


def test_a_body_over_the_upload_limit_is_413(fuzzer, settings, no_errors_logged):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2**20
    raw = base64.b64encode(b"x" * (2**20)).decode()

    response = check(fuzzer.post(JOBS, {"printer": "Balcão", "raw": raw, "raw_format": "text"}), counts())

    assert response.status_code == 413


# --- the fuzzer ---------------------------------------------------------------------------------

hostile_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\ud800",
            "Bal\x00cão",
            "²",
            "٣",
            "Balcão",
            "1",
            "-1",
            "0",
            "1e3",
            "9" * 30,
            "null",
            "<script>",
            "' OR 1=1 --",
            "../../etc/passwd",
            "ab" * 200,
        ]
    ),
)
hostile_numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, -1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=False),
    st.booleans(),
)
json_values = st.recursive(
    st.none() | st.booleans() | hostile_numbers | hostile_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4),
    max_leaves=20,
)
base64ish = st.one_of(
    st.binary(max_size=64).map(lambda data: base64.b64encode(data).decode()),
    st.text(max_size=40),
    st.sampled_from(["", "====", "AA", "AA=A", "@@@@", "AAAA\n", "\ud800AA"]),
)
commands = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["text", "separator", "feed", "qr", "barcode", "image", "cut", "raw", "laser"]),
        "data": st.dictionaries(
            st.sampled_from(["content", "text", "lines", "data", "size", "style"]), json_values, max_size=3
        )
        | json_values,
    },
)
print_bodies = st.fixed_dictionaries(
    {},
    optional={
        "printer": hostile_numbers | hostile_text | st.just("Balcão") | st.just(1),
        "document": st.fixed_dictionaries(
            {"commands": st.lists(commands, max_size=4)}, optional={"version": json_values}
        )
        | json_values,
        "raw": base64ish | json_values,
        "raw_format": st.sampled_from(["escpos", "tspl", "zpl", "text", "pdf", ""]) | json_values,
        "copies": hostile_numbers | json_values,
        "priority": hostile_numbers,
        "title": hostile_text | json_values,
        "source": hostile_text,
        "expire_after": hostile_numbers | json_values,
        "extra": json_values,
    },
)
items = st.fixed_dictionaries(
    {},
    optional={
        "product": hostile_numbers | json_values,
        "name": hostile_text | json_values,
        "quantity": hostile_numbers,
        "unit_price": hostile_numbers | hostile_text | json_values,
        "bogus": json_values,
    },
)
times = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(
        [
            "9999-12-31T23:59:59",
            "0001-01-01T00:00:00+14:00",
            "2026-13-40T25:61:00",
            "tomorrow",
            "2026-12-01T12:30:00-03:00",
            "2026-12-01",
        ]
    ),
    json_values,
)
order_bodies = st.fixed_dictionaries(
    {},
    optional={
        "items": st.lists(items, max_size=4) | json_values,
        "external_id": hostile_text | json_values,
        "customer_name": hostile_text | json_values,
        "channel": st.sampled_from(["counter", "scheduled", "delivery"]) | json_values,
        "payment_method": st.sampled_from(["", "cash", "pix", "bitcoin"]) | json_values,
        "scheduled_for": times,
        "notes": hostile_text | json_values,
        "confirm": st.booleans() | json_values,
    },
)
# Header values as HTTP can carry them (latin-1), control characters included.
header_text = st.text(st.characters(max_codepoint=255), max_size=60) | st.sampled_from(["", " ", "x" * 300])
headers = st.fixed_dictionaries(
    {},
    optional={
        "Idempotency-Key": header_text,
        "Origin": header_text | st.sampled_from(["null", "https://evil.example", "http://testserver"]),
        "Content-Type": st.sampled_from(
            [
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data",
                "application/json; charset=utf-8",
                "application/xml",
            ]
        ),
        "Accept-Language": st.sampled_from(["pt-BR", "en", "xx", "*", ""]),
    },
)
bodies = st.one_of(
    json_values.map(json.dumps),
    print_bodies.map(json.dumps),
    st.binary(max_size=200).map(lambda data: data.decode("latin-1")),
    st.text(max_size=200),
)


def post(client, path, body, sent_headers):
    sent_headers = dict(sent_headers)
    content_type = sent_headers.pop("Content-Type", "application/json")
    meta = {
        **client._headers({}),
        **{"HTTP_" + name.upper().replace("-", "_"): value for name, value in sent_headers.items()},
    }
    # As bytes: a lone surrogate goes out as the invalid UTF-8 a broken client would send.
    return client.client.post(path, body.encode("utf-8", "surrogatepass"), content_type=content_type, **meta)


def test_fuzzed_print_job_bodies_and_headers(fuzzer, no_errors_logged):
    seen = []

    @FUZZ
    @given(st.one_of(print_bodies.map(json.dumps), bodies), headers)
    def run(body, sent_headers):
        before = counts()
        response = check(post(fuzzer, JOBS, body, sent_headers), before)
        if response.status_code == 201:
            assert counts()[0] == before[0] + 1, "one request, one job"
        seen.append(response.status_code)

    run()
    assert len(seen) >= EXAMPLES * 0.8
    assert len(set(seen)) >= 3, f"the fuzzer must reach past the first check: {sorted(set(seen))}"


def test_fuzzed_order_bodies(fuzzer, no_errors_logged):
    seen = []

    @FUZZ
    @given(st.one_of(order_bodies.map(json.dumps), bodies), headers)
    def run(body, sent_headers):
        before = counts()
        response = check(post(fuzzer, ORDERS, body, sent_headers), before)
        if response.status_code == 201:
            assert counts()[2] == before[2] + 1, "one request, one order"
        seen.append(response.status_code)

    run()
    assert len(set(seen)) >= 2, sorted(set(seen))


def encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False  # no client can put it in a URL (surrogates reach the API only inside JSON)
    return True


query_values = (hostile_text | hostile_numbers.map(str)).filter(encodable)


def test_fuzzed_reads_and_cancels(fuzzer, no_errors_logged):
    job = fuzzer.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}).json()["id"]
    seen = []

    @FUZZ
    @given(
        st.dictionaries(
            st.sampled_from(["status", "printer", "since", "limit", "cursor", "other"]), query_values, max_size=4
        ),
        st.one_of(hostile_numbers.map(str), hostile_text.filter(encodable), st.just(str(job))),
    )
    def run(params, reference):
        before = counts()
        check(fuzzer.get(JOBS, params), before)
        # Path segments as a client could send them (URL-quoted by the test client).
        for path in (f"{JOBS}/{reference}", f"{ORDERS}/{reference}", f"{JOBS}/{reference}/cancel"):
            response = fuzzer.get(path) if not path.endswith("cancel") else fuzzer.post(path)
            seen.append(response.status_code)
            assert response.status_code in ANSWERS, (path, response.status_code, response.content[:300])
            assert response.status_code == 200 or response["Content-Type"] == "application/problem+json"

    run()
    assert 404 in seen


def test_fuzzed_authorization_headers_are_401_or_403(make_key, printer, settings, no_errors_logged):
    settings.CANTINA_API_BURST = 100_000
    read_key = make_key(name="Leitura", scopes=["read"]).key

    @FUZZ
    @given(
        st.one_of(
            header_text,
            header_text.map(lambda text: "Bearer " + text),
            header_text.map(lambda text: "Bearer ck_" + text),
            st.sampled_from(
                [
                    "Bearer",
                    "Bearer  ",
                    "bearer " + read_key,
                    "Basic " + read_key,
                    read_key,
                    "Bearer " + read_key + "x",
                    "Bearer " + read_key[:-1],
                    "Bearer " + read_key.upper(),
                    "Bearer " + read_key + "\x00",
                    "Bearer " + read_key * 5,
                ]
            ),
        )
    )
    def run(authorization):
        before = counts()
        response = check(
            ApiClient().post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Authorization=authorization), before
        )
        # The only real key here may read, not print: nothing may ever be created.
        assert response.status_code in (401, 403), (authorization, response.status_code)

    run()
    assert not PrintJob.objects.exists()
