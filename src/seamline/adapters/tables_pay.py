"""Tables of seamline.pay: the factory's rate card.

One row per factory holding the card as its JSON document (the format ``pay.rates.parse_rate_card``
reads and ``hours-report --rates`` takes as a file): a card is read and replaced whole, never row
by row, so a half-imported card can never price pieces.
"""

from __future__ import annotations

from sqlalchemy import Column, String, Table, Text

from .tables import UtcDateTime, metadata

rate_cards = Table(
    "rate_cards",
    metadata,
    Column("factory_id", String(64), primary_key=True),
    Column("card", Text, nullable=False),  # JSON list of rates, money as strings
    Column("source", String(300), nullable=False),  # the file it came from
    Column("imported_at", UtcDateTime(), nullable=False),
)
