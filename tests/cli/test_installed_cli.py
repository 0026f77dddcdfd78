"""Every command of the installed `seamline` program, run as a user types it in a shell.

The command list is read from `seamline --help` (and `seamline GROUP --help` for groups such as
`users`), so a new command is covered at once: its `--help` must exit 0 and write nothing to disk
(run in an empty folder with an empty HOME), and it must have an entry in ``INVOCATIONS`` (the test
fails until it has one), which is run for real on a database this test prepares through the CLI
itself: `import`, `materials-import`, `token`, `serve` with Mosquitto, `sim`, `replay`.

Long-running commands (`serve`, `demo`, `ingest`) are started, checked for readiness and stopped.
Timeouts here only guard against hangs; nothing is timed.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "factory"
SEAMLINE = Path(sys.executable).parent / "seamline"
DAY = "2026-11-02"  # a Monday; the simulated shift starts at 08:00 Shanghai time
PARALLEL = 4
HANG_S = 240.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "SEAMLINE_"))}
    # Wide and plain help, so that command names are never wrapped or coloured.
    return {**env, "HOME": str(home), "COLUMNS": "200", "TERM": "dumb", "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}


def run(args: list[str], cwd: Path, home: Path, timeout_s: float = HANG_S) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SEAMLINE), *args], cwd=cwd, env=_env(home), capture_output=True, text=True, timeout=timeout_s
    )


def command_names(help_text: str) -> list[str]:
    """The names in the "Commands" section of a help text (rich panel or plain click layout): a
    name starts a row at most two spaces in; wrapped descriptions are indented further."""
    names: list[str] = []
    inside = False
    for raw in help_text.splitlines():
        s = raw.strip()
        if not inside:
            inside = s == "Commands:" or (s.startswith(("╭", "┌")) and " Commands " in s)
            continue
        if s.startswith(("╰", "└")) or (not s and names):
            break
        body = raw.lstrip()[1:] if raw.lstrip().startswith("│") else raw
        indent = len(body) - len(body.lstrip(" "))
        m = re.match(r"([a-z][a-z0-9-]*)(\s{2,}|\s*│?\s*$)", body.lstrip(" "))
        if m and indent <= 2:
            names.append(m.group(1))
    return names


# --- the table of real invocations, one per listed command ---------------------------------------------------


@dataclass
class Ctx:
    """What the invocations refer to: {db}, {tmp}, {ex}, {mqtt}, ... in their arguments."""

    tmp: Path
    home: Path
    mqtt: str
    values: dict[str, str] = field(default_factory=dict)

    def fmt(self, args: tuple[str, ...]) -> list[str]:
        return [a.format(**self.values) for a in args]


Check = Callable[[str, Ctx], None]


@dataclass(frozen=True)
class Call:
    """One real invocation: arguments, text the output must contain, and a check of stdout.

    ``stage``: 0 builds the test database in order (the table order), 1 runs in parallel on it,
    2 after stage 1 (needs what stage 1 wrote). ``ready`` makes it a long-running command: started,
    polled until ready, then stopped with ``stop_signal``.
    """

    args: tuple[str, ...]
    expect: tuple[str, ...] = ()
    check: Check | None = None
    stage: int = 1
    ready: Callable[[Ctx], bool] | None = None
    stop_signal: int = signal.SIGTERM


def _json(out: str) -> dict[str, Any]:
    """The one JSON object a command printed (its last line)."""
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert lines, "no output"
    return json.loads(lines[-1])


def _check_token(out: str, ctx: Ctx) -> None:
    token = _json(out)["token"]
    assert token.startswith("slt_")
    ctx.values["token"] = token


def _check_rebuild(out: str, ctx: Ctx) -> None:
    m = re.search(r"rebuilt: ([\d,]+) 事件 / events", out)
    assert m, out
    assert int(m.group(1).replace(",", "")) >= int(ctx.values["events"]), (m.group(1), ctx.values["events"])


def _check_sim(out: str, ctx: Ctx) -> None:
    lines = (ctx.tmp / "ev.jsonl").read_text().splitlines()
    assert len(lines) > 1000
    ctx.values["events"] = str(len(lines))
    ctx.values["events_n"] = f"{len(lines):,}"
    truth = json.loads((ctx.tmp / "truth.json").read_text())
    assert truth["format"].startswith("seamline-sim-truth/") and truth["factory"] == "xiaoshan"


def _http_ok(port_key: str, path: str = "/api/v1/health", mqtt: bool = False) -> Callable[[Ctx], bool]:
    def ready(ctx: Ctx) -> bool:
        try:
            r = httpx.get(f"http://127.0.0.1:{ctx.values[port_key]}{path}", timeout=2)
        except httpx.HTTPError:
            return False
        return r.status_code == 200 and (not mqtt or r.json().get("mqtt") == "connected")

    return ready


def _ingest_ready(ctx: Ctx) -> bool:
    try:
        return json.loads((ctx.tmp / "ingest-stats.json").read_text()).get("mqtt") == "connected"
    except (OSError, ValueError):
        return False


def _check_export(out: str, ctx: Ctx) -> None:
    rows = (ctx.tmp / "export" / "stations.csv").read_text("utf-8").splitlines()
    assert len(rows) == 121  # header + 120 stations


def _check_balance(out: str, ctx: Ctx) -> None:
    plan = _json(out)
    assert plan["style"] == "TEE-BASIC" and plan["workers"] and 0 < plan["balance_efficiency"] <= 1


def _check_load(out: str, ctx: Ctx) -> None:
    plan = _json(out)
    assert set(plan["orders"]) == {f"SO-2611-{i:02d}" for i in range(1, 13)}


def _check_solve(out: str, ctx: Ctx) -> None:
    res = _json(out)
    assert res["makespan"] == 11 and len(res["schedule"]) == 9  # the tiny instance's optimum


def _check_aql(out: str, ctx: Ctx) -> None:
    assert _json(out) == {"code_letter": "K", "sample_size": 125, "accept": 7, "reject": 8}


def _check_json_lines(out: str, ctx: Ctx) -> None:
    for ln in out.splitlines():
        assert isinstance(json.loads(ln), dict)


def _check_csv_report(out: str, ctx: Ctx) -> None:
    # Chinese first, as on the pages (`--lang en` for English)
    assert out.startswith("月度工时与工资报告") and "B1001" in out and "2026-11-01 .. 2026-11-30" in out


def _check_skills(out: str, ctx: Ctx) -> None:
    m = _json(out)
    assert m["factory"] == "xiaoshan" and m["workers"] and m["operations"]


def _check_tickets(out: str, ctx: Ctx) -> None:
    assert (ctx.tmp / "tickets.pdf").read_bytes().startswith(b"%PDF")


def _check_roi(out: str, ctx: Ctx) -> None:
    r = json.loads(out)
    assert r["factory"] == "xiaoshan" and "payback_months" in r and r["blocks"] > 0


def _check_station_creds(out: str, ctx: Ctx) -> None:
    c = _json(out)
    assert c["username"] == "xiaoshan/L1-S01" and c["topic"] == "seamline/v1/xiaoshan/stations/L1-S01/events"
    assert "xiaoshan/L1-S01" in (ctx.tmp / "mosq.acl").read_text()


def _check_pair_code(out: str, ctx: Ctx) -> None:
    p = _json(out)
    assert re.fullmatch(r"\d{6}", p["code"]) and p["station"] == "L1-S01"


def _check_user(active: bool) -> Check:
    def check(out: str, ctx: Ctx) -> None:
        u = _json(out)
        assert u["username"] == "ada" and u["roles"] == ["admin"] and u["active"] is active

    return check


def _check_users_list(out: str, ctx: Ctx) -> None:
    assert [json.loads(ln)["username"] for ln in out.splitlines()] == ["ada"]


DB = "{db}"
INVOCATIONS: dict[str, Call] = {
    # stage 0, in this order: a database as the README builds it, then events through the real path
    "import": Call(
        ("import", "{ex}", "--db", DB),
        ("imported factory xiaoshan: 4 lines, 120 stations, 120 workers, 3 styles, 12 orders", "rate card: 5 rates"),
        stage=0,
    ),
    "materials-import": Call(
        ("materials-import", "{ex}", "--db", DB), ("106 BOM lines, 41 new material lots",), stage=0
    ),
    "token": Call(("token", "cli test", "--role", "admin", "--db", DB), check=_check_token, stage=0),
    "serve": Call(
        ("serve", "--db", DB, "--mqtt", "{mqtt}", "--port", "{port}", "--log-level", "WARNING"),
        ("seamline: API on http://127.0.0.1:{port}",),
        stage=0,
        ready=_http_ok("port", mqtt=True),
    ),
    "sim": Call(
        (
            "sim",
            "--factory",
            "{ex}",
            "--hours",
            "2",
            "--seed",
            "3",
            "--start",
            f"{DAY}T08:00:00+08:00",
            "--out",
            "{tmp}/ev.jsonl",
            "--truth",
            "{tmp}/truth.json",
        ),
        (f"simulated {DAY}T08:00:00+08:00 .. {DAY}T10:00:00+08:00",),
        check=_check_sim,
        stage=0,
    ),
    "replay": Call(
        ("replay", "{tmp}/ev.jsonl", "--mqtt", "{mqtt}"),
        ("published {events_n} events from {tmp}/ev.jsonl to {mqtt}",),
        stage=0,
    ),
    # stage 1, in parallel, on the database with two hours of the sample factory
    "export": Call(("export", "xiaoshan", "{tmp}/export", "--db", DB), ("wrote",), check=_check_export),
    "balance": Call(
        ("balance", "{ex}", "--style", "TEE-BASIC", "--line", "L1", "--time-limit", "3"), check=_check_balance
    ),
    "load": Call(("load", "{ex}", "--start", DAY, "--days", "21", "--time-limit", "20"), check=_check_load),
    "solve": Call(("solve", "jssp", "{tmp}/tiny.txt", "--time-limit", "2"), check=_check_solve),
    "aql": Call(("aql", "2000", "--aql", "2.5"), check=_check_aql),
    "seal-hours": Call(
        ("seal-hours", "--factory", "xiaoshan", "--until", DAY, "--db", DB), (f"sealed xiaoshan {DAY}",)
    ),
    "hours-correct": Call(
        (
            "hours-correct",
            "--factory",
            "xiaoshan",
            "--worker",
            "B1001",
            "--action",
            "add",
            "--who",
            "Chen",
            "--why",
            "forgot badge",
            "--station",
            "L1-S01",
            "--start",
            "2026-11-03T08:00:00+08:00",
            "--end",
            "2026-11-03T10:00:00+08:00",
            "--db",
            DB,
        ),
        ("recorded corr-", "add B1001 by Chen"),
    ),
    "hours-report": Call(
        (
            "hours-report",
            "--factory",
            "xiaoshan",
            "--month",
            "2026-11",
            "--worker",
            "B1001",
            "--format",
            "csv",
            "--db",
            DB,
        ),
        check=_check_csv_report,
    ),
    "hours-alerts": Call(("hours-alerts", "--factory", "xiaoshan", "--day", DAY, "--db", DB), check=_check_json_lines),
    "skills": Call(("skills", "--db", DB, "--json", "--no-save"), check=_check_skills),
    "cut-plan": Call(("cut-plan", "SO-2611-01", "--db", DB), ("order SO-2611-01: 600 x TEE-BASIC", "lay  1")),
    "tickets": Call(
        ("tickets", "SO-2611-01", "--out", "{tmp}/tickets.pdf", "--db", DB),
        ("32 bundle tickets of SO-2611-01 ->",),
        check=_check_tickets,
    ),
    "materials-check": Call(("materials-check", "SO-2611-01", "--db", DB), ("all materials available for SO-2611-01",)),
    "rates-import": Call(
        ("rates-import", "{ex}/rates.json", "--factory", "xiaoshan", "--db", DB),
        ("工价表已保存 / rate card stored: xiaoshan, 5 rates",),
    ),
    "small-lots": Call(("small-lots", "--db", DB), ("SO-2611-01/L1", "due 2026-12-02")),
    "roi": Call(("roi", "--db", DB, "--json"), check=_check_roi),
    "provision-station": Call(
        (
            "provision-station",
            "xiaoshan",
            "L1-S01",
            "--passwd-file",
            "{tmp}/mosq.passwd",
            "--acl-file",
            "{tmp}/mosq.acl",
        ),
        check=_check_station_creds,
    ),
    "provision-ingest": Call(
        ("provision-ingest", "--passwd-file", "{tmp}/ing.passwd", "--acl-file", "{tmp}/ing.acl"),
        ('"username": "seamline-ingest"',),
    ),
    "broker-config": Call(
        ("broker-config", "--passwd-file", "{tmp}/mosq.passwd", "--acl-file", "{tmp}/mosq.acl"),
        ("allow_anonymous false", "acl_file {tmp}/mosq.acl"),
    ),
    "pair-code": Call(("pair-code", "L1-S01", "xiaoshan", "--db", DB), check=_check_pair_code),
    "users add": Call(
        ("users", "add", "ada", "--role", "admin", "--password-file", "{tmp}/pw", "--db", DB), check=_check_user(True)
    ),
    "demo": Call(
        ("demo", "--data-dir", "{tmp}/demo", "--port", "{port2}", "--broker-port", "{port3}", "--speed", "60"),
        ("seamline demo stopped.",),
        ready=_http_ok("port2"),
        stop_signal=signal.SIGINT,
    ),
    "ingest": Call(
        (
            "ingest",
            "--db",
            DB,
            "--mqtt",
            "{mqtt}",
            "--client-id",
            "cli-test-1",
            "--stats-file",
            "{tmp}/ingest-stats.json",
            "--log-level",
            "WARNING",
        ),
        ("seamline ingest: $share/seamline/",),
        ready=_ingest_ready,
    ),
    "pilot-import": Call(
        ("pilot-import", "{tmp}/daily-report.csv", "--db", DB),
        ("imported 2 rows (2 new, 0 replaced); lines L2, L3",),
    ),
    "roi-forecast set": Call(
        (
            "roi-forecast",
            "set",
            "--db",
            DB,
            "--lines",
            "L1",
            "--mean",
            "8",
            "--low",
            "3",
            "--high",
            "13",
            "--source",
            "cli test",
            "--made-on",
            "2026-11-01",
        ),
        ("recorded 1 forecast",),
    ),
    # the twin computes the forecast (one line, one floor, one day: the command, not the figure)
    "roi-forecast compute": Call(
        ("roi-forecast", "compute", "--factory", "{ex}", "--lines", "L1", "--seeds", "2", "--days", "1"),
        ('"metric": "efficiency_pct"', '"lines": [', "closed-loop twin"),
    ),
    "provision-gateway": Call(
        ("provision-gateway", "xiaoshan", "hall1", "--passwd-file", "{tmp}/gw.passwd", "--acl-file", "{tmp}/gw.acl"),
        ('"username": "gateway.xiaoshan.hall1"', '"topic": "seamline/v1/xiaoshan/stations/+/events"'),
    ),
    # a meter that does not answer: the gateway says so, keeps going, and stops when told
    "gateway": Call(
        ("gateway", "--map", "{tmp}/meters.toml", "--mqtt", "{mqtt}", "--queue", "{tmp}/gw.sqlite", "--seconds", "2"),
        ("gateway up: 1 meters at 5 Hz", '"bursts": 0'),
    ),
    # stage 2: after what stage 1 wrote
    "pilot": Call(
        ("pilot", "--db", DB, "--pilot", "L1", "--controls", "L2,L3", "--sensors-from", "2026-11-16"),
        ("试点线 L1", "control lines L2, L3", "preliminary"),
        stage=2,
    ),
    "roi-forecast list": Call(
        ("roi-forecast", "list", "--db", DB, "--lines", "L1"), ('"source": "cli test"',), stage=2
    ),
    "hours-anchor": Call(("hours-anchor", "--db", DB), ('"head"',), stage=2),
    "verify-hours": Call(("verify-hours", "--db", DB), ("OK xiaoshan: 1 records",), stage=2),
    "rebuild": Call(("rebuild", "--db", DB), ("hour rollups",), check=_check_rebuild, stage=2),
    "users list": Call(("users", "list", "--db", DB), check=_check_users_list, stage=2),
    "users set": Call(("users", "set", "ada", "--disabled", "--db", DB), check=_check_user(False), stage=2),
    # order states: set in stage 1, undone in stage 2 (orders no other command here uses)
    "orders hold": Call(
        ("orders", "hold", "SO-2611-10", "--reason", "面料未到", "--by", "pat", "--db", DB),
        ("订单 / order SO-2611-10: 开放 / open → 暂停 / on hold（原因 / reason: 面料未到）",),
    ),
    "orders cancel": Call(
        ("orders", "cancel", "SO-2611-11", "--reason", "客户取消", "--db", DB),
        ("订单 / order SO-2611-11: 开放 / open → 已取消 / cancelled",),
    ),
    "orders close": Call(
        ("orders", "close", "SO-2611-12", "--reason", "短装出货", "--db", DB),
        ("订单 / order SO-2611-12: 开放 / open → 已关闭（短装出货） / closed (shipped short)",),
    ),
    "orders resume": Call(
        ("orders", "resume", "SO-2611-10", "--db", DB), ("SO-2611-10: 暂停 / on hold → 开放 / open",), stage=2
    ),
    "orders reopen": Call(
        ("orders", "reopen", "SO-2611-11", "--db", DB), ("SO-2611-11: 已取消 / cancelled → 开放 / open",), stage=2
    ),
    "orders list": Call(("orders", "list", "--db", DB), ("SO-2611-12", "已关闭（短装出货）", "短装出货"), stage=2),
}


# --- running them -------------------------------------------------------------------------------------------


def invoke(name: str, call: Call, ctx: Ctx) -> str | None:
    """Run one invocation; None when it did what it should, else what went wrong."""
    t0 = time.monotonic()
    try:
        return _invoke(name, call, ctx)
    finally:
        print(f"seamline {name}: {time.monotonic() - t0:.1f} s")


def _invoke(name: str, call: Call, ctx: Ctx) -> str | None:
    args = ctx.fmt(call.args)
    expect = [e.format(**ctx.values) for e in call.expect]
    if call.ready is None:
        try:
            p = run(args, ctx.tmp, ctx.home)
        except subprocess.TimeoutExpired:
            return f"`seamline {name}` hung (> {HANG_S:.0f} s)"
        out, code = p.stdout + p.stderr, p.returncode
        stdout = p.stdout
    else:
        proc = subprocess.Popen(
            [str(SEAMLINE), *args],
            cwd=ctx.tmp,
            env=_env(ctx.home),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        deadline = time.monotonic() + HANG_S
        while not call.ready(ctx) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        was_ready = proc.poll() is None and call.ready(ctx)
        if proc.poll() is None:
            proc.send_signal(call.stop_signal)
        try:
            stdout, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, _ = proc.communicate()
            return f"`seamline {name}` did not stop on signal {call.stop_signal}:\n{stdout[-2000:]}"
        out = stdout
        if not was_ready:
            return f"`seamline {name}` never got ready (exit {proc.returncode}):\n{out[-2000:]}"
        # 0, or the conventional 128 + signal of a process that stopped on it
        code = 0 if proc.returncode in (0, -call.stop_signal, 128 + call.stop_signal) else proc.returncode
    if code != 0:
        return f"`seamline {' '.join(args)}` exited {code}:\n{out[-2000:]}"
    missing = [e for e in expect if e not in out]
    if missing:
        return f"`seamline {name}` output lacks {missing}:\n{out[-2000:]}"
    if call.check is not None:
        try:
            call.check(stdout, ctx)
        except (AssertionError, ValueError, KeyError, TypeError, OSError) as e:
            return f"`seamline {name}`: {type(e).__name__} {e}\n{stdout[-2000:]}"
    return None


Helps = dict[str, tuple[subprocess.CompletedProcess[str], Path]]


@pytest.fixture(scope="module")
def helps(tmp_path_factory: pytest.TempPathFactory) -> Helps:
    """`seamline NAME --help` of every listed command (and group subcommand), each run in its own
    empty folder with an empty HOME; with that folder, to check that it stays empty."""
    assert SEAMLINE.exists(), f"{SEAMLINE} is not installed (make venv)"
    base = tmp_path_factory.mktemp("helps")

    def one(name: str) -> tuple[subprocess.CompletedProcess[str], Path]:
        d = base / name.replace(" ", "_")
        (d / "cwd").mkdir(parents=True)
        (d / "home").mkdir()
        return run([*name.split(), "--help"], d / "cwd", d / "home"), d

    top = one("")
    assert top[0].returncode == 0, top[0].stderr
    names = command_names(top[0].stdout)
    assert len(names) >= 25 and "import" in names and "aql" in names, top[0].stdout
    with ThreadPoolExecutor(PARALLEL) as ex:
        out = dict(zip(names, ex.map(one, names), strict=True))
        groups = {n: command_names(p.stdout) for n, (p, _d) in out.items()}
        subs = [f"{g} {s}" for g, ss in groups.items() for s in ss]
        out.update(zip(subs, ex.map(one, subs), strict=True))
    return {n: v for n, v in out.items() if not groups.get(n)}  # a group's own entries are its subcommands


def test_every_command_s_help_exits_0_and_writes_nothing(helps: Helps) -> None:
    bad = []
    for name, (p, d) in helps.items():
        left = sorted(str(x.relative_to(d)) for x in d.rglob("*") if x.name not in ("cwd", "home"))
        if p.returncode != 0 or f"Usage: seamline {name}" not in p.stdout or left:
            bad.append(f"{name}: exit {p.returncode}, left {left}\n{p.stdout[-600:]}{p.stderr[-1500:]}")
    assert not bad, "\n\n".join(bad)
    print(f"{len(helps)} commands")


def _flat(text: str) -> str:
    """Help text without the panels' borders and line breaks: what a reader sees, in one line."""
    return " ".join(text.replace("│", " ").split())


