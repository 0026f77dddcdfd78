"""`seamline roi`: payback with its range from a database, as text, JSON or a one-page PDF."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from ..adapters.db import DEFAULT_URL


def roi(
    db: Annotated[str, typer.Option("--db", help="database URL")] = DEFAULT_URL,
    factory: Annotated[str | None, typer.Option(help="factory id (default: the only one)")] = None,
    start: Annotated[str | None, typer.Option(help="ISO time with offset; default: first data")] = None,
    end: Annotated[str | None, typer.Option(help="ISO time with offset; default: latest data")] = None,
    lines: Annotated[str | None, typer.Option(help="comma-separated lines (default: all)")] = None,
    before_start: Annotated[str | None, typer.Option(help="measured before-period start (ISO with offset)")] = None,
    before_end: Annotated[str | None, typer.Option(help="measured before-period end (ISO with offset)")] = None,
    settings: Annotated[
        Path | None, typer.Option(help="settings JSON (investment, rates, baseline); docs/roi.md")
    ] = None,
    pdf: Annotated[Path | None, typer.Option(help="write the one-page PDF here")] = None,
    lang: Annotated[str, typer.Option(help="zh or en")] = "zh",
    as_json: Annotated[bool, typer.Option("--json", help="print the whole report as JSON")] = False,
) -> None:
    """Retrofit payback in months with its 10-90 % range, from the factory's own data."""
    from ..bootstrap import bootstrap
    from ..roi import service
    from ..roi.render import money, months, render_pdf
    from .cli_db import require_db

    require_db(db)
    rt = bootstrap(db, start_worker=False)
    try:
        if not rt.layouts:
            raise typer.BadParameter("no factory in this database: import a layout first")
        f = factory or (next(iter(rt.layouts)) if len(rt.layouts) == 1 else None)
        if f is None or f not in rt.layouts:
            raise typer.BadParameter(f"pass --factory, one of {sorted(rt.layouts)}")
        s = datetime.fromisoformat(start) if start else None
        e = datetime.fromisoformat(end) if end else None
        bs = datetime.fromisoformat(before_start) if before_start else None
        be = datetime.fromisoformat(before_end) if before_end else None
        for name, d in (("--start", s), ("--end", e), ("--before-start", bs), ("--before-end", be)):
            if d is not None and d.tzinfo is None:
                raise typer.BadParameter(f"{name} needs a UTC offset, e.g. 2026-11-26T08:00:00+08:00")
        cfg, path = service.load(settings)
        line_list = [x for x in (lines or "").split(",") if x] or None
        a = service.assess_factory(
            rt.live, rt.store, f, cfg, s, e, line_list, settings_file=path, before_start=bs, before_end=be
        )
    finally:
        rt.close()
    r = a.report
    if pdf is not None:
        pdf.write_bytes(render_pdf(r, lang))
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{r['factory']} {r['start']} → {r['end']} ({r['blocks']} {r['block_kind']} blocks; settings {path})")
    typer.echo(
        f"payback {months(r['payback_months'], lang)}  range {months(r['payback_p10'], lang)} – "
        f"{months(r['payback_p90'], lang)}  net/month {money(r['net_monthly_cny'], lang)}  "
        f"investment {money(r['investment']['one_off_cny'], lang)}"
    )
    for sc in r["scenarios"]:
        typer.echo(
            f"  {sc['key']:<16} payback {months(sc['payback_months'], lang):<14} range "
            f"{months(sc['p10'], lang)} – {months(sc['p90'], lang)}"
        )
    if pdf is not None:
        typer.echo(f"PDF written to {pdf}")


def register(app: typer.Typer) -> None:
    app.command("roi")(roi)
