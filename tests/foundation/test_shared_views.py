"""Pages of one tick share one frozen view and the figures computed from it (issue #19): the
shared, memoised figures are exactly those computed afresh from live state, and a view is taken
again once an event was applied."""

from __future__ import annotations

from datetime import timedelta

from seamline.bootstrap import bootstrap
from seamline.domain.live import LiveState
from seamline.service_layer.waiting import WaitingProjection
from seamline.web import views
from seamline.web.i18n import Fmt
from seamline.web.progress import attach
from seamline.web.routes import SharedViews
from tests.conftest import tiny_layout
from tests.foundation.test_history import DAY0, day_events, process


def _figures(live: LiveState, as_of):  # type: ignore[no-untyped-def]
    day_start, day_end = live.day_bounds("f1", as_of)
    out = {"line_live": live.line_live("f1", "L1", as_of)}
    for scope in ("worker", "station", "line", "factory"):
        out[scope] = live.efficiency("f1", scope, day_start, day_end, as_of, hourly=True)
        # a page's stations, in either order, and one station alone
        for stations in (["S1", "S2"], ["S2", "S1"], ["S2"], None):
            t = live.tallies("f1", scope, day_start, day_end, as_of, stations)
            out[f"{scope}-{stations}"] = {k: {h: v.as_dict() for h, v in hs.items()} for k, hs in t.items()}
    return out


def test_memoised_figures_of_a_view_are_the_fresh_ones(db_url: str) -> None:
    rt = bootstrap(db_url, start_worker=False, retain_days=1.0)
    try:
        rt.save_layout(tiny_layout())
        process(rt, day_events(DAY0 - timedelta(days=1), "y"))
        events = day_events(DAY0, "t")
        noon = DAY0.replace(hour=12)
        process(rt, [p for p in events if p.split(b'"ts": "')[1][:25].decode() < noon.isoformat()])
        as_of = DAY0.replace(hour=11, minute=37)  # sessions are open: their minutes are cut per hour
        with rt.pipeline.lock:
            view = rt.live.frozen_view()
        assert rt.live.view_memo is None and view.view_memo == {}
        fresh = _figures(rt.live, as_of)  # the writer's state memoises nothing
        first = _figures(view, as_of)
        assert view.view_memo  # something was kept …
        assert _figures(view, as_of) == first == fresh  # … and gives the same figures again
        assert fresh["line_live"]["today"]["attended_min"] > 0

        fmt = Fmt("en")
        lay = rt.layouts["f1"]
        assert views.line_data(view, lay, "L1", fmt) is views.line_data(view, lay, "L1", fmt)
        assert views.line_data(view, lay, "L1", fmt) == views.line_data(rt.live, lay, "L1", fmt)

        wp = rt.projection("waiting")
        assert isinstance(wp, WaitingProjection)
        wv = wp.frozen_view()
        day = as_of.date()
        assert wv.waiting_s("f1", day, as_of) == wp.waiting_s("f1", day, as_of)
        assert wv.waiting_s("f1", day, as_of, {"S2"}) == wp.waiting_s("f1", day, as_of, {"S2"})
        assert wv.waiting_now("f1") == wp.waiting_now("f1")
    finally:
        rt.close()


def test_pages_of_one_version_share_a_view_and_a_new_event_takes_a_new_one(db_url: str) -> None:
    rt = bootstrap(db_url, start_worker=False, retain_days=1.0)
    try:
        rt.save_layout(tiny_layout())
        events = day_events(DAY0, "s")
        process(rt, events[:10])
        shared = SharedViews(rt, attach(rt))
        live, prog = shared.get()
        assert shared.get() == (live, prog)  # no event since: the same view
        assert isinstance(live.view_memo, dict) and "waiting" in live.view_memo
        process(rt, events[10:12])
        live2, _ = shared.get()
        assert live2 is not live and live2.events_applied == live.events_applied + 2
        shared.forget()  # a directive changed what pages show
        assert shared.get()[0] is not live2
    finally:
        rt.close()


def test_expired_hours_alerts_are_answered_while_one_thread_recomputes_them(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A page read after the alerts expired does not compute them (tens of ms): it gets the last
    ones, and one background thread computes the new ones from the page's frozen view."""
    import threading

    import seamline.service_layer.hours_alerts as ha

    calls: list[bool] = []
    gate = threading.Event()

    def fake(live, layout):  # type: ignore[no-untyped-def]
        calls.append(live.view_memo is not None)
        if len(calls) > 1:
            gate.wait(5)
        return [{"n": len(calls)}]

    monkeypatch.setattr(ha, "hours_alerts", fake)
    cache = ha.HoursAlertCache(ttl_s=0.0)
    lay = tiny_layout()
    live = LiveState({"f1": lay})
    assert cache.get(live, lay) == [{"n": 1}]  # the first time: computed in place
    view = live.frozen_view()
    assert cache.get(view, lay) == [{"n": 1}]  # expired: the old answer, a refresh started …
    assert cache.get(view, lay) == [{"n": 1}]  # … only one
    gate.set()
    for _ in range(100):
        if cache.get(view, lay) == [{"n": 2}]:
            break
        threading.Event().wait(0.02)
    assert calls[:2] == [False, True] and cache.get(view, lay)[0]["n"] >= 2
