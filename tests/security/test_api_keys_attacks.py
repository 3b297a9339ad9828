"""API keys attacked: scopes, printer limits, revocation, web origins and the rate limit.

tests/api checks that each rule works; here every route is tried with keys that must not pass,
and each refusal is checked to leave the database as it was.
"""

import pytest
from django.test import Client

from api import services
from api.models import ApiKey, ApiOrder, IdempotencyRecord
from orders.models import Order
from printing.models import PrintJob
from tests.api.conftest import DOCUMENT, ApiClient

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/print-jobs"
ORDERS = "/api/v1/orders"
SHOP = "https://shop.example.com"
ORDER = {"customer_name": "Ana", "items": [{"name": "Coxinha", "quantity": 1, "unit_price": "7.25"}], "confirm": True}


def counts():
    return (
        PrintJob.objects.count(),
        Order.objects.count(),
        ApiOrder.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def refused(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    return response


@pytest.fixture
def job(make_key, printer):
    """A pending job on Balcão, made with a separate all-scopes key."""
    return ApiClient(make_key(name="Admin").key).post(JOBS, {"printer": "Balcão", "document": DOCUMENT}).json()["id"]


@pytest.fixture
def order(make_key, printer):
    return ApiClient(make_key(name="Loja").key).post(ORDERS, ORDER).json()["id"]


# --- scopes ------------------------------------------------------------------------------------


def routes(job_id, order_id):
    return {
        "create_job": ("post", JOBS, {"printer": "Balcão", "document": DOCUMENT}),
        "cancel_job": ("post", f"{JOBS}/{job_id}/cancel", None),
        "list_jobs": ("get", JOBS, None),
        "job_detail": ("get", f"{JOBS}/{job_id}", None),
        "printers": ("get", "/api/v1/printers", None),
        "create_order": ("post", ORDERS, ORDER),
        "order_detail": ("get", f"{ORDERS}/{order_id}", None),
    }


# Which routes each single scope opens (DESIGN: print = create/cancel jobs (and read them),
# orders = create/read orders, read = read jobs, printers and orders).
ALLOWED = {
    "read": {"list_jobs", "job_detail", "printers", "order_detail"},
    "print": {"create_job", "cancel_job", "list_jobs", "job_detail", "printers"},
    "orders": {"create_order", "order_detail"},
}


@pytest.mark.parametrize("scope", sorted(ALLOWED))
def test_each_scope_opens_its_routes_and_no_other(make_key, printer, job, order, scope):
    # The order detail is only readable by the key that created it: give this key its own order.
    key = make_key(name=f"Só {scope}", scopes=[scope])
    own_order = Order.objects.create(customer_name="Própria", status="pending")
    ApiOrder.objects.create(order=own_order, api_key=key)
    client = ApiClient(key.key)

    for name, (method, path, body) in routes(job, own_order.pk).items():
        before = counts()
        status = PrintJob.objects.get(pk=job).status
        response = getattr(client, method)(path, body)
        if name in ALLOWED[scope]:
            assert response.status_code in (200, 201), (scope, name, response.content)
        else:
            refused(response, 403, "insufficient_scope")
            assert counts() == before, (scope, name)
            assert PrintJob.objects.get(pk=job).status == status, (scope, name)


# --- printer limits ----------------------------------------------------------------------------


def test_a_key_limited_to_printer_a_can_neither_reach_nor_see_printer_b(make_key, make_printer, printer):
    kitchen = make_printer("Cozinha")
    admin = ApiClient(make_key(name="Admin").key)
    kitchen_job = admin.post(JOBS, {"printer": "Cozinha", "document": DOCUMENT}).json()["id"]
    counter_job = admin.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}).json()["id"]
    client = ApiClient(make_key(name="Só balcão", printers=["Balcão"]).key)
    before = counts()

    # POST, by every way of naming B.
    for reference in ("Cozinha", " Cozinha ", kitchen.pk, str(kitchen.pk)):
        response = refused(client.post(JOBS, {"printer": reference, "document": DOCUMENT}), 404, "printer_not_found")
        assert [error["field"] for error in response.json()["errors"]] == ["printer"]
    refused(client.post(f"{JOBS}/{kitchen_job}/cancel"), 404, "job_not_found")
    refused(client.post(f"{JOBS}/{kitchen_job}/cancel", Idempotency_Key="k1"), 404, "job_not_found")
    assert counts() == before
    assert PrintJob.objects.get(pk=kitchen_job).status == "pending"
    # GET: B's job, B as a filter (id or name), B in the lists.
    refused(client.get(f"{JOBS}/{kitchen_job}"), 404, "job_not_found")
    for reference in ("Cozinha", str(kitchen.pk)):
        refused(client.get(JOBS, {"printer": reference}), 404, "printer_not_found")
    assert [job["id"] for job in client.get(JOBS).json()["items"]] == [counter_job]
    assert [job["id"] for job in client.get(JOBS, {"status": "pending"}).json()["items"]] == [counter_job]
    assert [p["name"] for p in client.get("/api/v1/printers").json()] == ["Balcão"]
    # The same 404 as a printer that does not exist: the key learns nothing about B.
    unknown = client.post(JOBS, {"printer": "Não existe", "document": DOCUMENT}).json()
    hidden = client.post(JOBS, {"printer": "Cozinha", "document": DOCUMENT}).json()
    assert unknown["code"] == hidden["code"] and unknown["errors"][0]["field"] == hidden["errors"][0]["field"]


