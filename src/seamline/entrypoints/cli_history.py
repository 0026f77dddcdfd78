"""`seamline rebuild`: live state and every projection from the whole event store, from scratch."""

from __future__ import annotations

import sys
import time
from typing import Annotated

import typer

from ..adapters.db import DEFAULT_URL

DbOpt = Annotated[str, typer.Option("--db", help="database URL (SQLite file or postgresql+psycopg://...)")]


def register(app: typer.Typer) -> None:
    @app.command()
    def rebuild(db: DbOpt = DEFAULT_URL) -> None:
        """重建读模型 / Rebuild the read models from the event store (drops checkpoints and rollups).

        Start-up normally loads the latest checkpoint and replays only the events after it; this
        replays every event, writes the hour rollups and a fresh checkpoint. Stop `seamline serve`
        first: both write the checkpoint.
        """
        from ..bootstrap import bootstrap

        t0 = time.perf_counter()

        def progress(n: int, pos: int) -> None:
            dt = time.perf_counter() - t0
            sys.stderr.write(
                f"\r重建 / rebuilding: {n:>12,} 事件 / events  位置 / position {pos:,}  {dt:6.1f} s  "
                f"{n / max(dt, 1e-9):,.0f}/s "
            )
            sys.stderr.flush()

        rt = bootstrap(db, start_worker=False, rebuild=True, progress=progress)
        sys.stderr.write("\n")
        keeper = rt.keeper
        rollups = keeper.history.count_rollups() if keeper else 0
        typer.echo(
            f"已重建 / rebuilt: {rt.replayed:,} 事件 / events in {time.perf_counter() - t0:.1f} s; "
            f"小时汇总 / hour rollups {rollups:,}; 检查点 / checkpoint at position "
            f"{keeper.last_pos if keeper else 0:,} ({(keeper.last_bytes if keeper else 0) / 1e6:.1f} MB)"
        )
        rt.close()
