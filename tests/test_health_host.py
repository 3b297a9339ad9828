"""/health answers whatever the Host header says (monitors ask a backend by its address), before
host validation, with no DisallowedHost traceback; other pages still refuse unknown hosts."""

import logging

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["10.1.2.3:8001", "backend-7", "evil.example.com"])
def test_health_answers_any_host_without_logging_an_error(client, host, caplog):
    with caplog.at_level(logging.INFO):
        response = client.get("/health", HTTP_HOST=host)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert not [record for record in caplog.records if record.levelno >= logging.WARNING]


def test_health_is_neither_redirected_nor_refused_in_production(client, settings):
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["print.example.com"]
    response = client.get("/health", HTTP_HOST="10.1.2.3:8001")
    assert response.status_code == 200
    assert client.head("/health", HTTP_HOST="10.1.2.3:8001").status_code == 200
    assert client.post("/health", HTTP_HOST="10.1.2.3:8001").status_code == 405


def test_other_pages_still_refuse_an_unknown_host_in_one_line_without_traceback(client, settings, caplog):
    settings.ALLOWED_HOSTS = ["print.example.com"]
    with caplog.at_level(logging.INFO):
        response = client.get("/accounts/login/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    records = [record for record in caplog.records if record.name == "django.security.DisallowedHost"]
    assert len(records) == 1
    assert "evil.example.com" in records[0].getMessage()
    assert records[0].exc_info is None
