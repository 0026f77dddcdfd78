"""Every route's access rule, in one table, so the matrix can be read, reviewed and tested whole.

A route missing here is refused to everyone but nobody else notices, so a test walks the app's
routes and fails on any route without a rule: adding a route means deciding who may call it.
Keys are (method, route path template); HEAD is looked up as GET.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .roles import Role, Rule

WK, SU, PL, QA, AU, OW, AD, GW = (
    Role.WORKER,
    Role.SUPERVISOR,
    Role.PLANNER,
    Role.QA,
    Role.AUDITOR,
    Role.OWNER,
    Role.ADMIN,
    Role.GATEWAY,
)


def r(*roles: Role, scope: str | None = None, note: str = "") -> Rule:
    return Rule(roles=frozenset(roles), scope=scope, note=note)


PUBLIC = Rule(public=True)

# Parameters an access decision reads (the factory a principal is bound to, the line, station or
# worker a limited role is held to). Each may appear at most once in a request: the check and the
# handler must see the same value, and with two values they would not (issue #18).
SCOPE_PARAMS = frozenset({"factory", "line", "station", "worker", "badge", "kind", "key"})

POLICY: dict[tuple[str, str], Rule] = {
    # --- sign-in, pairing, static files ----------------------------------------------------
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/pair"): PUBLIC,
    ("POST", "/pair"): PUBLIC,
    ("POST", "/logout"): r(WK, SU, PL, QA, AU, OW, AD),
    ("GET", "/api/v1/auth/me"): r(WK, SU, PL, QA, AU, OW, AD, GW),
    ("GET", "/api/v1/health"): PUBLIC,
    ("GET", "/openapi.json"): r(SU, PL, QA, AU, OW, AD, GW),
    ("GET", "/docs"): r(SU, PL, QA, AU, OW, AD, GW),
    ("GET", "/docs/oauth2-redirect"): r(SU, PL, QA, AU, OW, AD, GW),
    ("GET", "/redoc"): r(SU, PL, QA, AU, OW, AD, GW),
    ("GET", "/web/static/{path:path}"): PUBLIC,
    ("GET", "/sw.js"): PUBLIC,
    ("GET", "/station/"): PUBLIC,
    # --- administration ---------------------------------------------------------------------
    ("GET", "/api/v1/users"): r(AD),
    ("POST", "/api/v1/users"): r(AD),
    ("PATCH", "/api/v1/users/{username}"): r(AD),
    ("GET", "/api/v1/tokens"): r(AD),
    ("POST", "/api/v1/tokens"): r(AD),
    ("DELETE", "/api/v1/tokens/{token_id}"): r(AD),
    ("POST", "/api/v1/stations/{station}/pairing-code"): r(SU, AD, scope="station"),
    ("GET", "/api/v1/tablets"): r(SU, AD),
    ("DELETE", "/api/v1/tablets/{session_id}"): r(SU, AD),
    ("GET", "/api/v1/audit"): r(AU, OW, AD),
    # --- ingest and the live state -----------------------------------------------------------
    # Workers and supervisors may post only their own station's / lines' events: checked on the body.
    ("POST", "/api/v1/events"): r(GW, WK, SU, QA, AD, note="body limited to own station / lines"),
    ("GET", "/api/v1/factories"): r(SU, PL, QA, AU, OW, AD),
    ("GET", "/api/v1/factories/{factory}/model"): r(SU, PL, QA, OW, AD),
    ("GET", "/api/v1/lines/{line}/live"): r(SU, PL, QA, OW, AD, scope="line"),
    ("POST", "/api/v1/lines/{line}/directives"): r(SU, PL, AD, scope="line", note="accept the suggested move"),
    ("GET", "/api/v1/efficiency"): r(SU, PL, OW, AD, note="a supervisor's rows are limited to their lines"),
    ("GET", "/api/v1/quarantine"): r(AD),
    ("GET", "/api/v1/quarantine/{qid}"): r(AD),
    ("GET", "/api/v1/gaps"): r(OW, AD),
    ("GET", "/api/v1/ingest/status"): r(AD),
    # --- pages ------------------------------------------------------------------------------
    ("GET", "/"): r(PL, QA, OW, AD, note="workers, supervisors and auditors are sent to their own page"),
    ("GET", "/lines/{line}"): r(SU, PL, QA, OW, AD, scope="line"),
    ("GET", "/station/{station}"): r(WK, SU, PL, QA, OW, AD, scope="station"),
    ("GET", "/plan"): r(PL, OW, AD),
    ("GET", "/web/data/{kind}"): r(WK, SU, PL, QA, OW, AD, scope="web"),
    ("GET", "/web/stream/{kind}"): r(WK, SU, PL, QA, OW, AD, scope="web"),
    ("GET", "/owner"): r(OW, AD),
    ("GET", "/quality"): r(PL, QA, OW, AD),
    ("GET", "/materials"): r(PL, OW, AD),
    ("GET", "/auditor"): r(AU, OW, AD),
    ("GET", "/owner.pdf"): r(OW, AD),
    # --- planning board (a what-if stores nothing; only a planner or admin changes the plan) ---
    ("POST", "/api/v1/plan/what-if"): r(PL, OW, AD),
    ("POST", "/api/v1/plan/moves"): r(PL, AD),
    ("GET", "/api/v1/plan/moves"): r(PL, OW, AD),
    # --- order states (hold / cancel / close short): a planner's word, stored with who and why ---
    ("POST", "/api/v1/orders/{order}/state"): r(PL, AD),
    ("GET", "/api/v1/orders/{order}/state"): r(PL, OW, AD),
    # --- quality ------------------------------------------------------------------------------
    ("GET", "/api/v1/quality/dhu"): r(SU, PL, QA, OW, AD, scope="line"),
    ("GET", "/api/v1/quality/alerts"): r(QA, OW, AD),
    ("GET", "/api/v1/quality/aql"): r(PL, QA, OW, AD),
    ("GET", "/api/v1/quality/trace/bundle/{bundle}"): r(QA, OW, AD),
    ("GET", "/api/v1/quality/trace/defect/{event_id}"): r(QA, OW, AD),
    # --- hours and compliance -----------------------------------------------------------------
    ("GET", "/api/v1/compliance/hours-alerts"): r(SU, PL, AU, OW, AD, scope="line"),
    ("GET", "/api/v1/compliance/hours-report"): r(AU, OW, AD),
    # --- learning -----------------------------------------------------------------------------
    ("GET", "/api/v1/skills"): r(SU, PL, OW, AD, scope="line"),
    ("GET", "/api/v1/workers/{badge}/skills"): r(PL, OW, AD),
    ("GET", "/api/v1/workers/{badge}/skills/{style}/{op}"): r(PL, OW, AD),
    ("POST", "/api/v1/skills/snapshot"): r(PL, AD),
    # --- cutting, materials, WIP ----------------------------------------------------------------
    ("GET", "/api/v1/materials/orders/{order}/cut-plan"): r(PL, OW, AD),
    ("GET", "/api/v1/materials/orders/{order}/tickets.pdf"): r(PL, AD),
    ("POST", "/api/v1/materials/orders/{order}/cut"): r(PL, AD),
    ("GET", "/api/v1/materials/shortages"): r(PL, OW, AD),
    ("POST", "/api/v1/materials/orders/{order}/load"): r(PL, AD),
    ("GET", "/api/v1/materials/lots"): r(PL, QA, OW, AD),
    ("POST", "/api/v1/materials/moves"): r(PL, AD),
    ("GET", "/api/v1/materials/wip"): r(SU, PL, OW, AD, scope="line"),
    ("GET", "/api/v1/materials/alerts"): r(PL, OW, AD),
    ("GET", "/api/v1/materials/bundles/{bundle}"): r(PL, QA, OW, AD),
    ("POST", "/api/v1/materials/orders/{order}/pack"): r(PL, AD),
    ("GET", "/api/v1/materials/orders/{order}/progress"): r(PL, OW, AD),
    ("GET", "/api/v1/materials/small-lots"): r(PL, OW, AD),
    # --- owner ------------------------------------------------------------------------------------
    ("GET", "/api/v1/roi"): r(OW, AD),
    ("GET", "/api/v1/roi/evidence/{figure}"): r(OW, AD),
    ("GET", "/api/v1/roi/pilot"): r(OW, AD),
    ("GET", "/owner/weekly.pdf"): r(OW, AD),
    ("GET", "/owner/weekly.png"): r(OW, AD),
    # --- counting from motor bursts (factory-wide; a supervisor sees their line's flags on the line page)
    ("GET", "/api/v1/counting/flags"): r(PL, QA, OW, AD),
    ("GET", "/api/v1/counting/bundles"): r(PL, QA, OW, AD),
    ("GET", "/api/v1/counting/signatures"): r(PL, QA, OW, AD),
    ("GET", "/api/v1/counting/sensor-only"): r(PL, QA, OW, AD),
}


def rule_for(method: str, path: str) -> Rule | None:
    return POLICY.get(("GET" if method == "HEAD" else method, path))


@dataclass(frozen=True)
class _Template:
    path: str
    regex: re.Pattern[str]
    literal_len: int  # more literal characters = more specific: "/owner.pdf" beats "/{x}"


def _compile(path: str) -> _Template:
    """``/lines/{line}`` → a regex with named groups, as Starlette routes are written."""
    parts, pos, literal = ["^"], 0, 0
    for m in re.finditer(r"{(\w+)(?::(\w+))?}", path):
        parts.append(re.escape(path[pos : m.start()]))
        literal += m.start() - pos
        parts.append(f"(?P<{m.group(1)}>.*)" if m.group(2) == "path" else f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    parts.append(re.escape(path[pos:]) + "$")
    return _Template(path, re.compile("".join(parts)), literal + len(path) - pos)


_TEMPLATES = sorted({_compile(p) for _m, p in POLICY}, key=lambda t: -t.literal_len)


def match(path: str) -> tuple[str, dict[str, str]] | None:
    """The route template a request path falls under, and its path parameters."""
    for t in _TEMPLATES:
        m = t.regex.match(path)
        if m:
            return t.path, m.groupdict()
    return None


def methods_for(template: str) -> set[str]:
    return {m for m, p in POLICY if p == template}


def markdown_matrix() -> str:
    """The policy as a table for docs/access.md (a test keeps the two the same)."""
    order = [WK, SU, PL, QA, AU, OW, AD, GW]
    head = "| route | " + " | ".join(r.value for r in order) + " |"
    rows = [head, "|" + "---|" * (len(order) + 1)]
    for (m, p), rule in sorted(POLICY.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if rule.public:
            cells = ["public"] + [""] * (len(order) - 1)
        else:
            mark = {"line": "own lines", "station": "own", "web": "own"}.get(rule.scope or "", "✓")
            cells = [(mark if r in (WK, SU) and rule.scope else "✓") if r in rule.roles else "" for r in order]
        rows.append(f"| `{m} {p}` | " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(markdown_matrix(), end="")
