"""Admin: API keys are created with the key shown once (never cached), listed by prefix, revoked."""

import re

import pytest

from api import services
from api.models import ApiKey
from printing.models import hash_token
from tests.admin.helpers import post_action
from tests.api.conftest import ApiClient

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/api/apikey/"


def test_adding_a_key_shows_it_once_on_a_page_nobody_caches(manager_client, make_printer):
    printer = make_printer("Balcão")

    response = manager_client.post(
        f"{CHANGELIST}add/",
        {
            "name": "Loja online",
            "scopes": ["print", "read"],
            "printers": [printer.pk],
            "allowed_origins": "https://shop.example.com\n",
            "rate_per_minute": "",
        },
    )

    assert response.status_code == 200, response.content
    assert "no-store" in response["Cache-Control"]
    key = re.search(r'value="(ck_[A-Za-z0-9_-]{43})"', response.content.decode()).group(1)
    api_key = ApiKey.objects.get()
    assert api_key.key_hash == hash_token(key)
    assert api_key.allowed_origins == ["https://shop.example.com"]
    assert ApiClient(key).get("/api/v1/printers").status_code == 200
    page = manager_client.get(f"{CHANGELIST}{api_key.pk}/change/").content.decode()
    assert key not in page and api_key.key_prefix in page


def test_the_list_shows_prefix_and_last_use_never_the_key(manager_client):
    api_key, key = services.apikey_create(name="Loja")
    ApiClient(key).get("/api/v1/printers")

    page = manager_client.get(CHANGELIST).content.decode()

    assert f"{api_key.key_prefix}…" in page
    assert key not in page


def test_a_bad_origin_is_refused_with_a_message(manager_client):
    response = manager_client.post(
        f"{CHANGELIST}add/", {"name": "Loja", "scopes": ["print"], "allowed_origins": "shop.example.com/path"}
    )

    assert response.status_code == 200
    assert "is not a web origin" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_the_revoke_action_stops_the_key(manager_client):
    api_key, key = services.apikey_create(name="Loja")

    post_action(manager_client, CHANGELIST, "revoke", [api_key])

    assert ApiKey.objects.get().revoked_at is not None
    assert ApiClient(key).get("/api/v1/printers").status_code == 401
