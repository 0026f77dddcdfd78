"""Every page × every role that may open it × both languages × tablet, laptop and TV sizes, in Chromium.

With login on, each role signed in as it would be on the floor (a paired tablet for the worker).
Each combination must show no console error, no failed request, no horizontal overflow of the
page, no serious or critical axe-core finding (the vendored ``axe.min.js``), and on the Chinese
pages no English word that is not a code, an id or a unit. The pages come from ONE list
(``page_registry.PAGES``); one server and one browser serve the whole module, each combination gets
its own browser context (cookies, language, viewport).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from seamline.auth.policy import POLICY
from seamline.auth.roles import HUMAN_ROLES, Role
from seamline.auth.service import SESSION_COOKIE, AuthService
from seamline.entrypoints.auth_http import AuthConfig
from seamline.quality.audit import AuditDefect, run_audit
from seamline.quality.store import record_audit

from .page_registry import NOT_PAGE_SUFFIXES, NOT_PAGES, PAGES, REDIRECTS, PageSpec
from .server import REPO, Served, start

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ARTIFACTS = REPO / "test-artifacts" / "web" / "matrix"
AXE = REPO / "src" / "seamline" / "web" / "static" / "vendor" / "axe.min.js"
PASSWORD = "matrix-sews-7-seams"
SIZES = {"tablet": (800, 1280), "laptop": (1366, 768), "tv": (1920, 1080)}
LANGS = ("zh_CN", "en")

# On a Chinese page these may stay in Latin letters; everything else in Latin letters is a string
# that missed its translation. Order matters: codes with separators before bare words.
ALLOWED_LATIN = [
    re.compile(p.replace("<<", r"(?<![A-Za-z0-9])").replace(">>", r"(?![A-Za-z0-9])"))
    for p in (
        # ``<<`` and ``>>`` are ASCII word edges: Chinese characters count as word characters for
        # ``\b``, so "一页PDF" has no ``\b`` before "PDF"
        r"<<seamline(?: [a-z][a-z-]+)?>>",  # the product and its commands (seamline pilot-import)
        r"<<English>>",  # the toggle names the other language in that language
        r"<<Polo>>",  # a loanword of the trade: 珠地网眼Polo衫
        r"<<[\w/.-]+\.(?:md|csv|json|pdf|png)>>",  # file names: docs/roi.md
        r"(?<=\d)\s?(?:min|h|s|pcs|kg|m|yd|cm|mm)>>",  # units after a number
        r"<<[A-Z][A-Z0-9]*[-_/.][A-Z0-9][\w/.-]*",  # codes with separators: TEE-BASIC, SO-RUSH-01, ISO 2859-1
        r"<<[A-Za-z]*\d[\w-]*",  # ids with digits: L1, W017, 4H
        r"<<[A-Z]{2,}>>",  # codes and abbreviations: DHU, AQL, WIP, PDF, CSV, SNLS, ROI
        r"<<Ac>>|<<Re>>",  # ISO 2859's acceptance and rejection numbers
    )
]
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

VISIBLE_TEXT_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const n = walker.currentNode, el = n.parentElement;
    if (!el || el.closest('.data, script, style, template, code')) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const t = n.textContent.trim();
    if (t) out.push(t);
  }
  out.push(document.title);
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
    if (el.closest('.data')) continue;  // a name's tooltip: data, as the name itself
    for (const a of ['aria-label', 'title', 'placeholder']) { const v = el.getAttribute(a); if (v) out.push(v); }
  }
  return out;
}"""

OVERFLOW_JS = """() => {
  const d = document.documentElement, w = d.clientWidth;
  if (d.scrollWidth <= w + 1) return null;
  let worst = null;
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > w + 1 && (!worst || r.right > worst.right))
      worst = {tag: el.tagName, id: el.id, cls: String(el.className), right: r.right};
  }
  return {scrollWidth: d.scrollWidth, clientWidth: w, worst: worst};
}"""

SMALL_TEXT_JS = """(minPx) => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    if (!el || !walker.currentNode.textContent.trim() || el.closest('script, style, template')) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const px = parseFloat(getComputedStyle(el).fontSize);
    const t = walker.currentNode.textContent.trim().slice(0, 30);
    if (px < minPx) out.push(el.tagName + '.' + el.className + ' ' + px + 'px: ' + t);
  }
  return out;
}"""

