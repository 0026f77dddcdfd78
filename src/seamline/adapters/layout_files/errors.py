"""Problems found in a factory file, phrased for the person who will fix the file.

Factory data is typed by people in Excel, so one bad file usually has several mistakes. We collect
them (up to :data:`MAX_PROBLEMS_PER_FILE` per file) and report them together instead of making the
owner fix-and-retry one cell at a time. Every problem names the file (or workbook sheet), the row as
Excel or a text editor numbers it (the header is row 1), the column and what is wrong.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

MAX_PROBLEMS_PER_FILE = 20


@dataclass(frozen=True, slots=True)
class Problem:
    source: str  # "workers.csv", "bulletins/JEANS-5P.csv" or "factory.xlsx, sheet workers"
    row: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f", column {self.column}"
        shown = f' "{self.value}"' if self.value is not None else ""
        return f"{where}:{shown} — {self.message}"


class LayoutFileError(ValueError):
    """One or more factory files are wrong; ``problems`` lists each mistake, the message all of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects problems while files are read; caps each file at MAX_PROBLEMS_PER_FILE."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self._per_source: Counter[str] = Counter()
        self._dropped: Counter[str] = Counter()

    def add(
        self,
        source: str,
        row: int | None,
        column: str | None,
        value: str | None,
        message: str,
    ) -> None:
        if self._per_source[source] >= MAX_PROBLEMS_PER_FILE:
            self._dropped[source] += 1
            return
        self._per_source[source] += 1
        self.items.append(Problem(source, row, column, value, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def has(self, source: str) -> bool:
        return self._per_source[source] > 0

    def raise_if_any(self) -> None:
        if not self.items:
            return
        items = list(self.items)
        for source, n in self._dropped.items():
            items.append(Problem(source, None, None, None, f"{n} more problems not shown; fix the above first"))
        raise LayoutFileError(items)
