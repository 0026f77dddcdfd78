"""The factory's daily production report: its columns, and every row checked before anything is stored.

Control lines have no sensors, and the pilot line had none before the retrofit; what every
factory keeps for them is the daily report (per line and day: style, output, workers present,
hours, overtime, defects; deliveries where kept). It is typed by people, so a file is checked
whole and every mistake is listed with its row and column (Chinese first, English beside) —
nothing is stored from a file with a mistake, so a re-import after the fix cannot double-count.

Column headers are accepted in Chinese or English (``COLUMNS``); units in brackets after the
name are ignored ("标准工时(分钟)", "SAM (min)"). Pure: no file, no database.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

MAX_PROBLEMS = 50


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    zh: str  # the name printed in messages and docs
    en: str
    aliases: tuple[str, ...]
    required: bool
    meaning_zh: str
    meaning_en: str


COLUMNS: tuple[Column, ...] = (
    Column("day", "日期", "date", ("日期", "生产日期", "date", "day"), True, "生产日期，如 2026-11-02", "workday"),
    Column("line", "产线", "line", ("产线", "线别", "组别", "拉别", "line", "line_id"), True, "产线编号", "line id"),
    Column("style", "款号", "style", ("款号", "款式", "style", "style_code"), True, "当天做的款", "style sewn"),
    Column(
        "sam_min",
        "标准工时",
        "sam_min",
        ("标准工时", "单件标准工时", "sam", "smv", "sam_min"),
        False,
        "每件标准分钟；不填则用工厂资料里该款的标准工时",
        "standard minutes per garment; blank: the style's SAM from the factory's layout",
    ),
    Column("output", "产量", "output", ("产量", "产出", "完成数", "output"), True, "当天完成件数", "garments done"),
    Column(
        "workers",
        "出勤人数",
        "workers",
        ("出勤人数", "人数", "在岗人数", "workers", "workers_present"),
        True,
        "当天出勤的车位和辅工人数",
        "operators and helpers present",
    ),
    Column(
        "hours",
        "工作小时",
        "hours",
        ("工作小时", "出勤小时", "工时", "hours", "hours_per_worker"),
        True,
        "每人当天出勤小时（含加班）",
        "hours each worker attended, overtime included",
    ),
    Column(
        "overtime_h",
        "加班小时",
        "overtime_hours",
        ("加班小时", "加班工时", "加班", "overtime_hours", "overtime_h"),
        False,
        "每人当天加班小时（不填为 0）",
        "overtime hours per worker (blank: 0)",
    ),
    Column(
        "defects",
        "疵点数",
        "defects",
        ("疵点数", "次品数", "不良数", "返工数", "defects"),
        False,
        "尾查发现的疵点数",
        "defects found at end-of-line",
    ),
    Column(
        "checked",
        "检验数",
        "checked",
        ("检验数", "查验数", "checked", "pieces_checked"),
        False,
        "检验的件数（不填则等于产量）",
        "pieces checked (blank: the output)",
    ),
    Column(
        "orders_due",
        "应交订单数",
        "orders_due",
        ("应交订单数", "到期订单数", "orders_due"),
        False,
        "当天到交期的订单数（有记录才填）",
        "orders due that day, where kept",
    ),
    Column(
        "orders_on_time",
        "准时交货数",
        "orders_on_time",
        ("准时交货数", "准时交付数", "准时订单数", "orders_on_time"),
        False,
        "其中按期交货的订单数",
        "of those, delivered on time",
    ),
)
BY_KEY = {c.key: c for c in COLUMNS}


def _norm(h: str) -> str:
    h = re.sub(r"[（(][^）)]*[）)]", "", h)  # units in brackets
    return re.sub(r"[\s_\-]+", "", h).strip().lower()


_ALIASES = {_norm(a): c.key for c in COLUMNS for a in c.aliases}


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One line, day and style of the report, as the factory wrote it (validated)."""

    day: date
    line: str
    style: str
    sam_min: float
    output: int
    workers: int
    hours: float
    overtime_h: float
    defects: int | None
    checked: int | None
    orders_due: int | None
    orders_on_time: int | None

    @property
    def earned_min(self) -> float:
        return self.output * self.sam_min

    @property
    def attended_min(self) -> float:
        return self.workers * self.hours * 60.0


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int | None  # as Excel shows it (header = 1); None: the whole file
    column: str | None  # as written in the file's header, else the Chinese name
    value: str | None
    zh: str
    en: str

    def __str__(self) -> str:
        where_zh = "" if self.row is None else f"第 {self.row} 行"
        where_en = "" if self.row is None else f"row {self.row}"
        if self.column:
            where_zh += f"，“{self.column}”列"
            where_en += f", column {self.column}"
        v = f" “{self.value}”" if self.value not in (None, "") else ""
        return f"{where_zh}{v}：{self.zh} / {where_en}: {self.en}".lstrip("，")