CUT_OFF_JS = """() => {
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (!el.firstChild || !el.checkVisibility()) continue;
    const cs = getComputedStyle(el);
    const clipped = cs.textOverflow === 'ellipsis' || cs.overflowX === 'hidden';
    const t = el.textContent.trim();
    // a short bar on the planning board may cut its label when the whole text is its accessible
    // name (the tooltip and screen readers give it): that is not lost text
    const holder = el.closest('[aria-label],[title]');
    const full = holder ? (holder.getAttribute('aria-label') || holder.getAttribute('title') || '') : '';
    if (full.includes(t)) continue;
    if (clipped && el.scrollWidth > el.clientWidth + 1 && t && !el.closest('.data')) {
      out.push(el.className + ': ' + t.slice(0, 40));
    }
  }
  return out;
}"""

AXE_JS = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
}"""


def untranslated(texts: list[str]) -> list[str]:
    """The Latin words left on a Chinese page once codes, ids and units are taken out."""
    bad = []
    for t in texts:
        rest = t
        for p in ALLOWED_LATIN:
            rest = p.sub(" ", rest)
        words = LATIN_WORD.findall(rest)
        if words:
            bad.append(f"{t[:60]!r} ({', '.join(words[:4])})")
    return bad


@dataclass
class Site:
    served: Served
    cookies: dict[Role, str]
    line: str
    station: str

    @property
    def url(self) -> str:
        return self.served.url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The sample factory after a simulated morning, login required, one signed-in session per role."""
    d = tmp_path_factory.mktemp("matrix")
    served = start(f"sqlite:///{d}/matrix.db", hours=3.0, auth=AuthConfig(mode="required"))
    try:
        lay = served.layout
        f = lay.factory.id
        svc: AuthService = served.server.config.app.state.auth  # type: ignore[attr-defined]
        line = "L1"
        station = sorted(s for s, st in lay.stations.items() if st.line_id == line)[0]
        cookies: dict[Role, str] = {}
        for role in sorted(HUMAN_ROLES - {Role.WORKER}):
            name = f"m-{role.value}"
            svc.add_user(
                name, PASSWORD, [role.value], actor="test", factory=f, lines=[line] if role is Role.SUPERVISOR else []
            )
            cookies[role], _p = svc.login(name, PASSWORD)
        cookies[Role.WORKER], _p = svc.pair(svc.issue_pairing_code(f, station, actor="test").code)
        # one final audit on record, so the quality page shows its table with a row
        audit = run_audit("SO-2611-01", 1200, [AuditDefect("SKIP_STITCH", "major", 2)])
        record_audit(served.rt.engine, f, audit, inspector="质检 李", at=datetime.now(UTC))
        yield Site(served, cookies, line, station)
    finally:
        served.stop()


def _cases() -> list[tuple[PageSpec, Role | None, str]]:
    out: list[tuple[PageSpec, Role | None, str]] = []
    for spec in PAGES:
        for role in sorted(spec.roles) or [None]:
            for lang in LANGS:
                out.append((spec, role, lang))
    return out


CASES = _cases()


def axe_role(spec: PageSpec) -> Role | None:
    """The role that sees the most of a page (the admin where it may open it): axe-core checks the
    page at every size as this role, and once (laptop) as each of the others, whose pages differ
    from it only by what their header and panels leave out."""
    if not spec.roles:
        return None
    return Role.ADMIN if Role.ADMIN in spec.roles else sorted(spec.roles)[0]