def test_every_option_s_help_shows_its_bracketed_words(helps: Helps) -> None:
    """Help is rendered as rich markup, where ``[words]`` is a style tag and silently vanishes
    (`balance --zones` once read `JSON {"OP": }`). Every bracketed phrase of an option's help, as
    written in the source, must reach the installed command's help output."""
    import typer.main

    from seamline.entrypoints.cli import app

    root = typer.main.get_command(app)
    bad, checked = [], 0
    for name, (p, _d) in helps.items():
        cmd: Any = root
        for part in name.split():
            cmd = cmd.commands[part]  # typer's groups (it carries its own click) hold them by name
        shown = _flat(p.stdout)
        for param in cmd.params:
            for phrase in re.findall(r"\[[^\[\]]*\]", getattr(param, "help", None) or ""):
                checked += 1
                if _flat(phrase) not in shown:
                    bad.append(f"seamline {name} {param.opts[0]}: {phrase!r} not in its --help")
    assert checked >= 2, "no option help with brackets found: the check checks nothing"
    assert not bad, "\n".join(bad)


def test_every_listed_command_has_a_real_invocation(helps: Helps) -> None:
    missing = sorted(set(helps) - set(INVOCATIONS))
    assert not missing, f"add an entry to INVOCATIONS in {__file__} for: {missing}"
    gone = sorted(set(INVOCATIONS) - set(helps))
    assert not gone, f"INVOCATIONS has commands `seamline --help` does not list: {gone}"


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory, mosquitto: str) -> Iterator[Ctx]:
    tmp = tmp_path_factory.mktemp("cli")
    home = tmp_path_factory.mktemp("home")
    (tmp / "pw").write_text("a-long-enough-secret\n")
    (tmp / "daily-report.csv").write_text(
        "日期,产线,款号,标准工时(分钟),产量,出勤人数,工作小时,加班小时,疵点数\n"
        "2026-11-02,L2,TEE-BASIC,6.5,2400,30,8,1,40\n2026-11-02,L3,TEE-BASIC,6.5,2100,30,8,0,35\n",
        encoding="utf-8",
    )
    (tmp / "meters.toml").write_text(
        '[gateway]\nfactory = "xiaoshan"\ntz = "Asia/Shanghai"\npoll_hz = 5\nhost = "127.0.0.1"\n'
        f"port = {free_port()}\nscale = 0.01\non_a = 1.0\noff_a = 0.7\n\n"
        '[[meter]]\nstation = "L1-S01"\nunit = 1\nregister = 0\n'
    )
    (tmp / "tiny.txt").write_text("3 3\n0 3 1 2 2 2\n0 2 2 1 1 4\n1 4 2 3 0 1\n")  # OR-Library job shop
    c = Ctx(tmp, home, mosquitto)
    c.values.update(
        db=f"sqlite:///{tmp}/f.db", tmp=str(tmp), ex=str(EXAMPLES), mqtt=mosquitto,
        port=str(free_port()), port2=str(free_port()), port3=str(free_port()),
    )  # fmt: skip
    yield c