class ReportError(ValueError):
    def __init__(self, problems: Sequence[RowProblem], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        super().__init__("\n".join(str(p) for p in self.problems))


def map_header(header: Sequence[str]) -> tuple[dict[str, int], list[RowProblem]]:
    """Column key -> index; problems for a missing required column or a column given twice."""
    found: dict[str, int] = {}
    problems: list[RowProblem] = []
    for i, h in enumerate(header):
        key = _ALIASES.get(_norm(h))
        if key is None:
            continue  # notes and other columns are ignored
        if key in found:
            problems.append(
                RowProblem(1, h, None, f"与“{header[found[key]]}”是同一列，出现了两次", "the same column appears twice")
            )
            continue
        found[key] = i
    for c in COLUMNS:
        if c.required and c.key not in found:
            problems.append(
                RowProblem(
                    1,
                    c.zh,
                    None,
                    f"缺少必需的列（中文“{c.zh}”或英文“{c.en}”）",
                    f"required column missing (“{c.zh}” or “{c.en}”)",
                )
            )
    return found, problems


def _parse_day(v: str) -> date:
    v = v.strip()
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return datetime.strptime(v[:19].split("T")[0].split(" ")[0], fmt).date()
        except ValueError:
            continue
    raise ValueError


class _Row:
    """One data row being checked: its cells by column key, and the problems found in it."""

    def __init__(
        self, rowno: int, cells: Sequence[str], col: dict[str, int], header: Sequence[str], problems: list[RowProblem]
    ) -> None:
        self.rowno, self.cells, self.col, self.header, self.problems = rowno, cells, col, header, problems
        self.bad = False

    def cell(self, key: str) -> str:
        i = self.col.get(key)
        return self.cells[i].strip() if i is not None and i < len(self.cells) else ""

    def err(self, key: str, zh: str, en: str) -> None:
        self.bad = True
        name = self.header[self.col[key]] if key in self.col else BY_KEY[key].zh
        self.problems.append(RowProblem(self.rowno, name, self.cell(key), zh, en))

    def number(
        self, key: str, integer: bool, required: bool, low: float = 0.0, high: float | None = None
    ) -> float | None:
        v = self.cell(key).replace(",", "")
        if v == "":
            if required:
                self.err(key, "不能为空", "must not be blank")
            return None
        try:
            x = float(v)
        except ValueError:
            self.err(key, "应为数字", "must be a number")
            return None
        if not math.isfinite(x):
            self.err(key, "应为数字", "must be a number")
            return None
        if integer and not x.is_integer():
            self.err(key, "应为整数", "must be a whole number")
            return None
        if x < low or (high is not None and x > high):
            rng = f"{low:g}–{high:g}" if high is not None else f"≥ {low:g}"
            self.err(key, f"应在 {rng} 之间", f"must be in {rng}")
            return None
        return x


def parse_report(
    header: Sequence[str],
    rows: Sequence[tuple[int, Sequence[str]]],
    style_sam: Mapping[str, float] | None = None,
    today: date | None = None,
) -> list[ReportRow]:
    """Validated rows, or ``ReportError`` listing every problem (up to ``MAX_PROBLEMS``).

    ``style_sam`` (style code -> SAM min, from the factory's layout) fills a blank SAM cell;
    ``today`` refuses rows dated in the future (a typo in the year)."""
    col, problems = map_header(header)
    if problems:
        raise ReportError(problems)
    out: list[ReportRow] = []
    seen: dict[tuple[date, str, str], int] = {}
    style_sam = style_sam or {}

    for rowno, cells in rows:
        if len(problems) >= MAX_PROBLEMS:
            break
        rc = _Row(rowno, cells, col, header, problems)
        cell, err, number = rc.cell, rc.err, rc.number

        day: date | None = None
        try:
            day = _parse_day(cell("day"))
            if today is not None and day > today:
                err("day", "日期在今天之后", "date is in the future")
        except ValueError:
            err("day", "日期应写成 2026-11-02", "date must be written like 2026-11-02")
        line = cell("line")
        if not line:
            err("line", "不能为空", "must not be blank")
        style = cell("style")
        if not style:
            err("style", "不能为空", "must not be blank")
        sam = number("sam_min", False, False, 0.01, 600.0)
        if sam is None and cell("sam_min") == "" and style:
            sam = style_sam.get(style)
            if sam is None:
                err(
                    "sam_min",
                    f"款号“{style}”不在工厂资料里，请填标准工时",
                    f"style “{style}” is not in the factory's layout: give its SAM",
                )
        output = number("output", True, True)
        workers = number("workers", True, True, 1.0, 2000.0)
        hours = number("hours", False, True, 0.1, 24.0)
        ot = number("overtime_h", False, False, 0.0, 24.0)
        if hours is not None and ot is not None and ot > hours:
            err("overtime_h", "加班小时大于工作小时", "overtime exceeds the hours worked")
        defects = number("defects", True, False)
        checked = number("checked", True, False)
        if checked is not None and defects is not None and checked == 0 and defects > 0:
            err("checked", "有疵点但检验数为 0", "defects found but none checked")
        due = number("orders_due", True, False)
        on_time = number("orders_on_time", True, False)
        if on_time is not None and (due is None or on_time > due):
            err("orders_on_time", "准时交货数大于应交订单数", "more orders on time than due")
        if day is not None and line and style and not rc.bad:
            key = (day, line, style)
            if key in seen:
                first = seen[key]
                err("style", f"同一天同一产线同一款号已在第 {first} 行", f"same date, line and style as row {first}")
            seen[key] = rowno
        if rc.bad:
            continue
        assert day is not None and sam is not None and output is not None and workers is not None
        assert hours is not None
        out.append(
            ReportRow(
                day=day,
                line=line,
                style=style,
                sam_min=sam,
                output=int(output),
                workers=int(workers),
                hours=hours,
                overtime_h=ot or 0.0,
                defects=None if defects is None else int(defects),
                checked=None if checked is None else int(checked),
                orders_due=None if due is None else int(due),
                orders_on_time=None if on_time is None else int(on_time),
            )
        )
    if problems:
        raise ReportError(problems)
    if not out:
        raise ReportError([RowProblem(None, None, None, "文件里没有数据行", "the file has no data rows")])
    return out
