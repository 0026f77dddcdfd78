"""Shared fixtures: a real Mosquitto broker per test session, small factories built in code."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import time as dtime
from pathlib import Path

import pytest

from seamline.domain.cutting import cut_order
from seamline.domain.model import (
    Break,
    Factory,
    FactoryLayout,
    Line,
    Operation,
    Order,
    ShiftCalendar,
    Station,
    Style,
    Worker,
)

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _mosquitto_bin() -> str:
    for c in ("mosquitto", "/usr/sbin/mosquitto"):
        p = shutil.which(c) or (c if Path(c).exists() else None)
        if p:
            return p
    raise RuntimeError("mosquitto is not installed: run `make test` (scripts/install-system-deps.sh installs it)")


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Mosquitto on a free loopback port; yields its mqtt:// URL."""
    port = free_port()
    d = tmp_path_factory.mktemp("mosquitto")
    conf = d / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
    )
    proc = subprocess.Popen([_mosquitto_bin(), "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise RuntimeError("mosquitto did not start")
    yield f"mqtt://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(5)


def _pg_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `make test` (scripts/install-system-deps.sh installs it)")
    return found[-1].parent


def _as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; CI runs as root, so drop to the `postgres` user there."""
    import os

    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free loopback port; yields a server URL without a database."""
    import os
    import tempfile

    bindir = _pg_bin()
    d = Path(tempfile.mkdtemp(prefix="seamline-pg-"))
    d.chmod(0o777)
    data = d / "data"
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(d, "postgres")
    subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "seamline", "--no-sync", "-E", "UTF8"]
        ),
        check=True,
        capture_output=True,
    )
    opts = f"-p {port} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
    subprocess.run(
        _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", str(d / "log"), "start"]),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://seamline@127.0.0.1:{port}"
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(d, ignore_errors=True)


_db_counter = iter(range(1, 1_000_000))

# Every test that touches a database runs on both; `make test` starts the PostgreSQL itself.
ENGINES = ("sqlite", "postgres")


def _pg_admin(server: str):  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(server.replace("postgresql+psycopg", "postgresql") + "/postgres", autocommit=True)


def _drop_pg_database(server: str, name: str) -> None:
    """Drop a test database, failing the test that made it if it left connections open.

    Unreachable engines (a CLI command run in-process drops its engine without disposing it)
    close their connections when collected, so collect first; what is still connected after
    that belongs to a runtime or engine the test forgot to close, and over a session those
    would exhaust the server's ``max_connections``.
    """
    import gc

    left: list[tuple[object, ...]] = []
    with _pg_admin(server) as c:
        deadline = time.monotonic() + 3
        while True:
            gc.collect()
            left = c.execute(
                "SELECT pid, application_name, state, left(query, 80) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            ).fetchall()
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    assert not left, f"{len(left)} connection(s) to {name} left open (close the runtime / dispose the engine): {left}"


def new_database(request: pytest.FixtureRequest, engine: str, folder: Path) -> str:
    """A fresh, empty database on ``engine`` ("sqlite" or "postgres"), dropped when ``request``'s scope
    ends; usable from fixtures of any scope (module- and session-scoped ones pass their own folder)."""
    if engine == "sqlite":
        return f"sqlite:///{folder}/seamline.db"
    assert engine == "postgres", engine
    server = request.getfixturevalue("postgres_server")
    name = f"t{next(_db_counter)}"
    with _pg_admin(server) as c:
        c.execute(f"CREATE DATABASE {name}")
    request.addfinalizer(lambda: _drop_pg_database(server, name))
    return f"{server}/{name}"


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: SQLite in a temp folder, and a new database on the test PostgreSQL."""
    return new_database(request, request.param, tmp_path)


@pytest.fixture()
def pg_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh PostgreSQL database only: for a heavy test whose SQLite twin runs elsewhere."""
    return new_database(request, "postgres", tmp_path)


@pytest.fixture()
def engine_on(db_url: str) -> Iterator[object]:
    """An engine on a fresh database (both engines) with every table created, disposed afterwards."""
    from seamline.adapters.db import make_engine
    from seamline.adapters.tables import all_tables

    eng = make_engine(db_url)
    all_tables().create_all(eng)
    try:
        yield eng
    finally:
        eng.dispose()


def tiny_layout() -> FactoryLayout:
    """One line, two stations, two workers, one two-operation style, one order of 200."""
    cal = ShiftCalendar(
        id="day",
        timezone="Asia/Shanghai",
        shift_start=dtime(8, 0),
        shift_end=dtime(16, 0),
        breaks=(Break(dtime(12, 0), dtime(13, 0), "lunch"),),
    )
    style = Style(
        code="HEM",
        name_zh="下摆",
        name_en="Hem",
        operations=(
            Operation("OP1", "缝下摆", "sew hem", 0.5, "SNLS"),
            Operation("OP2", "检验", "inspect", 0.25, "MAN", predecessors=("OP1",)),
        ),
        bundle_size=50,
    )
    order = Order(id="O1", customer="ACME", style_code="HEM", quantities={("M", "Blue"): 200}, due=_date())
    lay = FactoryLayout(factory=Factory(id="f1", name="Test", timezone="Asia/Shanghai"))
    lay.calendars["day"] = cal
    lay.lines["L1"] = Line(id="L1", factory_id="f1", name="Line 1", calendar_id="day", target_efficiency_pct=60)
    lay.stations["S1"] = Station("S1", "f1", "L1", "SEN1", "SNLS", 1)
    lay.stations["S2"] = Station("S2", "f1", "L1", "SEN2", "MAN", 2)
    lay.workers["W1"] = Worker("W1", "王芳", "L1", {"SNLS": 4})
    lay.workers["W2"] = Worker("W2", "李娜", "L1", {"MAN": 3})
    lay.styles["HEM"] = style
    lay.orders["O1"] = order
    for b in cut_order(order, style):
        lay.bundles[b.id] = b
    return lay


def _date():  # type: ignore[no-untyped-def]
    from datetime import date

    return date(2026, 12, 1)


CHROMIUM = os.environ.get("SEAMLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"chromium not found at {CHROMIUM}: run scripts/install-system-deps.sh")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
