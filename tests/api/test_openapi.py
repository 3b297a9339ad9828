"""The OpenAPI document is valid, lists every endpoint, and the interactive docs are served."""

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    ("post", "/api/v1/print-jobs"),
    ("get", "/api/v1/print-jobs"),
    ("get", "/api/v1/print-jobs/{job_id}"),
    ("post", "/api/v1/print-jobs/{job_id}/cancel"),
    ("get", "/api/v1/printers"),
    ("post", "/api/v1/orders"),
    ("get", "/api/v1/orders/{order_id}"),
}


@pytest.fixture
def schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_document_validates(schema):
    validate(schema)


def test_it_lists_every_endpoint_with_bearer_auth_and_problem_errors(schema):
    listed = {(method, path) for path, operations in schema["paths"].items() for method in operations}

    assert listed == ENDPOINTS
    assert schema["components"]["securitySchemes"]["ApiKeyAuth"] == {"type": "http", "scheme": "bearer"}
    create = schema["paths"]["/api/v1/print-jobs"]["post"]
    assert {"201", "401", "403", "404", "409", "413", "422", "429"} <= set(create["responses"])
    for path, operations in schema["paths"].items():
        if "post" in operations:
            assert "Idempotency-Key" in [p["name"] for p in operations["post"].get("parameters", [])], path
    fields = schema["components"]["schemas"]["PrintJobIn"]["properties"]
    assert {"printer", "document", "raw", "raw_format", "copies", "priority", "title", "source", "expire_after"} <= set(
        fields
    )


def test_the_interactive_docs_are_served(client):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