def _stage0(ctx: Ctx) -> list[str]:
    """Build the database in table order; `serve` keeps running until `replay`'s events are in."""
    errors: list[str] = []
    serve: subprocess.Popen[str] | None = None
    try:
        for name, call in INVOCATIONS.items():
            if call.stage != 0:
                continue
            if name != "serve":
                err = invoke(name, call, ctx)
                if err:
                    return [*errors, err]
                continue
            serve = subprocess.Popen(
                [str(SEAMLINE), *ctx.fmt(call.args)],
                cwd=ctx.tmp,
                env=_env(ctx.home),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            deadline = time.monotonic() + HANG_S
            ready = call.ready
            assert ready is not None
            while not ready(ctx):
                if serve.poll() is not None or time.monotonic() > deadline:
                    return [f"`seamline serve` never got ready:\n{serve.communicate(timeout=30)[0][-2000:]}"]
                time.sleep(0.2)
        assert serve is not None
        # every replayed event taken in (read with the token, as the access docs say)
        headers = {"Authorization": f"Bearer {ctx.values['token']}"}
        url = f"http://127.0.0.1:{ctx.values['port']}/api/v1/ingest/status"
        deadline = time.monotonic() + HANG_S
        while True:
            r = httpx.get(url, headers=headers, timeout=10)
            assert r.status_code == 200, r.text
            n = sum(r.json()["counters"][k] for k in ("accepted", "duplicate", "quarantined"))
            if n >= int(ctx.values["events"]):
                assert r.json()["counters"]["accepted"] == int(ctx.values["events"]), r.json()["counters"]
                break
            if time.monotonic() > deadline:
                return [f"serve took {n} of {ctx.values['events']} events"]
            time.sleep(0.5)
    finally:
        if serve is not None:
            serve.send_signal(signal.SIGTERM)
            out = serve.communicate(timeout=60)[0]
            expect = INVOCATIONS["serve"].expect[0].format(**ctx.values)
            if serve.returncode not in (0, -signal.SIGTERM, 128 + signal.SIGTERM) or expect not in out:
                errors.append(f"`seamline serve` exit {serve.returncode}, expected {expect!r}:\n{out[-2000:]}")
    return errors


def test_every_command_runs_for_real(ctx: Ctx) -> None:
    errors = _stage0(ctx)
    assert not errors, "\n\n".join(errors)
    for stage in (1, 2):
        # the long-running ones (a demo, an ingest process) first: they take longest to get ready
        todo = sorted(((n, c) for n, c in INVOCATIONS.items() if c.stage == stage), key=lambda nc: nc[1].ready is None)
        with ThreadPoolExecutor(PARALLEL) as ex:
            errors += [e for e in ex.map(lambda nc: invoke(nc[0], nc[1], ctx), todo) if e]
    assert not errors, "\n\n".join(errors)
    assert (Path(ctx.tmp) / "data").exists() is False  # nothing fell back to the default database

    # the five hand-made changes are on record, once each (docs/access.md, "Audit log")
    from seamline.adapters.db import make_engine
    from seamline.auth.store import AuthStore

    engine = make_engine(ctx.values["db"])
    try:
        _total, items = AuthStore(engine).audit_entries(200, 0)
    finally:
        engine.dispose()
    cli = sorted(i["action"] for i in items if i["actor_kind"] == "cli" and i["action"].startswith("cli "))
    assert cli == [
        "cli hours-correct",
        "cli import",
        "cli materials-import",
        "cli rates-import",
        "cli seal-hours",
    ], cli


READS = (
    ("tickets", "SO-2611-01", "--out", "t.pdf"),
    ("cut-plan", "SO-2611-01"),
    ("materials-import", str(EXAMPLES)),
    ("rates-import", str(EXAMPLES / "rates.json"), "--factory", "xiaoshan"),
    ("skills",),
    ("roi",),
    ("export", "xiaoshan", "out"),
    ("verify-hours",),
    ("seal-hours", "--factory", "xiaoshan"),
    ("hours-alerts", "--factory", "xiaoshan"),
    ("users", "list"),
)


def test_without_a_database_reads_say_where_they_looked_and_create_nothing(tmp_path: Path) -> None:
    """No --db, no data/seamline.db here: the error names the file, the folder and the demo's
    database (Chinese first), with no "upgrade it with the migration" advice and no empty file."""

    def one(args: tuple[str, ...]) -> tuple[tuple[str, ...], subprocess.CompletedProcess[str], list[Path]]:
        d = tmp_path / args[0]
        (d / "home").mkdir(parents=True)
        (d / "cwd").mkdir()
        p = run(list(args), d / "cwd", d / "home")
        return args, p, list((d / "cwd").iterdir())

    with ThreadPoolExecutor(PARALLEL) as ex:
        results = list(ex.map(one, READS))
    for args, p, left in results:
        err = p.stderr
        assert p.returncode == 2, (args, p.stdout, err)
        assert err.index("找不到数据库") < err.index("database not found"), (args, err)
        assert "data/seamline.db" in err and "--db sqlite:///data/demo/seamline.db" in err, (args, err)
        assert "migration" not in err and "Traceback" not in err, (args, err)
        assert left == [], (args, left)


def test_a_database_older_than_a_feature_says_which_tables_and_how_to_upgrade(tmp_path: Path) -> None:
    from seamline.adapters import migrate
    from seamline.adapters.db import make_engine

    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    migrate.upgrade(engine, "0002_compliance_quality")  # before the materials tables existed
    engine.dispose()
    (tmp_path / "home").mkdir()
    p = run(["cut-plan", "SO-2611-01", "--db", url], tmp_path, tmp_path / "home")
    assert p.returncode == 2, p.stdout + p.stderr
    assert "没有物料表" in p.stderr and "no materials tables" in p.stderr and "material_lots" in p.stderr
    assert f"seamline serve --db {url}" in p.stderr and "Traceback" not in p.stderr
