"""Bad files are reported with file, row (header = row 1), column and what is wrong, all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from seamline.adapters.layout_files import (
    MAX_PROBLEMS_PER_FILE,
    LayoutFileError,
    load_bulletin,
    load_factory,
    load_orders,
    load_workers,
    save_factory,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "factory"


@pytest.fixture
def factory(tmp_path: Path) -> Path:
    dst = tmp_path / "factory"
    shutil.copytree(EXAMPLE, dst)
    return dst


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Change one cell of a CSV, addressing it as a person would: row number and column name."""
    import csv

    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    rows[row - 1][rows[0].index(column)] = value
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def problems_of(path: Path) -> list[str]:
    with pytest.raises(LayoutFileError) as e:
        load_factory(path)
    assert isinstance(e.value, ValueError)
    return [str(p) for p in e.value.problems]


def test_bad_skill_grade_names_file_row_and_column(factory: Path) -> None:
    set_cell(factory / "workers.csv", 14, "skills", "SNLS:x")
    assert problems_of(factory) == ['workers.csv row 14, column skills: "SNLS:x" — grade must be a whole number 1-5']


def test_all_mistakes_of_a_file_are_reported_together(factory: Path) -> None:
    st = factory / "stations.csv"
    set_cell(st, 2, "line_id", "L9")  # unknown line
    set_cell(st, 5, "machine_type", "SNSL")  # typo
    set_cell(st, 7, "id", "L1-S01")  # duplicate of row 2
    set_cell(st, 9, "sensor_id", "SEN-L1-03")  # sensor already on row 4
    set_cell(st, 11, "position", "ten")
    got = problems_of(factory)
    assert len(got) == 5, got
    assert got[0].startswith('stations.csv row 2, column line_id: "L9" — unknown line')
    assert got[1].startswith('stations.csv row 5, column machine_type: "SNSL" — unknown machine type')
    assert got[2] == 'stations.csv row 7, column id: "L1-S01" — duplicate station id; row 2 has it already'
    assert got[3].startswith('stations.csv row 9, column sensor_id: "SEN-L1-03" — duplicate sensor id')
    assert "row 4" in got[3]
    assert got[4] == 'stations.csv row 11, column position: "ten" — must be a whole number >= 0'


def test_mistakes_in_several_files_come_in_one_error(factory: Path) -> None:
    set_cell(factory / "workers.csv", 3, "line_id", "L7")
    set_cell(factory / "orders.csv", 4, "style_code", "HOODIE")
    set_cell(factory / "orders.csv", 6, "qty", "0")
    set_cell(factory / "orders.csv", 8, "due", "31/12/2026")
    set_cell(factory / "lines.csv", 3, "target_efficiency_pct", "140")
    set_cell(factory / "calendars.csv", 2, "breaks", "12:00-13:00 lunch;15:00 tea")
    set_cell(factory / "calendars.csv", 2, "workdays", "Mon;Tue;Wed;Thu;Fri;Sab")
    got = "\n".join(problems_of(factory))
    assert 'workers.csv row 3, column line_id: "L7" — unknown line' in got
    assert 'orders.csv row 4, column style_code: "HOODIE" — unknown style' in got
    assert 'orders.csv row 6, column qty: "0" — must be a whole number 1-1000000' in got
    assert 'orders.csv row 8, column due: "31/12/2026" — must be a date like 2026-12-05' in got
    assert 'lines.csv row 3, column target_efficiency_pct: "140" — must be a number more than 0' in got
    assert 'calendars.csv row 2, column breaks: "12:00-13:00 lunch;15:00 tea" — break "15:00 tea" must look' in got
    assert 'calendars.csv row 2, column workdays: "Mon;Tue;Wed;Thu;Fri;Sat;Sun"' not in got
    assert '"Sab" is not a day' in got


def test_rows_of_one_order_must_agree(factory: Path) -> None:
    orders = factory / "orders.csv"
    set_cell(orders, 3, "due", "2026-12-09")  # row 2 of SO-2611-01 says 2026-12-02
    set_cell(orders, 5, "size", "M")  # M / White is on row 3 already
    set_cell(orders, 5, "colour", "White")
    got = problems_of(factory)
    assert got[0] == (
        'orders.csv row 3, column due: "2026-12-09" — order SO-2611-01 has 2026-12-02 on row 2; '
        "rows of one order must agree"
    )
    assert got[1].startswith('orders.csv row 5, column size: "M" — order SO-2611-01 has size M / colour White')


def test_bulletin_mistakes_name_the_bulletin_file(factory: Path) -> None:
    b = factory / "bulletins" / "JEANS-5P.csv"
    set_cell(b, 4, "predecessors", "J02;J99")
    set_cell(b, 6, "sam_min", "0")
    set_cell(b, 8, "skill_grade", "6")
    set_cell(b, 49, "code", "J01")
    got = problems_of(factory)
    assert got == [
        'bulletins/JEANS-5P.csv row 4, column predecessors: "J99" — follows an operation that is not in this bulletin',
        'bulletins/JEANS-5P.csv row 6, column sam_min: "0" — must be a number more than 0 and at most 600',
        'bulletins/JEANS-5P.csv row 8, column skill_grade: "6" — must be a whole number 1-5',
        'bulletins/JEANS-5P.csv row 49, column code: "J01" — duplicate operation code; row 2 has it already',
    ]


