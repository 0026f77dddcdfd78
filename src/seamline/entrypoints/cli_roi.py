"""`seamline roi`: payback with its range from a database, as text, JSON or a one-page PDF."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..adapters.db import DEFAULT_URL

if TYPE_CHECKING:
    from ..roi.pilot import PilotConfig


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


def _fail(zh: str, en: str) -> typer.Exit:
    typer.echo(f"{zh} / {en}", err=True)
    return typer.Exit(1)


def _factory_of(layouts: Mapping[str, Any], factory: str | None) -> str:
    if not layouts:
        raise _fail(
            "数据库里还没有工厂：请先导入工厂资料（seamline import）",
            "no factory in this database: import a layout first",
        )
    f = factory or (next(iter(layouts)) if len(layouts) == 1 else None)
    if f is None or f not in layouts:
        raise _fail(f"请用 --factory 指定工厂：{sorted(layouts)}", f"pass --factory, one of {sorted(layouts)}")
    return f


def pilot_import(
    file: Annotated[Path, typer.Argument(help="daily production report, .xlsx or UTF-8 .csv (docs/roi.md)")],
    db: Annotated[str, typer.Option("--db", help="database URL")] = DEFAULT_URL,
    factory: Annotated[str | None, typer.Option(help="factory id (default: the only one)")] = None,
) -> None:
    """导入生产日报（对照线，及试点线装传感器之前）/ Import the daily production report."""
    from zoneinfo import ZoneInfo

    from ..adapters import master_data, migrate
    from ..adapters.db import make_engine
    from ..adapters.roi_files import ReportFileError, read_report_file
    from ..roi.daily_report import ReportError, parse_report
    from ..roi.store import save_report

    engine = make_engine(db)
    try:
        migrate.upgrade(engine)
        layouts = master_data.load_layouts(engine)
        f = _factory_of(layouts, factory)
        layout = layouts[f]
        try:
            table = read_report_file(file)
        except ReportFileError as e:
            raise _fail(f"{file.name}：{e.zh}", f"{file.name}: {e.en}") from None
        today = datetime.now(ZoneInfo(layout.factory.timezone)).date()
        sams = {code: st.sam_min for code, st in layout.styles.items()}
        try:
            rows = parse_report(table.header, table.rows, sams, today)
        except ReportError as e:
            for p in e.problems:
                typer.echo(f"{table.source} {p}", err=True)
            raise _fail(
                f"{table.source} 有 {len(e.problems)} 处错误，没有导入任何数据；改正后重新导入",
                f"{len(e.problems)} problem(s), nothing imported; fix them and import again",
            ) from None
        counts = save_report(engine, f, rows, file.name)
    finally:
        engine.dispose()
    lines = sorted({r.line for r in rows})
    days = sorted({r.day for r in rows})
    typer.echo(
        f"已导入 {counts['rows']} 行（新增 {counts['new']}，替换 {counts['replaced']}）；产线 {'、'.join(lines)}；"
        f"{days[0]} 至 {days[-1]} / imported {counts['rows']} rows ({counts['new']} new, {counts['replaced']} "
        f"replaced); lines {', '.join(lines)}; {days[0]} to {days[-1]}"
    )
    unknown = [ln for ln in lines if ln not in layout.lines]
    if unknown:
        typer.echo(
            f"提示：产线 {'、'.join(unknown)} 不在工厂资料里（没有传感器的对照线可以不在；若是笔误请改正）/ "
            f"note: lines {', '.join(unknown)} are not in the factory's layout (fine for control lines without "
            "sensors; fix them if they are typos)"
        )


def _pilot_cfg(pilot: str | None, controls: str | None, sensors_from: str | None) -> PilotConfig | None:
    from datetime import date

    from ..roi.pilot import PilotConfig as Cfg

    if not (pilot or controls or sensors_from):
        return None
    if not (pilot and controls and sensors_from):
        raise _fail(
            "--pilot、--controls 和 --sensors-from 要一起给", "give --pilot, --controls and --sensors-from together"
        )
    try:
        return Cfg(
            tuple(x for x in pilot.split(",") if x),
            tuple(x for x in controls.split(",") if x),
            date.fromisoformat(sensors_from),
        )
    except ValueError as e:
        raise _fail(f"参数有误：{e}", f"bad argument: {e}") from None


def pilot_report(
    db: Annotated[str, typer.Option("--db", help="database URL")] = DEFAULT_URL,
    factory: Annotated[str | None, typer.Option(help="factory id (default: the only one)")] = None,
    pilot: Annotated[str | None, typer.Option(help="pilot line(s), comma-separated (default: settings)")] = None,
    controls: Annotated[str | None, typer.Option(help="control lines, comma-separated")] = None,
    sensors_from: Annotated[str | None, typer.Option(help="first day with sensors, YYYY-MM-DD")] = None,
    settings: Annotated[Path | None, typer.Option(help="settings JSON (rates, investment, pilot)")] = None,
    now: Annotated[str | None, typer.Option(help="assess as of this time (ISO with offset); default: now")] = None,
    pdf: Annotated[Path | None, typer.Option(help="write the weekly one-pager PDF here")] = None,
    png: Annotated[Path | None, typer.Option(help="write the one-pager as a PNG image (for WeChat)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole answer as JSON")] = False,
) -> None:
    """试点线对比对照线：效果、每月金额、回本时间 / The pilot against control lines."""
    from ..bootstrap import bootstrap
    from ..roi import service
    from ..roi.onepager import render_onepager_pdf, render_png
    from ..roi.pilot_text import summary_lines

    cfg_override = _pilot_cfg(pilot, controls, sensors_from)
    at = datetime.fromisoformat(now) if now else None
    if at is not None and at.tzinfo is None:
        raise _fail("--now 需要时区，如 2026-12-01T08:00:00+08:00", "--now needs a UTC offset")
    try:
        cfg, _path = service.load(settings)
    except (OSError, ValueError) as e:
        raise _fail(f"设置文件无法读取：{e}", f"settings unreadable: {e}") from None
    rt = bootstrap(db, start_worker=False)
    try:
        f = _factory_of(rt.layouts, factory)
        try:
            r = service.assess_pilot_factory(rt.live, rt.store, rt.engine, f, cfg, now=at, pilot=cfg_override)
        except ValueError as e:
            raise _fail(f"{e}", f"{e}") from None
    finally:
        rt.close()
    if not r.get("configured"):
        raise _fail(
            "没有设置试点线：在设置文件的 pilot 里写明，或给 --pilot/--controls/--sensors-from",
            "no pilot configured: set `pilot` in the settings or pass --pilot/--controls/--sensors-from",
        )
    if pdf is not None or png is not None:
        doc = render_onepager_pdf(r)
        if pdf is not None:
            pdf.write_bytes(doc)
        if png is not None:
            png.write_bytes(render_png(doc))
    if as_json:
        typer.echo(json.dumps(r, ensure_ascii=False, indent=2))
        return
    for line in summary_lines(r):
        typer.echo(line)


forecast_app = typer.Typer(
    help="数字孪生的预测（期望收益及区间）/ the twin's forecast of the gain", no_args_is_help=True
)


@forecast_app.command("set")
def forecast_set(
    db: Annotated[str, typer.Option("--db", help="database URL")] = DEFAULT_URL,
    factory: Annotated[str | None, typer.Option(help="factory id (default: the only one)")] = None,
    lines: Annotated[str | None, typer.Option(help="the pilot line(s) the forecast is for, comma-separated")] = None,
    metric: Annotated[str, typer.Option(help="efficiency_pct, overtime_h_per_worker_day, dhu_pct, on_time_pct")] = (
        "efficiency_pct"
    ),
    mean: Annotated[float | None, typer.Option(help="expected change (points or hours)")] = None,
    low: Annotated[float | None, typer.Option(help="interval low")] = None,
    high: Annotated[float | None, typer.Option(help="interval high")] = None,
    level: Annotated[float, typer.Option(help="interval level, percent")] = 90.0,
    source: Annotated[str | None, typer.Option(help="where the forecast comes from (model, run)")] = None,
    made_on: Annotated[str | None, typer.Option(help="date the forecast was made, YYYY-MM-DD")] = None,
    file: Annotated[Path | None, typer.Option(help="JSON: one forecast object or a list (same keys)")] = None,
) -> None:
    """记录一条预测 / Record a forecast (from the closed-loop twin, or entered by hand with its source)."""
    from datetime import date

    from ..adapters import master_data, migrate
    from ..adapters.db import make_engine
    from ..roi.did import DID_METRICS
    from ..roi.store import Forecast, add_forecast

    items: list[dict[str, Any]] = []
    if file is not None:
        try:
            raw = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise _fail(f"无法读取 {file.name}：{e}", f"cannot read {file.name}: {e}") from None
        items = raw if isinstance(raw, list) else [raw]
    else:
        items = [
            {"lines": lines, "metric": metric, "mean": mean, "low": low, "high": high, "level_pct": level,
             "source": source, "made_on": made_on}
        ]  # fmt: skip
    engine = make_engine(db)
    try:
        migrate.upgrade(engine)
        f = _factory_of(master_data.load_layouts(engine), factory)
        parsed: list[Forecast] = []
        for i, it in enumerate(items, start=1):
            missing = [k for k in ("lines", "mean", "low", "high", "source", "made_on") if it.get(k) in (None, "")]
            if missing:
                raise _fail(f"第 {i} 条预测缺少 {missing}", f"forecast {i} lacks {missing}")
            if it.get("metric", "efficiency_pct") not in DID_METRICS:
                raise _fail(f"未知指标 {it.get('metric')}", f"unknown metric; one of {list(DID_METRICS)}")
            ln = it["lines"]
            try:
                parsed.append(
                    Forecast(
                        it.get("metric", "efficiency_pct"),
                        tuple(ln.split(",") if isinstance(ln, str) else ln),
                        float(it["mean"]),
                        float(it["low"]),
                        float(it["high"]),
                        float(it.get("level_pct", 90)),
                        str(it["source"]),
                        date.fromisoformat(str(it["made_on"])),
                    )
                )
            except (TypeError, ValueError) as e:
                raise _fail(f"第 {i} 条预测有误：{e}", f"forecast {i} is wrong: {e}") from None
        for fc in parsed:
            try:
                add_forecast(engine, f, fc)
            except ValueError as e:
                raise _fail(str(e), str(e)) from None
    finally:
        engine.dispose()
    typer.echo(f"已记录 {len(parsed)} 条预测 / recorded {len(parsed)} forecast(s)")


@forecast_app.command("compute")
def forecast_compute(
    factory_dir: Annotated[Path, typer.Option("--factory", help="factory folder or .xlsx (master data)")],
    lines: Annotated[str, typer.Option(help="lines to run, comma-separated (default: all)")] = "",
    seeds: Annotated[int, typer.Option(min=1, help="random floors per line")] = 3,
    days: Annotated[int, typer.Option(min=1, help="simulated working days per run")] = 3,
    level: Annotated[float, typer.Option(help="interval level, percent")] = 90.0,
    out: Annotated[
        Path | None, typer.Option(help="write the forecast JSON here (for `roi-forecast set --file`)")
    ] = None,
) -> None:
    """用数字孪生计算预测 / Compute the forecast with the closed-loop twin (seamline vs baseline).

    Prints one JSON object: the change of line efficiency in points with its interval, ready for
    ``roi-forecast set --file``.
    """
    from ..adapters.layout_files import LayoutFileError, load_factory
    from ..domain.model import DomainError
    from ..twin.forecast import forecast_efficiency_gain

    try:
        layout = load_factory(factory_dir)
    except LayoutFileError as e:
        raise _fail(f"工厂数据有误：{e}", f"factory data invalid: {e}") from None
    try:
        fc = forecast_efficiency_gain(
            layout, [x for x in lines.split(",") if x] or None, seeds=seeds, days=days, level_pct=level
        )
    except DomainError as e:
        raise _fail(str(e), str(e)) from None
    text = json.dumps(fc, ensure_ascii=False, indent=2)
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
    typer.echo(text)


@forecast_app.command("list")
def forecast_list(
    db: Annotated[str, typer.Option("--db", help="database URL")] = DEFAULT_URL,
    factory: Annotated[str | None, typer.Option(help="factory id (default: the only one)")] = None,
    lines: Annotated[str, typer.Option(help="pilot line(s), comma-separated")] = "",
) -> None:
    """每个指标最新的预测 / The latest forecast per metric for these lines."""
    from ..adapters import master_data, migrate
    from ..adapters.db import make_engine
    from ..roi.store import latest_forecasts

    engine = make_engine(db)
    try:
        migrate.upgrade(engine)
        f = _factory_of(master_data.load_layouts(engine), factory)
        got = latest_forecasts(engine, f, [x for x in lines.split(",") if x])
    finally:
        engine.dispose()
    typer.echo(json.dumps([fc.as_dict() for fc in got.values()], ensure_ascii=False, indent=2))


def register(app: typer.Typer) -> None:
    app.command("roi")(roi)
    app.command("pilot-import")(pilot_import)
    app.command("pilot")(pilot_report)
    app.add_typer(forecast_app, name="roi-forecast")
