"""`seamline pilot-import`, `seamline pilot` and `seamline roi-forecast` as users run them (installed command).

A daily report with mistakes is refused whole, every mistake named by row and column, Chinese
first; nothing of it is stored. The pilot's answer, its one-pager (PDF with the CJK font
embedded, PNG) and the twin's forecast slot come out of the same database.
"""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from seamline.adapters.db import make_engine
from seamline.roi.store import load_report

from .pilot_data import (
    REPORT_FROM,
    REPORT_TO,
    SENSOR_WORKDAYS,
    SENSORS_FROM,
    TZ,
    load_sensors,
    seamline_exe,
    settings,
    write_report,
)

NEXT_MONDAY = REPORT_TO + timedelta(days=2)  # a day after the report, before today


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([seamline_exe(), *args], capture_output=True, text=True, timeout=180)


def stored(db: str) -> int:
    eng = make_engine(db)
    try:
        return len(load_report(eng, "f1"))
    finally:
        eng.dispose()


@pytest.fixture()
def db(db_url: str, tmp_path: Path) -> str:
    from seamline.adapters.layout_files import save_factory

    from .pilot_data import pilot_layout

    save_factory(pilot_layout(), tmp_path / "factory")
    out = run("import", str(tmp_path / "factory"), "--db", db_url)
    assert out.returncode == 0, out.stderr
    return db_url


def test_a_bad_report_is_refused_with_every_row_and_column_named(db: str, tmp_path: Path) -> None:
    good = tmp_path / "report.csv"
    n = write_report(good)
    assert run("pilot-import", str(good), "--db", db).returncode == 0
    assert stored(db) == n

    bad = tmp_path / "bad.csv"
    d = NEXT_MONDAY
    bad.write_text(
        "日期,产线,款号,产量,出勤人数,工作小时,加班小时,疵点数\n"
        "2026-11-31,L2,HEM,120,30,9,1,2\n"  # no such date
        f"{d},L2,HEM,abc,30,9,1,2\n"  # output not a number
        f"{d},L3,NOPE,100,30,9,1,2\n"  # unknown style and no SAM
        f"{d},L3,HEM,100,30,8,9,2\n"  # overtime > hours
        f"{d},L2,HEM,100,30,9,1,2\n"
        f"{d},L2,HEM,100,30,9,1,2\n",  # the same line, day and style twice
        encoding="utf-8",
    )
    out = run("pilot-import", str(bad), "--db", db)
    assert out.returncode == 1
    err = out.stderr
    for needle in (
        "第 2 行，“日期”列",
        "第 3 行，“产量”列 “abc”：应为数字",
        "第 4 行，“标准工时”列",
        "第 5 行，“加班小时”列",
        "第 7 行，“款号”列",
        "没有导入任何数据",
    ):
        assert needle in err, (needle, err)
    lines = err.strip().splitlines()
    assert len(lines) == 6  # five problems and the verdict
    for line in lines[:-1]:  # Chinese first, English beside
        zh, en = line.split(" / ", 1)
        assert "第" in zh and "row" in en, line
    assert "row 3, column 产量: must be a number" in err
    assert stored(db) == n  # nothing of the bad file, nothing lost

    missing = tmp_path / "missing.csv"
    missing.write_text(f"date,line,style,output\n{NEXT_MONDAY},L2,HEM,100\n", encoding="utf-8")
    out = run("pilot-import", str(missing), "--db", db)
    assert out.returncode == 1 and "缺少必需的列" in out.stderr and "“出勤人数”或英文“workers”" in out.stderr

    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(f"日期,产线,款号,产量,出勤人数,工作小时\n{NEXT_MONDAY},二线,HEM,1,1,8\n".encode("gbk"))
    out = run("pilot-import", str(gbk), "--db", db)
    assert out.returncode == 1 and "UTF-8" in out.stderr and "CSV UTF-8" in out.stderr
    xls = tmp_path / "old.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0")
    out = run("pilot-import", str(xls), "--db", db)
    assert out.returncode == 1 and "另存为 .xlsx" in out.stderr
    assert stored(db) == n