@pytest.mark.parametrize(
    ("spec", "role", "lang"), CASES, ids=[f"{s.name}-{r.value if r else 'anonymous'}-{lang}" for s, r, lang in CASES]
)
def test_page_for_role_and_language_at_every_size(
    site: Site, browser: Any, spec: PageSpec, role: Role | None, lang: str
) -> None:
    """Loaded once at the tablet's portrait size, then resized to the laptop and the TV: the layout
    (media queries, the charts' resize handlers) is checked at each size, errors over the whole visit."""
    path = spec.path.format(line=site.line, station=site.station)
    url = f"{site.url}{path}{'&' if '?' in path else '?'}lang={lang}"
    w, h = SIZES["tablet"]
    ctx = browser.new_context(
        viewport={"width": w, "height": h}, locale="zh-CN" if lang == "zh_CN" else "en-US", timezone_id="Asia/Shanghai"
    )
    if role is not None:
        ctx.add_cookies([{"name": SESSION_COOKIE, "value": site.cookies[role], "url": site.url}])
    try:
        problems = _visit(ctx, url, spec, lang, every_size_axe=role == axe_role(spec))
    finally:
        ctx.close()
    assert problems == [], f"{spec.name} as {role} in {lang}:\n" + "\n".join(problems)


def _visit(ctx: Any, url: str, spec: PageSpec, lang: str, *, every_size_axe: bool) -> list[str]:
    page = ctx.new_page()
    seen: list[str] = []
    watching = [True]

    def note(msg: str) -> None:
        if watching[0]:
            seen.append(msg)

    page.on("console", lambda m: note(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: note(f"page error: {e}"))
    page.on("requestfailed", lambda r: note(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: note(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    resp = page.goto(url)
    if resp is None or resp.status != 200:
        return [f"opening {url}: {resp.status if resp else 'no answer'}"]
    if spec.stream:
        page.wait_for_function("() => document.body.dataset.events !== undefined", timeout=10_000)
    page.add_script_tag(path=str(AXE))
    out: list[str] = []
    for size, (w, h) in SIZES.items():
        if size != "tablet":
            page.set_viewport_size({"width": w, "height": h})
            page.wait_for_timeout(150)  # the charts resize on the window's resize event
        overflow = page.evaluate(OVERFLOW_JS)
        if overflow:
            out.append(f"{size}: horizontal overflow {overflow}")
        if lang == "zh_CN":
            out += [f"{size}: untranslated {t}" for t in untranslated(page.evaluate(VISIBLE_TEXT_JS))]
        if "tv=1" in url:
            out += [f"{size}: under 24 px: {t}" for t in page.evaluate(SMALL_TEXT_JS, 24)]
        out += [f"{size}: text cut off: {t}" for t in page.evaluate(CUT_OFF_JS)]
        if every_size_axe and size == ("tv" if "tv=1" in url else "laptop"):
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"{spec.name}-{lang}-{size}.png"))
        if every_size_axe or size == "laptop":
            out += [f"{size}: axe {v}" for v in page.evaluate(AXE_JS)]
    page.wait_for_timeout(200)  # anything the resizes started
    watching[0] = False  # closing the context aborts the live stream: not a failure of the page
    return seen + out


def test_the_registry_lists_every_page_with_the_policys_roles() -> None:
    """A page route added to the policy without a line in the registry fails here, and so does a
    line whose roles drifted from the policy's."""
    routes = {
        p
        for (m, p) in POLICY
        if m == "GET" and not p.startswith(NOT_PAGES) and not p.endswith(NOT_PAGE_SUFFIXES) and p not in REDIRECTS
    }
    listed = {s.route for s in PAGES}
    assert routes - listed == set(), "pages missing from tests/web/page_registry.py"
    for s in PAGES:
        rule = POLICY[("GET", s.route)]
        assert s.roles == (frozenset() if rule.public else rule.roles & HUMAN_ROLES), s


def test_zh_scan_catches_english_and_lets_codes_through() -> None:
    assert untranslated(["产量 Output", "Line dashboard"]) != []
    assert len(untranslated(["产量 Output", "Line dashboard"])) == 2
    assert (
        untranslated(["L1 · TEE-BASIC", "DHU 3.2", "AQL 2.5 · Ac / Re", "SO-RUSH-01", "4 h 30 min", "seamline"]) == []
    )
    assert untranslated(["7 pcs", "ISO 2859-1", "W017 王芳", "下载一页PDF", "珠地网眼Polo衫", "见 docs/roi.md"]) == []
    assert untranslated(["（seamline pilot-import）"]) == []
    assert untranslated(["一页Report"]) != []
