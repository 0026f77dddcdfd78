"""The tablet scans a bundle ticket's QR through Chromium's fake camera (issue #20).

The camera "sees" a video made from the very QR the ticket PDF prints (materials/tickets.py
``qr_matrix``); the page decodes it (BarcodeDetector where the browser has one, else the vendored
jsQR), sends ``bundle_in`` and shows the bundle; "bundle done" reports the bundle's remaining pieces
for the station's operation and ``bundle_out``. Everything goes through the offline queue.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seamline.materials.tickets import qr_matrix
from tests.conftest import CHROMIUM, CHROMIUM_ARGS

from .server import Served


def write_y4m(path: Path, value: str, w: int = 640, h: int = 480, module_px: int = 8, frames: int = 5) -> None:
    """A grey-scale YUV4MPEG2 video of the QR of ``value``, black on white, centred."""
    m = np.array(qr_matrix(value), dtype=bool)
    img = np.where(np.kron(m, np.ones((module_px, module_px), dtype=bool)), 0, 255).astype(np.uint8)
    y = np.full((h, w), 255, dtype=np.uint8)
    oy, ox = (h - img.shape[0]) // 2, (w - img.shape[1]) // 2
    y[oy : oy + img.shape[0], ox : ox + img.shape[1]] = img
    chroma = np.full((h // 2) * (w // 2), 128, dtype=np.uint8).tobytes()
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            f.write(b"FRAME\n" + y.tobytes() + chroma + chroma)


def _free_bundle(served: Served, station: str) -> str:
    """A bundle of the station's current style that no station has in work."""
    rt = served.rt
    f = served.layout.factory.id
    with rt.pipeline.lock:
        st = rt.live.stations[(f, station)]
        style = served.layout.style_of_bundle(st.bundle) if st.bundle else None
        busy = {b for s in rt.live.stations.values() for b in s.wip}
    for bid in reversed(sorted(served.layout.bundles)):
        if bid not in busy and (style is None or served.layout.style_of_bundle(bid) is style):
            return bid
    raise AssertionError("no free bundle")


def _tablet_events(served: Served, station: str, types: tuple[str, ...]) -> list[Any]:
    return [
        ev for _pos, ev in served.rt.store.iter_events(types=types) if ev.station == station and ev.source == "tablet"
    ]


def test_camera_scan_of_a_ticket_starts_the_bundle_and_done_reports_the_rest(
    served: Served, browser: Any, tmp_path: Path, artifacts: Path
) -> None:
    f = served.layout.factory.id
    with served.rt.pipeline.lock:
        sid = next(
            s for (pf, s), st in sorted(served.rt.live.stations.items()) if pf == f and st.line == "L1" and st.op
        )
    bundle = _free_bundle(served, sid)
    video = tmp_path / "ticket.y4m"
    write_y4m(video, bundle)
    cam = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    try:
        ctx = cam.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN", timezone_id="Asia/Shanghai")
        ctx.grant_permissions(["camera"], origin=served.url)
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{served.url}/station/{sid}")
        page.wait_for_function("() => document.body.dataset.events !== undefined", timeout=10_000)
        before_in = len(_tablet_events(served, sid, ("bundle_in",)))

        page.click("#scan-camera")
        page.wait_for_function(
            f"() => document.getElementById('t-scan-bundle').textContent === {bundle!r}", timeout=15_000
        )
        page.wait_for_function("() => document.body.dataset.queued === '0'", timeout=10_000)
        ins = _tablet_events(served, sid, ("bundle_in",))
        assert len(ins) == before_in + 1 and ins[-1].bundle == bundle
        # The live snapshot follows: the tablet's header shows the scanned bundle.
        page.wait_for_function(f"() => document.getElementById('t-bundle').textContent === {bundle!r}", timeout=10_000)
        assert page.locator("#scan-view").is_hidden()  # the camera closes after a read
        page.screenshot(path=str(artifacts / "station-scan-zh.png"))

        # Bundle done: the bundle's whole quantity (nothing reported yet) for the station's op.
        qty = served.layout.bundles[bundle].qty
        page.wait_for_function(f"() => SL.data.open_bundle === {bundle!r}", timeout=10_000)
        op = page.evaluate("() => SL.data.bundle_op || (SL.data.current && SL.data.current.op)")
        page.click("#bundle-done")
        page.wait_for_function("() => document.body.dataset.queued === '0'", timeout=10_000)
        pieces = [e for e in _tablet_events(served, sid, ("piece",)) if e.bundle == bundle]
        outs = [e for e in _tablet_events(served, sid, ("bundle_out",)) if e.bundle == bundle]
        assert [(p.op, p.qty) for p in pieces] == [(op, qty)]
        assert len(outs) == 1 and outs[0].seq == pieces[0].seq + 1
        assert errors == []
    finally:
        cam.close()


def test_scanner_typing_the_code_and_enter_starts_the_bundle(served: Served, context: Any) -> None:
    """A USB / Bluetooth scanner is a keyboard: the code arrives as fast keystrokes and Enter."""
    f = served.layout.factory.id
    with served.rt.pipeline.lock:
        sid = [s for (pf, s), st in sorted(served.rt.live.stations.items()) if pf == f and st.line == "L1"][-1]
    bundle = _free_bundle(served, sid)
    page = context.new_page()
    page.goto(f"{served.url}/station/{sid}")
    page.wait_for_function("() => document.body.dataset.events !== undefined", timeout=10_000)
    page.keyboard.type(bundle, delay=5)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.body.dataset.queued === '0'", timeout=10_000)
    ins = [e for e in _tablet_events(served, sid, ("bundle_in",)) if e.bundle == bundle]
    assert len(ins) == 1


def test_a_bundle_typed_offline_is_queued_and_sent_when_back(served: Served, context: Any) -> None:
    """Manual entry while the network is down: the scan waits in the tablet's queue, then arrives once."""
    f = served.layout.factory.id
    with served.rt.pipeline.lock:
        sid = [s for (pf, s), st in sorted(served.rt.live.stations.items()) if pf == f and st.line == "L1"][-2]
    bundle = _free_bundle(served, sid)
    page = context.new_page()
    page.goto(f"{served.url}/station/{sid}")
    page.wait_for_function("() => document.body.dataset.events !== undefined", timeout=10_000)
    context.set_offline(True)
    page.fill("#scan-input", bundle)
    page.press("#scan-input", "Enter")
    page.wait_for_function("() => Number(document.body.dataset.queued) >= 1", timeout=5_000)
    assert page.inner_text("#t-scan-bundle") == bundle  # shown at once, from the tablet's own record
    assert not [e for e in _tablet_events(served, sid, ("bundle_in",)) if e.bundle == bundle]
    context.set_offline(False)
    page.wait_for_function("() => document.body.dataset.queued === '0'", timeout=15_000)
    assert len([e for e in _tablet_events(served, sid, ("bundle_in",)) if e.bundle == bundle]) == 1