def test_an_excel_report_with_english_headers_replaces_the_days_it_repeats(db: str, tmp_path: Path) -> None:
    good = tmp_path / "report.csv"
    write_report(good)
    l2_days = sum(1 for ln in good.read_text(encoding="utf-8").splitlines() if ",L2," in ln)
    assert run("pilot-import", str(good), "--db", db).returncode == 0
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "daily"
    ws.append(["Date", "Line", "Style", "SAM (min)", "Output", "Workers", "Hours", "Overtime hours", "Notes"])
    first = datetime.combine(REPORT_FROM, datetime.min.time())
    ws.append([first, "L2", "POLO", 12, 999, 30, 9, 1, "recount"])  # repeats a stored day
    ws.append([datetime.combine(NEXT_MONDAY, datetime.min.time()), "L2", "HEM", None, 500, 30, 8, 0, None])
    xlsx = tmp_path / "report.xlsx"
    wb.save(xlsx)
    out = run("pilot-import", str(xlsx), "--db", db)
    assert out.returncode == 0, out.stderr
    assert "新增 1，替换 1" in out.stdout
    eng = make_engine(db)
    try:
        rows = load_report(eng, "f1", ["L2"])
    finally:
        eng.dispose()
    assert len(rows) == l2_days + 1
    assert next(r for r in rows if r.day == REPORT_FROM).output == 999
    hem = next(r for r in rows if r.day == NEXT_MONDAY)  # SAM from the layout
    assert hem.sam_min == pytest.approx(0.75)  # HEM's operations: 0.5 + 0.25 min


@pytest.mark.slow
def test_pilot_answer_one_pager_and_forecast_slot(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/p.db"
    load_sensors(db)
    write_report(tmp_path / "r.csv")
    assert run("pilot-import", str(tmp_path / "r.csv"), "--db", db).returncode == 0
    s = settings(tmp_path / "s.json")
    bad = run(
        "roi-forecast",
        "set",
        "--db",
        db,
        "--lines",
        "L1",
        "--mean",
        "9",
        "--low",
        "10",
        "--high",
        "12",
        "--source",
        "x",
        "--made-on",
        "2026-11-01",
    )
    assert bad.returncode == 1 and "下限 ≤ 均值 ≤ 上限" in bad.stderr
    fc = tmp_path / "fc.json"
    fc.write_text(
        json.dumps(
            {
                "lines": ["L1"],
                "metric": "efficiency_pct",
                "mean": 7.5,
                "low": 3.0,
                "high": 11.0,
                "level_pct": 90,
                "source": "闭环孪生 run 42",
                "made_on": "2026-11-01",
            }
        ),
        encoding="utf-8",
    )
    assert run("roi-forecast", "set", "--db", db, "--file", str(fc)).returncode == 0

    pdf, png = tmp_path / "w.pdf", tmp_path / "w.png"
    out = run("pilot", "--db", db, "--settings", str(s), "--json", "--pdf", str(pdf), "--png", str(png))
    assert out.returncode == 0, out.stderr
    r = json.loads(out.stdout)
    assert r["days_before"] == 12 and r["days_after"] == SENSOR_WORKDAYS and not r["preliminary"]
    effs = {m["metric"]: m for m in r["metrics"]}
    eff = effs["efficiency_pct"]
    assert eff["did"] is not None and float(eff["did_lo"]) <= float(eff["did"]) <= float(eff["did_hi"])
    assert eff["forecast"] == {
        "metric": "efficiency_pct",
        "lines": ["L1"],
        "mean": 7.5,
        "low": 3.0,
        "high": 11.0,
        "level_pct": 90.0,
        "source": "闭环孪生 run 42",
        "made_on": "2026-11-01",
    }
    assert effs["dhu_pct"]["forecast"] is None  # no forecast is ever made up
    assert r["money"]["payback_months"] is not None and r["money"]["p_no_payback_12"] is not None

    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    font_rows = fonts.strip().splitlines()[2:]
    assert font_rows and all(row.split()[-5] == "yes" for row in font_rows), fonts  # every font embedded
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for heading in ("传感器试点周报", "试点效果与预测", "敏感性分析", "怎么算的", "回本时间", "预测 +7.5"):
        assert heading in text, heading
    assert "2026-" not in text and ".csv" not in text and "T00:" not in text  # no ISO dates, no file names
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000

    # as of the first sensor day's evening: that day is not over, so it does not count
    evening = datetime.combine(SENSORS_FROM + timedelta(days=1), time(20, 0), TZ).isoformat()
    early = run("pilot", "--db", db, "--settings", str(s), "--now", evening)
    assert early.returncode == 0, early.stderr
    assert "改造后 1 个工作日" in early.stdout and "【初步 / preliminary】" in early.stdout
