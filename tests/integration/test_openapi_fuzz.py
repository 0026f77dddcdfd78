"""Schemathesis against /openapi.json: every operation fuzzed in-process, no 5xx, no schema violations.

The app is the real one (``create_app(bootstrap(url))``) over SQLite with the sample factory, its
BOM and material lots, and two simulated hours of sensor events, so reads answer 200 with real
bodies and not only 404s. Requests go through ASGI (no uvicorn). Each operation gets a bounded,
derandomized run; a failure names the operation and prints the request as a curl command.

The app and the headers every request carries come from the ``fuzz_target`` fixture alone, so the
same test runs against an app with authentication switched on by changing that fixture only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from seamline.adapters.layout_files import load_factory
from seamline.bootstrap import Runtime, bootstrap
from seamline.entrypoints.api import MAX_OFFSET, create_app
from seamline.entrypoints.auth_http import AuthConfig
from seamline.materials.service import Materials, load_bom, receive_lots_csv
from seamline.service_layer.ingest import RawEvent
from seamline.sim import SimConfig, default_start, simulate

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "factory"
# A fixed past morning: the same events (and so the same answers) on every run.
SIM_DAY = datetime(2026, 11, 24, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
SIM_HOURS = 2.0

# FastAPI's own validation errors come out as `{"detail": "query.limit: ..."}` (api.validation_message).
_SCHEMA_VALIDATION = ("query.", "path.", "body", "header.", "cookie.")


def valid_data_accepted(ctx, response, case):  # type: ignore[no-untyped-def]
    """`positive_data_acceptance` for what the schema can say. A 400/422 a handler raises for a rule
    JSON Schema cannot state passes: one field against another (`end` after `start`, a supervisor's
    token needs lines) or against the data (a pack ratio's sizes). A refusal by request validation
    still fails: then the schema calls valid what the app's own validation refuses."""
    if response.status_code in (400, 422) and "json" in response.headers.get("content-type", [""])[0]:
        body = response.json()
        detail = body.get("detail") if isinstance(body, dict) else None
        if isinstance(detail, str) and not detail.startswith(_SCHEMA_VALIDATION):
            return None
    return positive_data_acceptance(ctx, response, case)


# The harness sends valid credentials on every request, over whatever the generator put there.
_CREDENTIALS = {"authorization", "cookie", "seamline_session", "x-csrf-token"}


def invalid_data_refused(ctx, response, case):  # type: ignore[no-untyped-def]
    """`negative_data_rejection`, except for a case made invalid in its credentials: the harness
    replaced them with valid ones, so it sent a valid request (tests/auth covers bad credentials)."""
    data = getattr(getattr(case.meta, "phase", None), "data", None)
    touched = {getattr(data, "parameter", None)} | {m.parameter for m in getattr(data, "mutations", ()) or ()}
    if any((name or "").lower() in _CREDENTIALS for name in touched):
        return None
    return negative_data_rejection(ctx, response, case)


# "No 5xx and no schema violations": statuses, media types, headers and bodies as documented; plus
# data the schema calls invalid is refused (4xx) and data it calls valid is accepted (see above).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    valid_data_accepted,
    invalid_data_refused,
]


@dataclass
class FuzzTarget:
    """What the fuzzer talks to: the ASGI app and the headers each request carries (e.g. a token)."""

    app: FastAPI
    rt: Runtime
    headers: dict[str, str] = field(default_factory=dict)
    token_id: int | None = None  # the API token in ``headers``, which the fuzzer must not revoke


def _load_sample(rt: Runtime) -> None:
    layout = load_factory(EXAMPLE)
    rt.save_layout(layout)
    mat = Materials(rt.engine, layout, load_bom(EXAMPLE))
    mat.store.save_bom(mat.bom)
    receive_lots_csv(mat.store, EXAMPLE / "materials.csv")
    start = default_start(layout, SIM_DAY)
    sim = simulate(layout, SimConfig(seed=11, start=start, hours=SIM_HOURS, record_pieces=False))
    for i in range(0, len(sim.events), 4000):
        raws = [RawEvent(payload=p, source="mqtt", topic=t) for t, p, _ in sim.events[i : i + 4000]]
        rt.worker.submit_future(raws).result(60)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    """The app as `seamline serve` runs it: login required, an admin's bearer token on every request
    so every route is reached past the access check (tests/auth covers who is refused where). The
    open mode of the demo runs the same handlers without the check."""
    rt = bootstrap(f"sqlite:///{tmp_path_factory.mktemp('fuzz')}/seamline.db")
    try:
        _load_sample(rt)
        app = create_app(rt, AuthConfig(mode="required"))
        token_id, token = app.state.auth.create_token("fuzz", ["admin"], actor="test")
        yield FuzzTarget(app=app, rt=rt, headers={"Authorization": f"Bearer {token}"}, token_id=token_id)
    finally:
        rt.close()


