"""Master data comes back in the order it was saved, on both engines.

SQLite happened to return rows in insertion order (its rowid); PostgreSQL returns a table's rows
in whatever order its pages hold them, and once VACUUM has freed the space of earlier imports,
re-imported rows fill those holes out of order. Lists on pages, exports and a simulator started
from the stored layout would then change order after a restart.
"""

from __future__ import annotations

import random
from dataclasses import replace

from sqlalchemy import text

from seamline.adapters import master_data, migrate
from seamline.adapters.db import make_engine
from seamline.adapters.layout_files import load_factory
from tests.conftest import REPO

KINDS = ("calendars", "lines", "stations", "workers", "styles", "orders", "bundles")


def test_reimported_layouts_load_in_the_saved_order(db_url: str) -> None:
    engine = make_engine(db_url)
    rnd = random.Random(1)
    try:
        migrate.upgrade(engine)
        for _round in range(4):
            for fid in ("a", "b", "c"):  # three factories share the tables, as on a group's server
                lay = load_factory(REPO / "examples" / "factory")
                lay.factory = replace(lay.factory, id=fid)
                for kind in ("bundles", "workers"):  # a different size at each import
                    rows = getattr(lay, kind)
                    for k in rnd.sample(list(rows), rnd.randint(0, len(rows) // 2)):
                        del rows[k]
                master_data.save_layout(engine, lay)
                if rnd.random() < 0.5:  # frees the space of some earlier imports, not all
                    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                        c.execute(text("VACUUM"))
                got = master_data.load_layouts(engine)[fid]
                for kind in KINDS:
                    assert list(getattr(got, kind)) == list(getattr(lay, kind)), (kind, fid, _round)
    finally:
        engine.dispose()