@pytest.mark.django_db(transaction=True)  # receipts are made on commit
def test_an_order_shows_only_the_receipts_on_the_keys_printers(make_key, make_printer, printer):
    make_printer("Cozinha")  # the routing rules print the order on both printers
    client = ApiClient(make_key(name="Só balcão", printers=["Balcão"]).key)

    created = client.post(ORDERS, ORDER).json()

    printers_printed = set(PrintJob.objects.filter(order_id=created["id"]).values_list("printer__name", flat=True))
    assert printers_printed == {"Balcão", "Cozinha"}
    assert {receipt["printer"]["name"] for receipt in created["receipts"]} <= {"Balcão"}
    assert {receipt["printer"]["name"] for receipt in client.get(f"{ORDERS}/{created['id']}").json()["receipts"]} <= {
        "Balcão"
    }


def test_another_keys_order_is_404_even_with_every_scope(make_key, printer, order):
    client = ApiClient(make_key(name="Intrusa").key)

    refused(client.get(f"{ORDERS}/{order}"), 404, "order_not_found")


# --- revocation --------------------------------------------------------------------------------


def test_a_key_revoked_between_two_requests_is_401_on_the_next_one(make_key, printer):
    api_key = make_key()
    client = ApiClient(api_key.key)
    assert client.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Idempotency_Key="order-1").status_code == 201
    before = counts()

    services.apikey_revoke(api_key=ApiKey.objects.get(pk=api_key.pk))

    for method, path, body in routes(PrintJob.objects.get().pk, 1).values():
        refused(getattr(client, method)(path, body), 401, "revoked_key")
    # A replay of a request that succeeded before the revocation is no way around it.
    refused(
        client.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Idempotency_Key="order-1"), 401, "revoked_key"
    )
    assert counts() == before


def test_the_admin_revoke_action_takes_effect_on_the_next_request(make_key, printer, admin_client):
    api_key = make_key()
    client = ApiClient(api_key.key)
    assert client.get("/api/v1/printers").status_code == 200

    response = admin_client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})

    assert response.status_code == 302, response.content[:500]
    refused(client.get("/api/v1/printers"), 401, "revoked_key")


def test_a_token_sharing_a_real_keys_prefix_is_401_and_spends_nothing_of_its_rate(make_key, printer, settings):
    settings.CANTINA_API_BURST = 2
    key = make_key().key
    forged = key[:12] + ("A" if key[12] != "A" else "B") + key[13:]

    for _ in range(5):
        refused(ApiClient(forged).get("/api/v1/printers"), 401, "invalid_key")
    assert ApiClient(key).get("/api/v1/printers").status_code == 200


