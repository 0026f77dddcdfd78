"""The owner page, the evidence links and the PDF on the demo factory's simulated data.

One simulated shift of examples/factory goes through the real ingest; the page must show a
payback with its range, every figure on it must link to data that answers, and the PDF (zh and
en) must carry the same payback figure as the API.
"""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from seamline.adapters.layout_files import load_factory
from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from seamline.entrypoints.demo import find_examples
from seamline.service_layer.ingest import RawEvent
from seamline.sim import SimConfig, simulate
from tests.conftest import ENGINES, new_database

START = datetime(2026, 11, 16, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday in the past


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.evidence: list[str] = []
        self.all: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.all.append(a["href"] or "")
            if "ev" in (a.get("class") or "").split():
                self.evidence.append(a["href"] or "")


@pytest.fixture(scope="module", params=ENGINES)
def client(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    layout = load_factory(find_examples())
    sim = simulate(layout, SimConfig(seed=5, start=START, hours=9.5))
    rt = bootstrap(new_database(request, request.param, tmp_path_factory.mktemp("roi")))
    rt.save_layout(layout)
    rt.worker.submit_future([RawEvent(p, source="mqtt", topic=t) for t, p, _ in sim.events]).result()
    with TestClient(create_app(rt)) as c:
        yield c
    rt.close()


def test_api_gives_a_payback_with_a_range(client: TestClient) -> None:
    r = client.get("/api/v1/roi").json()
    assert r["block_kind"] == "hour" and r["blocks"] >= 8
    pb, p10, p90 = r["payback_months"], r["payback_p10"], r["payback_p90"]
    assert pb is not None and p10 is not None, r
    assert Decimal(p10) <= Decimal(pb)
    assert p90 is None or Decimal(pb) <= Decimal(p90)
    # the payback is the one-off investment over the net monthly benefit
    assert Decimal(pb) == (Decimal(r["investment"]["one_off_cny"]) / Decimal(r["net_monthly_cny"])).quantize(
        Decimal("0.1")
    )
    assert [s["key"] for s in r["scenarios"]] == ["as_measured", "orders_minus_30", "half_lines", "both"]
    minus30 = r["scenarios"][1]
    assert Decimal(minus30["payback_months"]) > Decimal(pb)  # fewer orders: slower payback


def test_efficiency_matches_the_efficiency_api(client: TestClient) -> None:
    r = client.get("/api/v1/roi").json()
    eff = client.get(r["efficiency_api"]).json()["rows"]
    earned = sum(x["earned_min"] for x in eff)
    attended = sum(x["attended_min"] for x in eff)
    after = next(f for f in r["figures"] if f["metric"] == "efficiency_pct")["after"]
    assert Decimal(after) == Decimal(repr(100 * earned / attended)).quantize(Decimal("0.01"))
    ev = client.get(after_link := next(f for f in r["figures"] if f["metric"] == "efficiency_pct")["after_link"])
    rows = ev.json()["rows"]
    assert sum(x["earned_min"] for x in rows) == pytest.approx(earned, abs=0.01), after_link


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_owner_page_shows_payback_and_every_figure_links_to_data(client: TestClient, lang: str) -> None:
    r = client.get("/api/v1/roi").json()
    page = client.get(f"/owner?lang={lang}")
    assert page.status_code == 200
    html = page.text
    word = "个月" if lang == "zh" else "months"
    assert f"{r['payback_months']} {word}" in html
    assert ("回本时间" if lang == "zh" else "Payback") in html
    assert 'id="sensitivity"' in html and html.count("data-scenario=") == 4
    links = Links()
    links.feed(html)
    # payback, range, net, investment, software, 4 scenarios × 4, blocks, efficiency + figures
    assert len(links.evidence) >= 25
    for href in set(links.evidence):
        resp = client.get(href)
        assert resp.status_code == 200, href
        assert resp.json(), href
    assert any(h.startswith("/api/v1/efficiency?") for h in links.evidence)
    # every number in a figure cell is a link
    for cell in re.findall(r'<td class="n">(.*?)</td>', html, flags=re.S):
        if re.search(r"\d", cell):
            assert 'class="ev' in cell, cell


def test_language_follows_the_cookie_the_pages_set(client: TestClient) -> None:
    resp = client.get("/owner?lang=en")
    assert resp.cookies.get("seamline_lang") == "en"
    client.cookies.set("seamline_lang", "en")
    try:
        assert "Payback" in client.get("/owner").text
    finally:
        client.cookies.clear()
    assert "回本时间" in client.get("/owner").text


def test_evidence_of_a_baseline_figure_names_its_source(client: TestClient) -> None:
    r = client.get("/api/v1/roi").json()
    eff = next(f for f in r["figures"] if f["metric"] == "efficiency_pct")
    ev = client.get(eff["before_link"]).json()
    assert ev["value"] == eff["before"] and "Demo assumption" in ev["source"]
    assert client.get("/api/v1/roi/evidence/nonsense").status_code == 404


@pytest.mark.parametrize(("lang", "word"), [("zh", "个月"), ("en", "months")])
def test_pdf_is_one_page_and_carries_the_payback(client: TestClient, lang: str, word: str) -> None:
    r = client.get("/api/v1/roi").json()
    resp = client.get(f"/owner.pdf?lang={lang}")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(resp.content))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text()
    assert f"{r['payback_months']} {word}" in text
    assert ("敏感性分析" if lang == "zh" else "Sensitivity") in text
    # The font travels with the file in both languages (a phone without it would show boxes).
    from tests.pdf_checks import assert_all_fonts_embedded

    assert_all_fonts_embedded(resp.content)
    if lang == "zh":
        assert not re.search(r"\d{4}-\d{2}-\d{2}T", text)  # no ISO timestamps


def test_period_and_lines_are_checked(client: TestClient) -> None:
    assert client.get("/api/v1/roi?lines=L9").status_code == 404
    assert client.get("/api/v1/roi", params={"start": "2026-11-16T08:00:00"}).status_code == 422
    half = client.get(
        "/api/v1/roi",
        params={"lines": "L1,L2", "start": START.isoformat(), "end": (START + timedelta(hours=10)).isoformat()},
    ).json()
    assert half["lines"] == ["L1", "L2"] and half["investment"]["stations"] == 60


def test_a_measured_before_period_replaces_the_hand_baseline(client: TestClient) -> None:
    mid, end = START + timedelta(hours=4), START + timedelta(hours=10)
    params = {
        "start": mid.isoformat(),
        "end": end.isoformat(),
        "before_start": START.isoformat(),
        "before_end": mid.isoformat(),
    }
    r = client.get("/api/v1/roi", params=params).json()
    assert r["before_period"]["start"] == START.isoformat()
    eff = next(f for f in r["figures"] if f["metric"] == "efficiency_pct")
    rows = client.get(
        "/api/v1/efficiency", params={"scope": "line", "start": START.isoformat(), "end": mid.isoformat()}
    ).json()["rows"]
    before = 100 * sum(x["earned_min"] for x in rows) / sum(x["attended_min"] for x in rows)
    assert Decimal(eff["before"]) == Decimal(repr(before)).quantize(Decimal("0.01"))
    assert eff["before_source"].startswith("measured")
    dhu = next(f for f in r["figures"] if f["metric"] == "dhu_pct")
    assert dhu["before"] is not None and dhu["monthly_cny"] is not None  # measured, so now priced
    ev = client.get(eff["before_link"]).json()
    assert ev["rows"] and sum(x["earned_min"] for x in ev["rows"]) == pytest.approx(
        sum(x["earned_min"] for x in rows), abs=0.01
    )
    assert client.get("/api/v1/roi", params={"before_start": START.isoformat()}).status_code == 422