def test_precedence_cycle_from_the_model_names_the_file_and_rows(factory: Path) -> None:
    b = factory / "bulletins" / "TEE-BASIC.csv"
    set_cell(b, 2, "predecessors", "T03")  # T01 after T03, but T03 follows T01
    got = problems_of(factory)
    assert len(got) == 1
    assert got[0].startswith("bulletins/TEE-BASIC.csv, column predecessors: — style TEE-BASIC: precedence has a cycle")
    assert "rows 2, 4" in got[0]


def test_missing_column_and_missing_file(factory: Path) -> None:
    text = (factory / "workers.csv").read_text("utf-8").replace("badge,name,", "badge,nome,", 1)
    (factory / "workers.csv").write_text(text, "utf-8")
    (factory / "lines.csv").unlink()
    got = problems_of(factory)
    assert any(p.startswith("lines.csv: — file is missing") for p in got), got
    assert any(p.startswith("workers.csv row 1, column name: — required column is missing") for p in got), got


def test_problems_are_capped_per_file(factory: Path) -> None:
    w = factory / "workers.csv"
    for row in range(2, 2 + MAX_PROBLEMS_PER_FILE + 7):
        set_cell(w, row, "skills", "SNLS:9")
    got = problems_of(factory)
    assert len(got) == MAX_PROBLEMS_PER_FILE + 1
    assert got[-1] == "workers.csv: — 7 more problems not shown; fix the above first"


def test_gbk_csv_gets_a_hint_about_utf8(tmp_path: Path) -> None:
    p = tmp_path / "workers.csv"
    p.write_bytes("badge,name\nB1,张三\n".encode("gbk"))
    with pytest.raises(LayoutFileError, match=r"workers\.csv row 2: — the file is not UTF-8"):
        load_workers(p)


def test_excel_csv_with_bom_and_blank_rows_reads(tmp_path: Path) -> None:
    p = tmp_path / "orders.csv"
    p.write_text(
        "\ufeffID, Customer ,style_code,size,colour,qty,due\r\nA,x,S,M,Red,5,2026-12-01\r\n,,,,,,\r\n"
        "A,x,S,L,Red,7,2026-12-01\r\nB,y,S,M,Red,3,2026-12-02T00:00:00\r\n",
        encoding="utf-8",
    )
    orders = load_orders(p, style_codes={"S"})
    assert orders["A"].quantities == {("M", "Red"): 5, ("L", "Red"): 7}
    assert orders["B"].due.isoformat() == "2026-12-02"
    p.write_text(p.read_text("utf-8-sig").replace("B,y,S,", "B,y,T,"), encoding="utf-8")
    with pytest.raises(LayoutFileError, match=r'orders\.csv row 5, column style_code: "T" — unknown style'):
        load_orders(p, style_codes={"S"})


def test_workbook_problems_name_the_sheet(tmp_path: Path) -> None:
    book = tmp_path / "factory.xlsx"
    save_factory(load_factory(EXAMPLE), book)
    wb = load_workbook(book)
    wb["workers"]["E14"] = "SNLS:x"  # column E is skills
    wb["bulletin JEANS-5P"]["D3"] = "fast"  # column D is sam_min
    wb.save(book)
    with pytest.raises(LayoutFileError) as e:
        load_factory(book)
    assert [str(p) for p in e.value.problems] == [
        'factory.xlsx, sheet bulletin JEANS-5P row 3, column sam_min: "fast" — '
        "must be a number more than 0 and at most 600",
        'factory.xlsx, sheet workers row 14, column skills: "SNLS:x" — grade must be a whole number 1-5',
    ]


def test_single_bulletin_and_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(LayoutFileError, match="does not exist"):
        load_factory(tmp_path / "nowhere")
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    with pytest.raises(LayoutFileError, match=r"junk\.xlsx: — cannot open as an Excel \.xlsx workbook"):
        load_factory(tmp_path / "junk.xlsx")
    p = tmp_path / "b.csv"
    p.write_text("code,sam_min,machine_type\nA,0.5,SNLS\n", encoding="utf-8")
    assert load_bulletin(p, "X").op("A").sam_min == 0.5
    p.write_text("code,sam_min,machine_type\n", encoding="utf-8")
    with pytest.raises(LayoutFileError, match="the bulletin has no operations"):
        load_bulletin(p, "X")


def test_ids_that_would_be_mqtt_wildcards_are_refused(factory: Path) -> None:
    """Issue #18 item 8: factory and station ids become topic levels and broker user names."""
    set_cell(factory / "stations.csv", 3, "id", "L1+S02")
    set_cell(factory / "stations.csv", 4, "id", "L1/S03")
    set_cell(factory / "factory.csv", 2, "id", "#")
    got = problems_of(factory)
    assert any(p.startswith('factory.csv row 2, column id: "#"') and "工厂编号" in p for p in got), got
    assert any(p.startswith('stations.csv row 3, column id: "L1+S02"') and "'+'" in p for p in got), got
    assert any(p.startswith('stations.csv row 4, column id: "L1/S03"') and "'/'" in p for p in got), got