def _openapi_at_collection() -> dict[str, Any]:
    """The schema, from an app over an empty in-memory database: one pytest item per operation.

    (A fixture-loaded schema, ``schemathesis.pytest.from_fixture``, runs every operation inside one
    item and breaks on pytest 9.2, which dropped the ``Node._nodeid`` it rewrites.) The test checks
    that the app it fuzzes serves this very schema, so the two cannot drift apart.
    """
    rt = bootstrap("sqlite://", start_worker=False)
    try:
        return create_app(rt).openapi()
    finally:
        rt.close()


SPEC = _openapi_at_collection()
schema = schemathesis.openapi.from_dict(SPEC)


def test_fuzzed_app_serves_the_collected_schema(fuzz_target: FuzzTarget) -> None:
    from fastapi.testclient import TestClient

    served = TestClient(fuzz_target.app).get("/openapi.json", headers=fuzz_target.headers)
    assert served.status_code == 200 and served.json() == SPEC


def _names(case, token_id: int | None) -> bool:  # type: ignore[no-untyped-def]
    """Whether a generated DELETE /tokens/{token_id} would revoke the fuzzer's own token."""
    try:
        return token_id is not None and int(str(case.path_parameters.get("token_id")).strip()) == token_id
    except ValueError:
        return False


@schema.parametrize()
@pytest.mark.timeout(60)  # a request that never answers fails its operation, not the whole run
@settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
def test_openapi_operation(case, fuzz_target: FuzzTarget) -> None:  # type: ignore[no-untyped-def]
    if (case.method, case.path) == ("DELETE", "/api/v1/tokens/{token_id}") and _names(case, fuzz_target.token_id):
        case.path_parameters["token_id"] = MAX_OFFSET  # an unknown token: a 404 instead of our own
    response = case.call_and_validate(headers=fuzz_target.headers, checks=CHECKS, app=fuzz_target.app)
    # Every request is signed in: a 401 means the credentials were lost and the rest would test
    # nothing but the access check.
    assert response.status_code != 401, f"{case.operation.label}: {response.text[:200]}"


def test_real_resources_answer_as_documented(fuzz_target: FuzzTarget) -> None:
    """Generated path ids rarely name a real worker, line or bundle, so these are asked for by name:
    a 200 with a real body, checked against the documented status, media type, headers and body."""
    rt = fuzz_target.rt
    lay = next(iter(rt.layouts.values()))
    with rt.pipeline.lock:
        worked = sorted({st.worker for st in rt.live.stations.values() if st.worker})
    order = sorted(lay.orders)[0]
    bundle = sorted(b for b in lay.bundles if lay.bundles[b].order_id == order)[0]
    style = lay.styles[lay.orders[order].style_code]
    asks = [
        ("/api/v1/factories/{factory}/model", {"factory": lay.factory.id}, {}),
        ("/api/v1/lines/{line}/live", {"line": sorted(lay.lines)[0]}, {}),
        ("/api/v1/efficiency", {}, {"scope": "line", "hourly": "true"}),
        ("/api/v1/workers/{badge}/skills", {"badge": worked[0]}, {}),
        (
            "/api/v1/workers/{badge}/skills/{style}/{op}",
            {"badge": worked[0], "style": style.code, "op": style.operations[0].code},
            {},
        ),
        ("/api/v1/quality/trace/bundle/{bundle}", {"bundle": bundle}, {}),
        ("/api/v1/materials/bundles/{bundle}", {"bundle": bundle}, {}),
        ("/api/v1/materials/orders/{order}/progress", {"order": order}, {}),
        ("/api/v1/materials/orders/{order}/cut-plan", {"order": order}, {}),
        ("/api/v1/materials/orders/{order}/tickets.pdf", {"order": order}, {"layout": "label"}),
        ("/api/v1/materials/shortages", {}, {"orders": [order]}),
        ("/api/v1/roi", {}, {}),
        ("/owner", {}, {"lang": "en"}),
        ("/owner.pdf", {}, {}),
    ]
    conformance = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        response_headers_conformance,
    ]
    bodies = {}
    for path, params, query in asks:
        case = schema[path]["GET"].Case(path_parameters=params, query=query)
        response = case.call(app=fuzz_target.app, headers=fuzz_target.headers)
        assert response.status_code == 200, (path, params, query, response.text[:300])
        case.validate_response(response, checks=conformance, headers=fuzz_target.headers)
        bodies[path] = response
    assert bodies["/api/v1/workers/{badge}/skills"].json()["skills"], "the worker has estimates"
    assert bodies["/api/v1/lines/{line}/live"].json()["stations"], "the line has stations"
    assert bodies["/owner.pdf"].content.startswith(b"%PDF")
