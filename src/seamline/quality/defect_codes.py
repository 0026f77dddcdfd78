"""The catalogue of sewing defect codes (Chinese and English names, default audit class)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class DefectCode:
    code: str
    zh: str
    en: str
    defect_class: str  # critical | major | minor


@cache
def defect_codes() -> dict[str, DefectCode]:
    raw = json.loads(
        resources.files("seamline.quality").joinpath("data", "defect_codes.json").read_text(encoding="utf-8")
    )
    return {c["code"]: DefectCode(c["code"], c["zh"], c["en"], c["class"]) for c in raw["codes"]}


def describe(code: str, lang: str = "en") -> str:
    """A readable name for a code; unknown codes (a factory's own) are shown as they are."""
    c = defect_codes().get(code)
    if c is None:
        return code
    return c.zh if lang.startswith("zh") else c.en
