"""The daily production report as a file: a CSV (UTF-8) or the first sheet of an .xlsx workbook.

Only reading lives here: the file is reduced to a header and text cells with the row numbers
Excel shows (header = row 1), the same reduction ``layout_files`` makes, so the validation in
``seamline.roi.daily_report`` is written once for both formats. Messages are Chinese first.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from .layout_files.tables import cell_text

# A sheet with one of these names is read; otherwise the workbook's first sheet.
SHEET_NAMES = ("日报", "生产日报", "daily", "daily_report")


class ReportFileError(ValueError):
    """The file cannot be read at all (not a row or column problem)."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


@dataclass(slots=True)
class RawTable:
    source: str  # file name (or "file, sheet X"), for messages only
    header: list[str]
    rows: list[tuple[int, list[str]]]  # (row number as Excel shows it, cells as text)


def read_report_file(path: str | Path) -> RawTable:
    p = Path(path)
    if not p.exists():
        raise ReportFileError(f"找不到文件 {p.name}", f"file not found: {p.name}")
    if p.suffix.lower() in (".xls", ".et", ".numbers", ".ods"):
        raise ReportFileError(
            f"不能读取 {p.suffix} 文件：请在 Excel/WPS 里另存为 .xlsx 或“CSV UTF-8”",
            f"cannot read {p.suffix} files: save as .xlsx or 'CSV UTF-8'",
        )
    if p.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            wb = load_workbook(p, read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises zip, xml and key errors for a damaged file
            raise ReportFileError(f"无法作为 Excel 工作簿打开：{e}", f"cannot open as an Excel workbook: {e}") from None
        try:
            names = {n.strip().lower(): n for n in wb.sheetnames}
            sheet = next((names[n] for n in SHEET_NAMES if n in names), wb.sheetnames[0])
            raw = [[cell_text(v) for v in r] for r in wb[sheet].iter_rows(values_only=True)]
        finally:
            wb.close()
        source = f"{p.name}，工作表 {sheet}"
    else:
        data = p.read_bytes()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise ReportFileError(
                f"第 {line} 行：文件不是 UTF-8 编码（中文 Windows 的 Excel 另存为“CSV”会存成 GBK）；"
                "请另存为“CSV UTF-8”或直接用 .xlsx",
                f"row {line}: the file is not UTF-8 (Excel's plain 'CSV' on a Chinese Windows saves GBK); "
                "save as 'CSV UTF-8' or use the .xlsx",
            ) from None
        try:
            raw = [[c.strip() for c in r] for r in csv.reader(io.StringIO(text, newline=""))]
        except csv.Error as e:
            raise ReportFileError(f"不是可读的 CSV：{e}", f"not a readable CSV: {e}") from None
        source = p.name
    if not raw or not any(raw[0]):
        raise ReportFileError("文件为空：第一行应为列名", "the file is empty: the first row must name the columns")
    header = list(raw[0])
    while header and not header[-1]:
        header.pop()
    rows = [(i, r) for i, r in enumerate(raw[1:], start=2) if any(c for c in r)]
    return RawTable(source, header, rows)
