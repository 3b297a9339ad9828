"""Print API fixtures: keys with chosen scopes and printers, and a client that sends JSON with them."""

import json

import pytest
from django.test import Client


class ApiClient:
    """Django's test client speaking JSON with ``Authorization: Bearer <key>``."""

    def __init__(self, key=None, **headers):
        self.client = Client()
        self.key = key
        self.headers = headers

    def _headers(self, headers):
        merged = {"HTTP_ACCEPT_LANGUAGE": "en", **self.headers}
        if self.key:
            merged["HTTP_AUTHORIZATION"] = f"Bearer {self.key}"
        for name, value in headers.items():
            merged["HTTP_" + name.upper().replace("-", "_")] = value
        return merged

    def get(self, path, params=None, **headers):
        return self.client.get(path, params or {}, **self._headers(headers))

    def post(self, path, body=None, *, raw=None, **headers):
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        return self.client.post(path, data, content_type="application/json", **self._headers(headers))

    def options(self, path, **headers):
        return self.client.options(path, **self._headers(headers))


@pytest.fixture
def make_key(db):
    from api import services

    def make(name="Loja online", scopes=None, printers=(), origins=(), rate_per_minute=None):
        api_key, key = services.apikey_create(
            name=name, scopes=scopes, printer_names=printers, origins=origins, rate_per_minute=rate_per_minute
        )
        api_key.key = key
        return api_key

    return make


@pytest.fixture
def printer(make_printer):
    return make_printer("Balcão")


@pytest.fixture
def api(make_key, printer):
    """A client with an all-scopes, all-printers key."""
    return ApiClient(make_key().key)


def problem_fields(response):
    assert response["Content-Type"] == "application/problem+json", response.content
    return [error["field"] for error in response.json()["errors"]]


DOCUMENT = {
    "version": "1.0",
    "commands": [
        {"type": "text", "data": {"content": "Pedido 42", "style": {"bold": True}}},
        {"type": "separator", "data": {}},
        {"type": "cut", "data": {}},
    ],
}
