"""Bad requests get a 4xx with a message that says what to fix."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from tests.conftest import ENGINES, new_database, tiny_layout


@pytest.fixture(scope="module", params=ENGINES)
def client(request, tmp_path_factory):
    """One app per engine for the module: the requests below change nothing in the database."""
    rt = bootstrap(new_database(request, request.param, tmp_path_factory.mktemp("api")))
    rt.save_layout(tiny_layout())
    yield TestClient(create_app(rt))
    rt.close()


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "says"),
    [
        ("post", "/api/v1/events", {"content": b'{"id": "x"}'}, 400, "JSON array"),
        ("post", "/api/v1/events", {"content": b"[1, 2"}, 400, "JSON array"),
        ("post", "/api/v1/events", {"content": b"[" + b",".join([b"{}"] * 10_001) + b"]"}, 413, "at most 10000"),
        ("get", "/api/v1/lines/L9/live", {}, 404, "unknown line 'L9'"),
        ("get", "/api/v1/lines/L1/live", {"params": {"factory": "nope"}}, 404, "unknown factory 'nope'"),
        ("get", "/api/v1/lines/L1/live", {"params": {"as_of": "2026-11-20T08:00:00"}}, 422, "UTC offset"),
        ("get", "/api/v1/efficiency", {"params": {"scope": "galaxy"}}, 422, "scope"),
        (
            "get",
            "/api/v1/efficiency",
            {"params": {"start": "2026-11-20T08:00:00+08:00", "end": "2026-11-20T07:00:00+08:00"}},
            422,
            "after `start`",
        ),
        ("get", "/api/v1/quarantine", {"params": {"limit": 0}}, 422, "limit"),
        ("get", "/api/v1/factories/nope/model", {}, 404, "unknown factory"),
    ],
)
def test_bad_requests(client, method, url, kwargs, status, says):
    r = getattr(client, method)(url, **kwargs)
    assert r.status_code == status, r.text
    assert says in r.text


def test_openapi_and_model(client):
    spec = client.get("/openapi.json").json()
    assert "/api/v1/events" in spec["paths"] and "/api/v1/lines/{line}/live" in spec["paths"]
    model = client.get("/api/v1/factories/f1/model").json()
    assert [o["code"] for o in model["styles"][0]["operations"]] == ["OP1", "OP2"]
    assert model["calendars"][0]["breaks"][0]["start"] == "12:00:00"
    assert client.get("/api/v1/quarantine").json() == {"total": 0, "items": [], "next_before": None}
