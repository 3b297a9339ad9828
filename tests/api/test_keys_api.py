"""API keys: Bearer only, scopes, printer scope (404), revocation, rate limit, CORS per key, no cookies."""

import pytest
from django.core.management import call_command
from django.test import Client

from api.models import ApiKey
from printing.models import PrintJob, hash_token
from tests.api.conftest import DOCUMENT, ApiClient, problem_fields

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/print-jobs"
SHOP = "https://shop.example.com"


def test_apikey_add_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(printer, make_printer, capsys):
    make_printer("Cozinha")

    call_command("apikey_add", "Loja", "--printers", "Balcão,Cozinha", "--scopes", "print,read")

    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("ck_") and len(key) == 46
    api_key = ApiKey.objects.get()
    assert api_key.key_hash == hash_token(key) and key not in (api_key.key_hash, api_key.key_prefix)
    assert sorted(api_key.scopes) == ["print", "read"]
    assert sorted(api_key.printers.values_list("name", flat=True)) == ["Balcão", "Cozinha"]
    assert ApiClient(key).get("/api/v1/printers").status_code == 200


def test_apikey_add_refuses_an_unknown_printer_or_scope(printer):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="Nowhere"):
        call_command("apikey_add", "Loja", "--printers", "Nowhere")
    with pytest.raises(CommandError, match="admin"):
        call_command("apikey_add", "Loja", "--scopes", "admin")
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        (None, "missing_key"),
        ("Token abc", "bad_authorization"),
        ("Bearer ", "bad_authorization"),
        ("Bearer ck_this-is-not-a-key-at-all", "invalid_key"),
    ],
)
def test_no_key_or_a_bad_key_is_401(printer, make_key, authorization, code):
    make_key()
    headers = {"Authorization": authorization} if authorization else {}

    response = ApiClient().post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, **headers)

    assert response.status_code == 401
    assert response.json()["code"] == code
    assert problem_fields(response) == ["Authorization"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not PrintJob.objects.exists()


def test_a_revoked_key_is_401(printer, make_key):
    from api import services

    api_key = make_key()
    services.apikey_revoke(api_key=api_key)

    response = ApiClient(api_key.key).get("/api/v1/printers")

    assert response.status_code == 401
    assert response.json()["code"] == "revoked_key"


@pytest.mark.parametrize(
    ("scopes", "method", "path"),
    [
        (["read"], "post", JOBS),
        (["orders"], "get", "/api/v1/printers"),
        (["orders"], "get", JOBS),
        (["print", "read"], "post", "/api/v1/orders"),
        (["print"], "get", "/api/v1/orders/1"),
    ],
)
def test_a_key_without_the_scope_is_403(printer, make_key, scopes, method, path):
    client = ApiClient(make_key(scopes=scopes).key)

    response = getattr(client, method)(path, {"printer": "Balcão", "document": DOCUMENT} if method == "post" else None)

    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_scope"
    assert not PrintJob.objects.exists()


def test_a_key_sees_and_prints_only_on_its_printers(printer, make_printer, make_key):
    kitchen = make_printer("Cozinha")
    outsider = ApiClient(make_key(name="Totem").key)
    kitchen_job = outsider.post(JOBS, {"printer": "Cozinha", "document": DOCUMENT}).json()["id"]
    client = ApiClient(make_key(printers=["Balcão"]).key)

    assert [p["name"] for p in client.get("/api/v1/printers").json()] == ["Balcão"]
    for reference in ("Cozinha", kitchen.pk):
        response = client.post(JOBS, {"printer": reference, "document": DOCUMENT})
        assert response.status_code == 404  # not 403: the key learns nothing about the printer
        assert problem_fields(response) == ["printer"]
    assert client.get(f"{JOBS}/{kitchen_job}").status_code == 404
    assert client.post(f"{JOBS}/{kitchen_job}/cancel").status_code == 404
    assert client.get(JOBS).json()["items"] == []
    assert client.get(JOBS, {"printer": "Cozinha"}).status_code == 404
    assert PrintJob.objects.get(pk=kitchen_job).status == "pending"
    assert client.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}).status_code == 201


def test_the_rate_limit_answers_429_with_retry_after(printer, make_key, settings):
    settings.CANTINA_API_BURST = 3
    client = ApiClient(make_key(rate_per_minute=6).key)

    statuses = [client.get("/api/v1/printers").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/printers")
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 10


def test_the_rate_limit_is_per_key(printer, make_key, settings):
    settings.CANTINA_API_BURST = 1
    first, second = ApiClient(make_key().key), ApiClient(make_key(name="Outra").key)

    assert first.get("/api/v1/printers").status_code == 200
    assert first.get("/api/v1/printers").status_code == 429
    assert second.get("/api/v1/printers").status_code == 200


def test_last_used_is_recorded(api, printer):
    assert ApiKey.objects.get().last_used_at is None

    api.get("/api/v1/printers")

    assert ApiKey.objects.get().last_used_at is not None


# --- CORS -----------------------------------------------------------------------------------


def test_a_preflight_from_an_origin_a_key_lists_is_allowed(printer, make_key):
    make_key(origins=[SHOP])

    response = ApiClient().options(
        JOBS,
        Origin=SHOP,
        Access_Control_Request_Method="POST",
        Access_Control_Request_Headers="authorization,content-type,idempotency-key",
    )

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert "Idempotency-Key" in response["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in response


def test_a_preflight_from_another_origin_gets_no_cors_headers(printer, make_key):
    make_key(origins=[SHOP])

    response = ApiClient().options(JOBS, Origin="https://evil.example", Access_Control_Request_Method="POST")

    assert "Access-Control-Allow-Origin" not in response


def test_a_key_works_from_its_origin_and_from_no_other(printer, make_key):
    shop_key = make_key(origins=[SHOP]).key
    other_key = make_key(name="Totem", origins=["https://totem.example"]).key

    allowed = ApiClient(shop_key).post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Origin=SHOP)
    assert allowed.status_code == 201
    assert allowed["Access-Control-Allow-Origin"] == SHOP
    assert "Origin" in allowed["Vary"]

    refused = ApiClient(other_key).post(JOBS, {"printer": "Balcão", "document": DOCUMENT}, Origin=SHOP)
    assert refused.status_code == 403
    assert refused.json()["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in refused
    assert PrintJob.objects.count() == 1


def test_calls_without_origin_work_as_servers_make_them(api, printer):
    response = api.get("/api/v1/printers")

    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


# --- cookies --------------------------------------------------------------------------------


def test_a_logged_in_staff_session_is_no_api_credential(printer, staff_user):
    browser = Client()
    browser.force_login(staff_user)

    response = browser.get("/api/v1/printers")

    assert response.status_code == 401


def test_the_api_sets_no_cookies(api, printer):
    responses = [
        api.post(JOBS, {"printer": "Balcão", "document": DOCUMENT}),
        api.get(JOBS),
        api.get("/api/v1/printers"),
        ApiClient().get(JOBS),
    ]

    assert all(not response.cookies for response in responses)


def test_staff_routes_keep_csrf_protection(staff_user):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)

    assert browser.post("/accounts/logout/").status_code == 403


def test_errors_speak_portuguese_by_default_and_english_when_asked(printer):
    client = Client()

    default = client.get("/api/v1/printers")
    english = client.get("/api/v1/printers", HTTP_ACCEPT_LANGUAGE="en")

    assert default.json()["detail"] == "Envie sua chave de API como “Authorization: Bearer ck_…”."
    assert english.json()["detail"] == "Send your API key as “Authorization: Bearer ck_…”."
    assert default.json()["code"] == english.json()["code"] == "missing_key"
