"""What the OpenAPI fuzz test (tests/integration/test_openapi_fuzz.py) made the core API promise."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from tests.conftest import ENGINES, new_database, tiny_layout


@pytest.fixture(scope="module", params=ENGINES)
def client(request, tmp_path_factory):  # type: ignore[no-untyped-def]
    """One app per engine for the module: the tests below only read."""
    rt = bootstrap(new_database(request, request.param, tmp_path_factory.mktemp("contract")))
    rt.save_layout(tiny_layout())
    yield TestClient(create_app(rt))
    rt.close()


def test_quarantine_offset_past_64_bits_is_a_422_not_a_500(client):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/quarantine", params={"offset": 2**63})  # SQLite raised OverflowError
    assert r.status_code == 422 and r.json()["detail"].startswith("query.offset: ")
    assert client.get("/api/v1/quarantine", params={"offset": 2**31 - 1}).json()["items"] == []


@pytest.mark.parametrize("as_of", ["0.5", "1732600000", "2026-11-20T08:00:00", "2026-11-20"])
def test_times_are_rfc3339_with_offset(client, as_of):  # type: ignore[no-untyped-def]
    # Pydantic alone reads "0.5" as Unix seconds and takes a time without offset.
    r = client.get("/api/v1/lines/L1/live", params={"as_of": as_of})
    assert r.status_code == 422 and "UTC offset" in r.json()["detail"]
    ok = client.get("/api/v1/lines/L1/live", params={"as_of": "2026-11-20T08:00:00+08:00"})
    assert ok.status_code == 200


def test_validation_errors_have_the_problem_shape(client):  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/efficiency", params={"scope": "galaxy", "hourly": "maybe"})
    assert r.status_code == 422
    detail = r.json()["detail"]
    assert isinstance(detail, str) and detail.startswith("query.scope: ") and "; query.hourly: " in detail
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for status, resp in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert resp["content"] == {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    }, (method, path, status)


def test_pdf_and_html_routes_say_so(client):  # type: ignore[no-untyped-def]
    paths = client.get("/openapi.json").json()["paths"]
    assert list(paths["/owner"]["get"]["responses"]["200"]["content"]) == ["text/html"]
    assert list(paths["/owner.pdf"]["get"]["responses"]["200"]["content"]) == ["application/pdf"]
    assert list(paths["/api/v1/materials/orders/{order}/tickets.pdf"]["get"]["responses"]["200"]["content"]) == [
        "application/pdf"
    ]


def test_every_route_with_a_scope_parameter_documents_the_400_for_giving_it_twice(client):  # type: ignore[no-untyped-def]
    """The access middleware refuses a scope parameter given twice (400, auth_http.request_params):
    every operation that takes one in its query says so (the fuzz test found one that did not)."""
    from seamline.auth.policy import SCOPE_PARAMS

    spec = client.get("/openapi.json").json()
    missing = [
        (method, path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if any(p["in"] == "query" and p["name"] in SCOPE_PARAMS for p in op.get("parameters", []))
        and "400" not in op["responses"]
    ]
    assert missing == []
    r = client.get("/api/v1/orders/O1/state?factory=F&factory=G")
    assert r.status_code == 400 and "factory" in r.json()["detail"]