# --- web origins (CORS) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "http://shop.example.com",
        "https://shop.example.com:8443",
        "https://shop.example.com.evil.example",
        "https://SHOP.example.com",
        "https://shop.example.com/",
        " https://shop.example.com",
    ],
)
def test_a_page_from_an_origin_the_key_does_not_list_can_neither_call_nor_read(make_key, printer, origin):
    client = ApiClient(make_key(origins=[SHOP]).key)

    for method, path, body in (("post", JOBS, {"printer": "Balcão", "document": DOCUMENT}), ("get", JOBS, None)):
        response = refused(getattr(client, method)(path, body, Origin=origin), 403, "origin_not_allowed")
        assert "Access-Control-Allow-Origin" not in response
    preflight = ApiClient().options(JOBS, Origin=origin, Access_Control_Request_Method="POST")
    assert "Access-Control-Allow-Origin" not in preflight
    assert counts() == (0, 0, 0, 0)


def test_a_key_without_origins_is_refused_from_any_web_page_but_its_own_site(make_key, printer):
    client = ApiClient(make_key().key)

    refused(client.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Origin=SHOP), 403, "origin_not_allowed")
    assert client.get("/api/v1/printers", Origin="http://testserver").status_code == 200
    assert not PrintJob.objects.exists()


def test_a_revoked_keys_origins_no_longer_pass_the_preflight(make_key, printer):
    api_key = make_key(origins=[SHOP])
    assert (
        ApiClient().options(JOBS, Origin=SHOP, Access_Control_Request_Method="POST")["Access-Control-Allow-Origin"]
        == SHOP
    )

    services.apikey_revoke(api_key=api_key)

    assert "Access-Control-Allow-Origin" not in ApiClient().options(
        JOBS, Origin=SHOP, Access_Control_Request_Method="POST"
    )


def test_one_keys_origin_does_not_open_another_key(make_key, printer):
    make_key(name="Loja", origins=[SHOP])
    totem = ApiClient(make_key(name="Totem", origins=["https://totem.example"]).key)

    response = refused(
        totem.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Origin=SHOP), 403, "origin_not_allowed"
    )

    assert "Access-Control-Allow-Origin" not in response
    assert not PrintJob.objects.exists()


# --- rate limit --------------------------------------------------------------------------------


def test_the_rate_limit_refuses_with_retry_after_creates_nothing_and_lets_the_page_read_it(make_key, printer, settings):
    settings.CANTINA_API_BURST = 3
    client = ApiClient(make_key(origins=[SHOP], rate_per_minute=2).key)
    statuses = [
        client.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Origin=SHOP, Idempotency_Key=f"k{n}").status_code
        for n in range(3)
    ]
    assert statuses == [201, 201, 201]
    before = counts()

    response = refused(
        client.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Origin=SHOP, Idempotency_Key="k3"),
        429,
        "rate_limited",
    )

    assert 1 <= int(response["Retry-After"]) <= 30
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "Retry-After" in response["Access-Control-Expose-Headers"]
    assert counts() == before
    # Even a replay of an earlier request waits its turn (it would otherwise be a free read).
    refused(
        client.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Origin=SHOP, Idempotency_Key="k0"),
        429,
        "rate_limited",
    )


def test_a_flood_of_bad_keys_does_not_rate_limit_the_good_key(make_key, printer, settings):
    settings.CANTINA_API_BURST = 2
    key = make_key().key

    for n in range(20):
        ApiClient(f"ck_{n:02d}" + "x" * 40).get("/api/v1/printers")

    assert ApiClient(key).get("/api/v1/printers").status_code == 200


def test_a_logged_in_superuser_session_opens_no_api_route(admin_client, printer):
    # Cookies are no API credential: a CSRF-able session must never print.
    response = admin_client.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, content_type="application/json")

    refused(response, 401, "missing_key")
    assert not PrintJob.objects.exists()
    assert Client().get("/api/v1/printers").status_code == 401
