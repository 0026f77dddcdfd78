"""The stored rate card: one JSON document per factory, replaced whole on import.

Checked with ``parse_rate_card`` before it is stored, so what is stored always parses; read back
with a short cache because the tablets ask every second and a card changes a few times a year.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from seamline.adapters.tables_pay import rate_cards
from seamline.pay.rates import PayError, RateCard, parse_rate_card

RATES_FILE = "rates.json"  # beside a factory folder's CSV files


def read_rate_file(path: Path) -> list[dict[str, Any]]:
    """The card in ``path``, checked; ``PayError`` says what is wrong with it."""
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as e:
        raise PayError(f"工价表无法读取 / cannot read rate card {path}: {e}") from None
    if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
        raise PayError(f"工价表应为列表 / rate card {path}: a JSON list of rates is expected")
    parse_rate_card(doc)
    return doc


def save_rate_card(engine: Engine, factory: str, doc: list[dict[str, Any]], source: str) -> None:
    parse_rate_card(doc)  # never store what cannot be read back
    with engine.begin() as conn:
        conn.execute(delete(rate_cards).where(rate_cards.c.factory_id == factory))
        conn.execute(
            insert(rate_cards).values(
                factory_id=factory,
                card=json.dumps(doc, ensure_ascii=False),
                source=source[:300],
                imported_at=datetime.now(UTC),
            )
        )


def load_rate_card(engine: Engine, factory: str) -> RateCard | None:
    with engine.connect() as conn:
        row = conn.execute(select(rate_cards.c.card).where(rate_cards.c.factory_id == factory)).first()
    return parse_rate_card(json.loads(row[0])) if row is not None else None


class RateCards:
    """Cached reads of the stored cards (``ttl_s``): an import is seen within that time, and a
    database without the table yet (an older schema) simply has no card."""

    def __init__(self, engine: Engine, ttl_s: float = 30.0) -> None:
        self.engine = engine
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, RateCard | None]] = {}
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Read the cards again on the next ask (after an import in this process)."""
        with self._lock:
            self._cache.clear()

    def get(self, factory: str) -> RateCard | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(factory)
            if hit is not None and now - hit[0] < self.ttl_s:
                return hit[1]
        try:
            card = load_rate_card(self.engine, factory)
        except SQLAlchemyError:  # no table yet (an older schema): no earnings rather than no tablet
            card = None
        with self._lock:
            self._cache[factory] = (now, card)
        return card
