"""Languages of the pages: gettext catalogs read at runtime, Babel formatting per locale.

The ``.po`` files are parsed with Babel when the app starts, so there is no compile step to
forget (and no ``.mo`` to go stale). Message ids are the English text; the ``en`` catalog still
lists every id so that "complete" is checkable. Chinese (``zh_CN``) is the default because the
people on the floor read it first.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import datetime as _datetime
from functools import cache, lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_skeleton, format_time, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import NumberPattern, format_decimal, format_percent, parse_pattern
from babel.units import format_unit

I18N_DIR = Path(__file__).parent / "i18n"
LANGS = ("zh_CN", "en")
DEFAULT_LANG = "zh_CN"
DOMAIN = "messages"


def N_(msg: str) -> str:
    """Marks a string for extraction where it is translated later (tables of codes, JS strings)."""
    return msg


def po_path(lang: str) -> Path:
    return I18N_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.GNUTranslations:
    """The catalog of ``lang`` as a gettext object (built in memory from the .po)."""
    import io

    with po_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def pick_lang(query: str | None, cookie: str | None) -> str:
    """?lang= wins over the cookie; anything unknown falls back to Chinese."""
    for cand in (query, cookie):
        if cand:
            norm = cand.replace("-", "_")
            if norm in LANGS:
                return norm
            if norm.lower().startswith("en"):
                return "en"
            if norm.lower().startswith("zh"):
                return "zh_CN"
    return DEFAULT_LANG


@cache
def _locale(lang: str) -> Locale:
    """Parsed once per language: Babel parses a locale string on every call otherwise, and that
    was a third of a page's computation (a page formats hundreds of numbers a second)."""
    return Locale.parse(lang)


@cache
def _pattern(fmt: str) -> NumberPattern:
    return parse_pattern(fmt)


@lru_cache(maxsize=8192)
def _number(lang: str, x: float, fmt: str, percent: bool) -> str:
    """A page writes the same few hundred numbers every second (counts, rounded percentages):
    written once, then looked up."""
    if percent:
        return format_percent(x, format=_pattern(fmt), locale=_locale(lang))
    return format_decimal(x, format=_pattern(fmt), locale=_locale(lang))


@lru_cache(maxsize=4096)
def _unit(lang: str, n: int, unit: str) -> str:
    """Durations on pages are whole minutes and hours: each written once, then looked up (Babel's
    unit formatting was a tenth of the overview's computation)."""
    return format_unit(n, unit, length="short", locale=_locale(lang))


@dataclass(frozen=True, slots=True)
class Fmt:
    """Numbers, percentages, times and durations written the way the locale writes them."""

    lang: str

    @property
    def locale(self) -> Locale:
        return _locale(self.lang)

    def gettext(self, msg: str) -> str:
        return translations(self.lang).gettext(msg)

    def num(self, x: float | int | None, digits: int = 0) -> str:
        if x is None:
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "")
        return _number(self.lang, x, fmt, False)

    def pct(self, x: float | None, digits: int = 0) -> str:
        """``x`` is in percent (62.5 → "62.5%" / "62.5%")."""
        if x is None:
            return "–"
        fmt = "#,##0" + ("." + "0" * digits if digits else "") + "%"
        return _number(self.lang, x / 100.0, fmt, True)

    def time(self, t: datetime | None) -> str:
        return "–" if t is None else format_time(t, format="short", tzinfo=t.tzinfo, locale=_locale(self.lang))

    def datetime(self, t: datetime | None) -> str:
        """Month, day, hour and minute in the locale's order ("Nov 25, 13:26" / "11月25日 13:26")."""
        if t is None:
            return "–"
        loc = _locale(self.lang)
        day = format_skeleton("MMMd", t, tzinfo=t.tzinfo, locale=loc)
        return f"{day} {format_skeleton('Hm', t, tzinfo=t.tzinfo, locale=loc)}"

    def date(self, t: _datetime) -> str:  # in this class ``datetime`` is the method above
        from babel.dates import format_date

        return format_date(t, format="medium", locale=_locale(self.lang))

    def duration(self, seconds: float) -> str:
        """Hours and minutes ("1 hr 50 min", "1小时 50分钟"); under a minute, seconds."""
        total_min = int(seconds // 60)
        if total_min < 1:
            return format_timedelta(timedelta(seconds=int(seconds)), format="short", locale=_locale(self.lang))
        h, m = divmod(total_min, 60)
        parts = []
        if h:
            parts.append(_unit(self.lang, h, "duration-hour"))
        if m or not h:
            parts.append(_unit(self.lang, m, "duration-minute"))
        return " ".join(parts)

    def hours(self, h: float) -> str:
        return self.duration(h * 3600.0)

    def name(self, zh: str, en: str) -> str:
        """A master-data name that exists in both languages."""
        return zh if self.lang.startswith("zh") else (en or zh)

    def split_name(self, both: str) -> str:
        """Names kept as "中文 / English" in one field (lines in the sample factory)."""
        if " / " in both:
            zh, en = both.split(" / ", 1)
            return self.name(zh.strip(), en.strip())
        return both
