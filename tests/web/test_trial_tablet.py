"""The tablet's exploration trial (issue #21): computed beside the own next task from the plan and
the WIP, shown apart, never taking a bundle another station's own work needs, gone when its bundle
is; the line page lists the trials running (in-process, the hand-made factory, both engines)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from seamline.bootstrap import Runtime, bootstrap
from seamline.entrypoints.api import create_app
from seamline.planning.dispatch.next_task import ReadyBundle
from seamline.service_layer.ingest import RawEvent
from seamline.service_layer.line_direction import ReadyItem, choose_trial, director

from .factory import at, layout

_n = 0


def _post(rt: Runtime, *evs: dict[str, Any]) -> None:
    global _n
    raws = []
    for e in evs:
        _n += 1
        body = {**e, "id": f"tr{_n}", "seq": _n, "factory": "F", "ts": e["ts"].isoformat()}
        raws.append(RawEvent(payload=json.dumps(body).encode()))
    res = rt.worker.submit_future(raws).result(10)
    assert res.accepted == len(evs)
    director(rt)._ready.clear()  # WIP and directions are read up to 2 s old: the test does not wait
    director(rt)._dirs.clear()


def _sew_a(bundle: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [
        {"type": "bundle_in", "station": "S1", "bundle": bundle, "ts": start},
        {"type": "piece", "station": "S1", "bundle": bundle, "op": "A", "qty": 10, "ts": end},
        {"type": "bundle_out", "station": "S1", "bundle": bundle, "ts": end},
    ]


def test_the_trial_gets_a_bundle_left_after_the_own_work_and_goes_when_none_is(db_url: str) -> None:
    """S2 sews waistbands (B); W3 at S3 (hemming, C: nothing ready for her yet) is to try B. With
    two bundles ready for B, S2's own next task takes the first and the trial gets the other; with
    one, the trial is not shown (S2 needs it) and S3's tablet shows its own work only."""
    rt = bootstrap(db_url)
    try:
        rt.save_layout(layout())
        lay = rt.layouts["F"]
        _post(
            rt,
            *[{"type": "login", "station": f"S{i}", "worker": f"W{i}", "ts": at(8, 0)} for i in (1, 2, 3)],
            *_sew_a("B1", at(8, 1), at(8, 15)),
            *_sew_a("B2", at(8, 16), at(8, 30)),
            {"type": "bundle_in", "station": "S2", "bundle": "B1", "ts": at(8, 31)},
            {"type": "piece", "station": "S2", "bundle": "B1", "op": "B", "qty": 4, "ts": at(8, 35)},
        )
        day_start = at(0)
        dr = director(rt)
        started, ended = dr.trial_store.set_line("F", "L", "S1", {"W3": ("S3", "B")}, "组长 / leader", at(8, 36))
        assert (started, ended) == (1, 0)
        # handing out the same set again changes nothing (the trial keeps its start)
        assert dr.trial_store.set_line("F", "L", "S1", {"W3": ("S3", "B")}, "x", at(8, 50)) == (0, 0)
        dr.forget_trials("F", "L")
        _post(rt, {"type": "piece", "station": "S2", "bundle": "B1", "op": "B", "qty": 1, "ts": at(8, 37)})

        dirs = dr.directions(lay, rt.live, "L", day_start)
        assert (dirs["S2"].next.op_code, dirs["S2"].next.bundle_id) == ("B", "B2")
        assert dirs["S3"].trial is None  # the only bundle for B is S2's own next task
        assert dirs["S3"].next.op_code == "C"  # her own work: waiting for hems
        client = TestClient(create_app(rt))
        s3 = client.get("/web/data/station?key=S3&lang=en").json()
        assert s3["trial"] is None and s3["next"]["op"] == "C"

        # S1 puts down a third bundle: one is left after S2's own next task, and it is S3's trial
        _post(rt, *_sew_a("B3", at(8, 38), at(8, 52)))
        dirs = dr.directions(lay, rt.live, "L", day_start)
        assert (dirs["S2"].next.op_code, dirs["S2"].next.bundle_id) == ("B", "B2")
        t = dirs["S3"].trial
        assert t is not None and (t.op_code, t.bundle_id, t.holder, t.in_hand) == ("B", "B3", "S1", False)
        assert dirs["S3"].next.op_code == "C"  # the own next task is unchanged beside it
        en = client.get("/web/data/station?key=S3&lang=en").json()
        assert en["trial"]["text"] == "Trial: 1 bundle of Attach waistband — to learn your time"
        assert en["trial"]["where"] == "Fetch bundle B3 at S1 · when your own work leaves you free"
        assert en["trial"]["bundle"] == "B3" and en["next"]["op"] == "C"
        zh = client.get("/web/data/station?key=S3").json()
        assert zh["trial"]["text"] == "试做：上腰 1 扎 — 学习您的效率"
        assert zh["trial"]["where"] == "去 S1 取扎 B3 · 本工序空闲时做"
        assert client.get("/web/data/station?key=S2&lang=en").json()["trial"] is None
        line = client.get("/web/data/line?key=L&lang=en").json()
        assert [(x["station"], x["op"]) for x in line["trials"]] == [("S3", "B")]
        assert line["trials"][0]["text"].startswith("S3 工人3: trying Attach waistband since ")

        # She takes it: the tablet says the trial is in hand
        _post(
            rt,
            {"type": "bundle_in", "station": "S3", "bundle": "B3", "ts": at(8, 53)},
            {"type": "piece", "station": "S3", "bundle": "B3", "op": "B", "qty": 1, "ts": at(8, 55)},
        )
        t = dr.directions(lay, rt.live, "L", day_start)["S3"].trial
        assert t is not None and (t.bundle_id, t.in_hand) == ("B3", True)
        assert client.get("/web/data/station?key=S3").json()["trial"]["text"] == "试做中：上腰 — 学习您的效率"

        # the controller ends the trial: nothing on the tablet, nothing on the line page
        assert dr.trial_store.set_line("F", "L", "S1", {}, "x", at(8, 56)) == (0, 1)
        dr.forget_trials("F", "L")
        _post(rt, {"type": "piece", "station": "S3", "bundle": "B3", "op": "B", "qty": 1, "ts": at(8, 57)})
        assert dr.directions(lay, rt.live, "L", day_start)["S3"].trial is None
        assert client.get("/web/data/line?key=L&lang=en").json()["trials"] == []
    finally:
        rt.close()


def test_a_trial_never_takes_work_a_holder_of_its_operation_lacks() -> None:
    b = ReadyItem(ReadyBundle("B9", "B", 10, at(8), "S1"), None)
    assert choose_trial("S3", "B", [b], set(), holders_short=False) is not None
    assert choose_trial("S3", "B", [b], set(), holders_short=True) is None  # its holder would wait
    assert choose_trial("S3", "B", [b], {("B9", "B")}, holders_short=False) is None  # taken by own work
    busy = ReadyItem(ReadyBundle("B9", "B", 10, at(8), "S1"), "S1")  # in work at S1
    assert choose_trial("S3", "B", [busy], set(), holders_short=False) is None
    assert choose_trial("S3", "C", [b], set(), holders_short=False) is None  # another operation
