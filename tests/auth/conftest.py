"""A real server with login switched on: the sample factory, one token per role, a paired tablet."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import uvicorn

from seamline.adapters.layout_files import load_factory
from seamline.auth.roles import Role
from seamline.auth.service import AuthService
from seamline.bootstrap import Runtime, bootstrap
from seamline.domain.model import FactoryLayout
from seamline.entrypoints.api import create_app
from seamline.entrypoints.auth_http import AuthConfig

from ..conftest import free_port

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "sew-fast-7-hems"


@dataclass
class Site:
    rt: Runtime
    layout: FactoryLayout
    url: str
    svc: AuthService
    tokens: dict[Role, str]
    line: str  # the supervisor's line
    other_line: str
    station: str  # on `line`; the tablet is paired here
    other_station: str  # on `other_line`
    tablet_cookie: str
    clients: dict[Role | None, httpx.Client] = field(default_factory=dict)

    def shared(self, role: Role | None) -> httpx.Client:
        """One kept-alive client per role, for the many calls of the matrix test."""
        if role not in self.clients:
            self.clients[role] = self.client(role)
        return self.clients[role]

    def client(self, role: Role | None = None) -> httpx.Client:
        """A client acting as ``role``: a bearer token, or the paired tablet's cookie for a worker."""
        if role is None:
            return httpx.Client(base_url=self.url, timeout=30)
        if role is Role.WORKER:
            c = httpx.Client(base_url=self.url, timeout=30)
            c.cookies.set("seamline_session", self.tablet_cookie)
            return c
        return httpx.Client(base_url=self.url, timeout=30, headers={"Authorization": f"Bearer {self.tokens[role]}"})

    def login(self, username: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
        """A browser-like session: the cookie from /login, and the page's CSRF token."""
        c = httpx.Client(base_url=self.url, timeout=30)
        r = c.post("/login", data={"username": username, "password": password, "next": "/"})
        assert r.status_code in (200, 303), r.text
        csrf = c.get("/api/v1/auth/me").json()["csrf"]
        return c, csrf


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    d = tmp_path_factory.mktemp("auth")
    rt = bootstrap(f"sqlite:///{d}/auth.db")
    layout = load_factory(REPO / "examples" / "factory")
    rt.save_layout(layout)
    app = create_app(rt, AuthConfig(mode="required"))
    svc: AuthService = app.state.auth
    f = layout.factory.id
    lines = sorted(layout.lines)
    line, other_line = lines[0], lines[1]
    station = sorted(s for s, st in layout.stations.items() if st.line_id == line)[0]
    other_station = sorted(s for s, st in layout.stations.items() if st.line_id == other_line)[0]
    tokens = {}
    for role in Role:
        if role is Role.WORKER:
            continue
        lines_for = [line] if role is Role.SUPERVISOR else []
        _id, tokens[role] = svc.create_token(
            f"{role.value} test", [role.value], actor="test", factory=f, lines=lines_for
        )
    svc.add_user("ada", PASSWORD, ["admin"], actor="test")
    svc.add_user("sam", PASSWORD, ["supervisor"], actor="test", factory=f, lines=[line])
    code = svc.issue_pairing_code(f, station, actor="test").code
    tablet_secret, _p = svc.pair(code)

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True, name="uvicorn-auth-tests")
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    s = Site(
        rt, layout, f"http://127.0.0.1:{port}", svc, tokens, line, other_line, station, other_station, tablet_secret
    )
    yield s
    for c in s.clients.values():
        c.close()
    app.state.web_stopping = True
    server.should_exit = True
    thread.join(10)
    rt.close()
