"""The role screens over real HTTP with login on: where each role lands, what its header offers,
and what the quality, materials and auditor pages and the line page's TV mode show."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx
import pytest

from seamline.auth.roles import HUMAN_ROLES, Role
from seamline.auth.service import AuthService
from seamline.entrypoints.auth_http import AuthConfig
from seamline.quality.audit import AuditDefect, run_audit
from seamline.quality.dhu import DhuAlert
from seamline.quality.store import record_audit

from .server import RUSH_ORDER, Served, start

PASSWORD = "screens-sew-9-hems"
NAV = re.compile(r"<nav>(.*?)</nav>", re.S)
HREF = re.compile(r'href="([^"]+)"')


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    d = tmp_path_factory.mktemp("screens")
    s = start(f"sqlite:///{d}/screens.db", hours=2.0, auth=AuthConfig(mode="required"))
    svc: AuthService = s.server.config.app.state.auth  # type: ignore[attr-defined]
    f = s.layout.factory.id
    for role in sorted(HUMAN_ROLES - {Role.WORKER}):
        svc.add_user(
            f"s-{role.value}",
            PASSWORD,
            [role.value],
            actor="test",
            factory=f,
            lines=["L1"] if role is Role.SUPERVISOR else [],
        )
    try:
        yield s
    finally:
        s.stop()


@contextmanager
def _client(served: Served, role: Role) -> Iterator[httpx.Client]:
    """A browser-like session of ``role``, signed in through the form; ``c.landing``: where it went."""
    with httpx.Client(base_url=served.url, timeout=30) as c:
        r = c.post("/login", data={"username": f"s-{role.value}", "password": PASSWORD, "next": "/"})
        assert r.status_code == 303, r.text
        c.headers["Accept"] = "text/html"
        c.landing = r.headers["location"]  # type: ignore[attr-defined]
        yield c


LANDING = {
    Role.ADMIN: "/",
    Role.OWNER: "/owner",
    Role.PLANNER: "/plan",
    Role.QA: "/quality",
    Role.AUDITOR: "/auditor",
    Role.SUPERVISOR: "/lines/L1",
}
NAV_PAGES = {"/", "/plan", "/materials", "/quality", "/auditor", "/owner"}
MAY_OPEN = {
    Role.ADMIN: NAV_PAGES,
    Role.OWNER: NAV_PAGES,
    Role.PLANNER: {"/", "/plan", "/materials", "/quality"},
    Role.QA: {"/", "/quality"},
    Role.AUDITOR: {"/auditor"},
    Role.SUPERVISOR: set(),
}


@pytest.mark.parametrize("role", list(LANDING), ids=[r.value for r in LANDING])
def test_each_role_lands_on_its_page_and_its_header_offers_only_what_it_may_open(served: Served, role: Role) -> None:
    with _client(served, role) as c:
        assert c.landing == LANDING[role]  # type: ignore[attr-defined]
        home = c.get(LANDING[role], follow_redirects=False)
        assert home.status_code == 200
        if LANDING[role] == "/owner":  # the ROI page has its own frame: the header is checked on /quality
            home = c.get("/quality")
        links = set(HREF.findall(NAV.search(home.text).group(1)))  # type: ignore[union-attr]
        assert {h for h in links if not h.startswith("/lines/")} == MAY_OPEN[role]
        for href in links:  # every link opens
            assert c.get(href, follow_redirects=False).status_code == 200, href
        for href in NAV_PAGES - links:  # and what is left out is refused (or sends the role home)
            assert c.get(href, follow_redirects=False).status_code in (303, 403), href
        lines = {h for h in links if h.startswith("/lines/")}
        assert lines == ({"/lines/L1"} if role is Role.SUPERVISOR else set() if role in (Role.AUDITOR,) else lines)
        if role in (Role.ADMIN, Role.PLANNER, Role.QA, Role.OWNER):
            assert len(lines) == len(served.layout.lines)


def test_the_auditor_opening_the_start_page_lands_on_the_reports(served: Served) -> None:
    with _client(served, Role.AUDITOR) as c:
        r = c.get("/", follow_redirects=False)
        assert (r.status_code, r.headers["location"]) == (303, "/auditor")
        assert c.get("/web/stream/overview", follow_redirects=False).status_code == 403  # never used by its page
        page = c.get("/auditor?lang=en").text
        assert "/web/stream" not in page and 'id="live"' not in page


def test_quality_page_shows_dhu_plans_audits_and_a_plan_for_any_lot(served: Served) -> None:
    f = served.layout.factory.id
    record_audit(
        served.rt.engine,
        f,
        run_audit("LOT-Q-7", 2000, [AuditDefect("SKIP_STITCH", "major", 9)]),
        inspector="李检",
        at=datetime.now(UTC),
    )
    with _client(served, Role.QA) as c:
        zh = c.get("/quality?lot_size=2000#aql").text
        assert "各工序百件疵点数" in zh and "各员工百件疵点数" in zh
        by_op = zh.split('id="q-by-op"')[1].split("</table>")[0]
        assert by_op.count("<tr>") >= 3  # header + operations sewn this morning
        op_names = {o.name_zh for st in served.layout.styles.values() for o in st.operations}
        shown = re.findall(r"<tr><td>([^<]+)</td>", by_op)
        assert shown and set(shown) <= op_names  # the operations by their Chinese names, not STYLE:OP codes
        asked = re.search(r'<p id="aql-asked"[^>]*>(.*?)</p>', zh, re.S)
        assert asked is not None
        # ISO 2859-1, level II, normal: 2000 → K; AQL 2.5: n 125, Ac 7, Re 8; AQL 4.0: n 125, Ac 10, Re 11
        assert "字码 K" in asked.group(1) and "抽检 125 件" in asked.group(1)
        assert "不多于 7 件接收，达到 8 件拒收" in asked.group(1) and "不多于 10 件接收，达到 11 件拒收" in asked.group(
            1
        )
        audits = zh.split('id="q-audits"')[1].split("</table>")[0]
        assert "LOT-Q-7" in audits and "拒收" in audits  # 9 major found, Re 8
        en = c.get("/quality?lang=en&lot_size=1").text
        assert 'id="lot-error"' in en and "DHU by operation" in en


def test_line_page_lists_todays_quality_alerts_in_the_pages_language(served: Served) -> None:
    rt = served.rt
    lay = served.layout
    f = lay.factory.id
    proj = rt.projection("quality")
    with rt.pipeline.lock:
        now = rt.live.as_of(f).astimezone(rt.live.tz(f))
        badge = next(
            st.worker for (pf, _s), st in sorted(rt.live.stations.items()) if pf == f and st.line == "L1" and st.worker
        )
        proj.dhu.alerts.append(DhuAlert(f, "worker", badge, now.date(), now, 12.5, 40, 5, 5.0))  # type: ignore[union-attr]
    with _client(served, Role.SUPERVISOR) as c:
        c.headers["Accept"] = "application/json"
        zh = c.get("/web/data/line?key=L1&lang=zh_CN").json()
        en = c.get("/web/data/line?key=L1&lang=en").json()
    name = lay.workers[badge].name
    q_zh = [a["text"] for a in zh["alerts"] if a["kind"] == "quality"]
    q_en = [a["text"] for a in en["alerts"] if a["kind"] == "quality"]
    assert f"{name}：百件疵点数 12.5，超过 5.0（40 件中 5 个疵点）" in q_zh
    assert f"{name}: DHU 12.5 above 5.0 (5 defects in 40 pieces)" in q_en
    assert len(q_zh) == len(q_en) <= 10  # the simulated morning raised some of its own: the last 10


def test_materials_page_shows_wip_by_operation_and_the_shortage_check(served: Served) -> None:
    with _client(served, Role.PLANNER) as c:
        page = c.get("/materials?lang=en").text
    wip = page.split('id="m-wip"')[1].split("</table>")[0]
    assert wip.count("<tr>") >= 2 and "No bundles on the floor" not in wip
    shortages = page.split('id="m-shortages"')[1].split("</table>")[0]
    # the rush order (3000 tees due the simulated day) needs more jersey than the sample factory holds
    rush = [r for r in shortages.split("<tr") if RUSH_ORDER in r]
    assert any("JERSEY-180-BLACK" in r for r in rush)
    assert "No bill of materials" not in page  # every style of the sample factory has one


def test_auditor_page_lists_hours_per_worker_and_its_downloads_work(served: Served) -> None:
    with _client(served, Role.AUDITOR) as c:
        page = c.get("/auditor").text
        rows = page.split('id="a-by-worker"')[1].split("</table>")[0]
        pdfs = re.findall(r'href="(/api/v1/compliance/hours-report\?[^"]+format=pdf)"', rows)
        assert len(pdfs) >= 10  # everybody who worked the simulated morning
        pdf = c.get(pdfs[0].replace("&amp;", "&"))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        csv = c.get(pdfs[0].replace("&amp;", "&").replace("format=pdf", "format=csv"))
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert c.get("/auditor?month=2026-13").status_code == 404
        other = c.get("/auditor?month=2026-11&lang=zh_CN").text
        toggle = re.search(r'<a class="lang" id="lang-toggle" href="([^"]+)"', other)
        assert toggle is not None and "month=2026-11" in toggle.group(1) and "lang=en" in toggle.group(1)
        assert 'id="a-month">2026-11<' in other


def test_tv_mode_is_the_line_page_without_its_header(served: Served) -> None:
    with _client(served, Role.SUPERVISOR) as c:
        tv = c.get("/lines/L1?tv=1").text
        plain = c.get("/lines/L1").text
    assert '<body class="page-line tv">' in tv and '<body class="page-line">' in plain
    assert 'id="tv-link"' in plain


def test_auditor_page_shows_pay_once_a_rate_card_is_stored(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    """The card comes from the pay store where it is installed; here it is handed in directly."""
    from seamline.pay.rates import parse_rate_card
    from seamline.web import screens

    with _client(served, Role.AUDITOR) as c:
        assert 'id="a-no-pay"' in c.get("/auditor").text  # no card: said so, no pay column
        monkeypatch.setattr(screens, "_rate_card", lambda _rt, _f: parse_rate_card([{"per_sam_min": "0.40"}]))
        page = c.get("/auditor?lang=en").text
        rows = page.split('id="a-by-worker"')[1].split("</table>")[0]
        assert "Gross pay" in rows and 'id="a-no-pay"' not in page
        assert len(re.findall(r"CN¥[\d,]+\.\d\d", rows)) >= 10
        monkeypatch.setattr(screens, "_rate_card", lambda _rt, _f: parse_rate_card([{"op": "NOPE", "per_piece": "1"}]))
        page = c.get("/auditor?lang=en").text  # a card that prices nothing here: the page still opens
        assert 'id="a-pay-problem"' in page and "no rate for op" in page
