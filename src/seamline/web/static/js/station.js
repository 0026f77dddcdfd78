// Station tablet: shows the station's state, sends taps as sensor-protocol events.
// Taps go to a queue in localStorage first and are removed only after the server answered, so a
// network drop loses nothing; every event carries a unique id, so a retry of a request that did
// arrive is counted as a duplicate by the server, never stored twice.
(function () {
  "use strict";
  const d0 = SL.data;
  const station = d0.station;
  const QUEUE_KEY = "seamline.queue." + station;
  const SEQ_KEY = "seamline.seq." + station;
  const OFFSET_KEY = "seamline.clockOffset." + station;
  let state = d0;
  let flushing = false;
  let lastFailed = false;
  let retryTimer = null;
  let holdTimer = null;
  // A defect tap waits this long in the queue before it is numbered and sent, with an undo button:
  // defects reduce pay and gloved mis-taps happen. Undone, it never reaches the server, and since
  // `seq` is given only when an event is released, an undone tap leaves no gap in the sequence.
  const UNDO_MS = 15000;

  function uuid() {
    // crypto.randomUUID needs a secure context; a tablet on the factory LAN is often plain http.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function loadQueue() { try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; } }
  function saveQueue(q) { localStorage.setItem(QUEUE_KEY, JSON.stringify(q)); }
  function nextSeq() {
    const n = parseInt(localStorage.getItem(SEQ_KEY) || "-1", 10) + 1;
    localStorage.setItem(SEQ_KEY, String(n));
    return n;
  }
  // Event times follow the factory clock the server reports (the latest event time): equal to the
  // wall clock in production, the simulated clock in the demo. Never more than 4 min ahead, except
  // under the demo's own factory clock (the server then checks event times against that clock).
  const demoClock = !!document.getElementById("demo-clock");
  function noteClock(iso) {
    const off = Date.parse(iso) - Date.now();
    if (!isNaN(off)) localStorage.setItem(OFFSET_KEY, String(demoClock ? off : Math.min(off, 4 * 60 * 1000)));
  }
  function stamp() {
    const off = parseFloat(localStorage.getItem(OFFSET_KEY) || "0") || 0;
    return new Date(Date.now() + off).toISOString();
  }

  function held(e) { return !!e.hold && e.hold > Date.now(); }
  function undoButton(q) {
    const b = SL.$("t-undo");
    const last = q.filter(held).pop();
    b.hidden = !last;
    if (last) {
      const label = (document.querySelector(`button.defect[data-code="${last.defect}"]`) || {}).textContent || last.defect;
      b.textContent = SL.t("undo_defect", { defect: label });
      b.dataset.id = last.id;
    }
  }
  function scheduleHold(q) {
    const next = q.filter(held).map((e) => e.hold);
    clearTimeout(holdTimer);
    if (next.length) holdTimer = setTimeout(flush, Math.max(0, Math.min(...next) - Date.now()) + 20);
  }

  // The bundle's defects: the server's count plus this tablet's taps not yet answered (held ones
  // too: the worker sees the tap count at once, and an undo takes it back off).
  function renderDefects() {
    if (!state.bundle) { SL.text("t-bundle-defects", "–"); return; }
    const mine = loadQueue().filter((e) => e.type === "defect" && e.bundle === state.bundle).reduce((n, e) => n + (e.qty || 1), 0);
    SL.text("t-bundle-defects", String((state.bundle_defects || 0) + mine));
  }

  // Data age. The page data is fresh while its stream is open (the server pushes every change);
  // once the stream is down, the age counts from the last moment it was up. A page the service
  // worker answered from its cache carries <meta name="sl-cached-at">: when that copy was fetched.
  // The latest data the stream brought is kept too: a copy from the cache shows it if it is newer.
  const STALE_MS = 60000;
  const LAST_KEY = "seamline.last." + station;
  const cachedAt = document.querySelector('meta[name="sl-cached-at"]');
  let freshAt = cachedAt ? Number(cachedAt.content) || 0 : Date.now();
  let downSince = null;
  let gotStream = false, keptAt = 0;
  function keepLast(d) {
    keptAt = Date.now();
    try { localStorage.setItem(LAST_KEY, JSON.stringify({ at: Date.now(), lang: SL.page.lang, data: d })); } catch (e) { /* full: no copy */ }
  }
  function lastKept() {
    if (!cachedAt) return null;
    try {
      const k = JSON.parse(localStorage.getItem(LAST_KEY) || "null");
      return k && k.at > freshAt && k.lang === SL.page.lang && k.data && k.data.station === station ? k : null;
    } catch (e) { return null; }
  }
  function streamDown() { return downSince !== null && Date.now() - downSince > 5000; }
  function ageTick() {
    const now = Date.now();
    if (SL.streamUp()) {
      freshAt = now; downSince = null;
      if (gotStream && now - keptAt > 5000) keepLast(SL.data);  // still current: say so in the copy
    } else if (downSince === null) downSince = now;
    const age = now - freshAt;
    const el = SL.$("t-age");
    const stale = age > STALE_MS;
    el.hidden = !stale;
    if (stale) el.textContent = SL.t("data_age", { n: Math.floor(age / 60000) });
    document.body.dataset.stale = String(stale);
    badge();
  }

  function badge() {
    const q = loadQueue();
    undoButton(q);
    renderDefects();
    const net = SL.$("net");
    const offline = !navigator.onLine || lastFailed || streamDown();
    if (offline) {
      net.hidden = false; net.className = "net offline"; net.textContent = SL.t("offline_queued", { n: q.length });
    } else if (q.length) {
      net.hidden = false; net.className = "net sending"; net.textContent = SL.t("sending", { n: q.length });
    } else {
      net.hidden = true;
    }
    document.body.dataset.queued = String(q.length);
  }

  function scheduleRetry() {
    if (retryTimer) return;
    retryTimer = setTimeout(() => { retryTimer = null; flush(); }, 2000);
  }

  async function flush() {
    if (flushing) return;
    const q = loadQueue();
    scheduleHold(q);
    // Number what may go now and store that before sending, so a retry repeats the same content.
    let numbered = false;
    q.forEach((e) => { if (!held(e) && e.seq === undefined) { e.seq = nextSeq(); numbered = true; } });
    if (numbered) saveQueue(q);
    const ready = q.filter((e) => !held(e));
    if (!ready.length) { lastFailed = false; badge(); return; }
    flushing = true;
    const batch = ready.slice(0, 200).map((e) => { const out = Object.assign({}, e); delete out.hold; return out; });
    try {
      const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
      const res = await fetch("/api/v1/events", {
        method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify(batch), credentials: "same-origin",
      });
      if (res.status >= 500) throw new Error("server " + res.status);
      // Not paired (any more), or paired to another station: keep every tap until someone re-pairs
      // the tablet; dropping them would lose the worker's pieces.
      if (res.status === 401 || res.status === 403) {
        lastFailed = true;
        toast(SL.t("not_paired"));
        return;
      }
      // 2xx: accepted, duplicate or rejected (kept in the quarantine with a reason): done either way.
      // 4xx on the whole batch cannot get better by retrying; drop it rather than block the queue.
      const sent = new Set(batch.map((e) => e.id));
      saveQueue(loadQueue().filter((e) => !sent.has(e.id)));
      lastFailed = false;
      toast(SL.t("sent"));
    } catch (e) {
      lastFailed = true;
      scheduleRetry();
    } finally {
      flushing = false;
      badge();
    }
    if (!lastFailed && loadQueue().some((e) => !held(e))) flush();
  }

  function enqueue(ev, holdMs) {
    const q = loadQueue();
    q.push(Object.assign({
      id: uuid(), ts: stamp(), factory: state.factory, station: station, source: "tablet",
    }, holdMs ? { hold: Date.now() + holdMs } : {}, ev));
    saveQueue(q);
    toast(SL.t("queued"));
    badge();
    flush();
  }

  let toastTimer = null;
  function toast(msg) {
    const t = SL.$("t-toast");
    t.textContent = msg; t.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => t.classList.remove("show"), 1500);
  }

  function render(d) {
    state = d;
    noteClock(d.clock);
    SL.text("t-worker", d.worker_name || "–");
    SL.text("t-badge", d.worker || "");
    if (d.current) {
      SL.text("t-op", d.current.name);
      SL.text("t-sam", d.current.sam_txt);
    } else {
      SL.text("t-op", SL.t("no_task"));
      SL.text("t-sam", "–");
    }
    SL.text("t-bundle", d.bundle || "–");
    SL.text("t-order", d.order || "–");
    SL.text("t-instr", d.instruction || "");
    const hours = SL.$("t-hours");
    hours.textContent = (d.hours_alerts || []).join(" · ");
    hours.hidden = !(d.hours_alerts && d.hours_alerts.length);
    SL.text("t-next", d.next ? d.next.name : "–");
    SL.text("t-next-kind", d.next_kind_label);
    SL.text("t-next-bundle", d.next && d.next.bundle ? d.next.bundle : "");
    SL.text("t-wip", d.wip_txt);
    SL.text("t-pieces", d.pieces_hour_txt);
    SL.text("t-target", d.target_hour_txt);
    SL.$("t-bar").style.width = d.hour_pct.toFixed(0) + "%";
    const eff = SL.$("t-eff");
    eff.textContent = d.eff_txt; eff.className = "band-" + d.eff_band;
    const st = SL.$("t-status");
    st.textContent = d.status_label; st.className = "status-" + d.status;
    SL.text("t-clock", SL.t("last_update", { time: d.clock_txt }));
    SL.$("t-earn-fig").hidden = !d.earnings;
    SL.text("t-earn", d.earnings_txt || "");
    renderDefects();
    const canDefect = !!(d.bundle && d.current);
    document.querySelectorAll("button.defect").forEach((b) => { b.disabled = !canDefect; });
    const open = new Set(d.downtime.map((x) => x.code));
    document.querySelectorAll("button.downtime").forEach((b) => {
      const on = open.has(b.dataset.code);
      b.classList.toggle("active", on);
      b.textContent = on ? SL.t("end_downtime", { reason: b.dataset.label }) : b.dataset.label;
    });
  }

  document.querySelectorAll("button.defect").forEach((b) => b.addEventListener("click", () => {
    if (!state.bundle || !state.current) { toast(SL.t("no_bundle")); return; }
    enqueue({ type: "defect", bundle: state.bundle, op: state.current.op, defect: b.dataset.code, qty: 1 }, UNDO_MS);
  }));
  SL.$("t-undo").addEventListener("click", (ev) => {
    const id = ev.currentTarget.dataset.id;
    const q = loadQueue();
    const left = q.filter((e) => !(e.id === id && held(e)));  // too late once released: it is on its way
    if (left.length !== q.length) { saveQueue(left); toast(SL.t("defect_undone")); }
    badge();
  });
  document.querySelectorAll("button.downtime").forEach((b) => b.addEventListener("click", () => {
    const on = b.classList.contains("active");
    enqueue({ type: "downtime", reason: b.dataset.code, phase: on ? "end" : "start" });
    // Show the new phase at once; the next snapshot confirms it.
    b.classList.toggle("active", !on);
    b.textContent = !on ? SL.t("end_downtime", { reason: b.dataset.label }) : b.dataset.label;
  }));

  // --- bundle tickets: camera (BarcodeDetector, else the vendored jsQR), a USB/Bluetooth scanner
  // that types the code + Enter, or the code typed by hand. The ticket's QR is the bare bundle id
  // (materials/tickets.py). Scanning sends `bundle_in`; "bundle done" (or scanning the next bundle)
  // sends the operation's remaining pieces of the bundle (its quantity less what was reported)
  // and `bundle_out`. Both go through the same offline queue as every other tap.
  const OPEN_KEY = "seamline.bundle." + station;
  function localOpen() { try { return JSON.parse(localStorage.getItem(OPEN_KEY) || "null"); } catch (e) { return null; } }
  function setLocalOpen(v) { if (v) localStorage.setItem(OPEN_KEY, JSON.stringify(v)); else localStorage.removeItem(OPEN_KEY); }
  function openBundle() {
    // What this tablet did last wins until the server's snapshot has caught up with it.
    const loc = localOpen();
    if (loc && loc.bundle) return loc;
    if (loc && loc.closed && loc.closed === state.open_bundle) return null;
    return state.open_bundle ? { bundle: state.open_bundle } : null;
  }
  function renderScan() {
    const o = openBundle();
    SL.text("t-scan-bundle", o ? o.bundle : "–");
    let txt = "";
    if (o && state.open_bundle === o.bundle && state.bundle_qty) {
      txt = SL.t("counted", { n: (state.bundle_reported || 0) + (state.bundle_counted || 0), qty: state.bundle_qty });
    }
    SL.text("t-scan-count", txt);
    SL.$("bundle-done").disabled = !o;
  }
  function bundleDone() {
    const o = openBundle();
    if (!o) { toast(SL.t("no_bundle")); return; }
    const same = state.open_bundle === o.bundle;
    const op = (same && state.bundle_op) || (state.current && state.current.op) || null;
    const qty = same && state.bundle_qty ? state.bundle_qty : null;
    const left = qty !== null ? qty - (state.bundle_reported || 0) : 0;
    if (op && left > 0) enqueue({ type: "piece", bundle: o.bundle, op: op, qty: left });
    else if (!op) toast(SL.t("no_op"));
    enqueue({ type: "bundle_out", bundle: o.bundle });
    setLocalOpen({ bundle: null, closed: o.bundle });
    toast(SL.t("bundle_done", { bundle: o.bundle, n: Math.max(left, 0) }));
    renderScan();
  }
  function scanned(raw) {
    const code = String(raw || "").trim();
    if (!code) return;
    const o = openBundle();
    if (o && o.bundle === code) { toast(SL.t("same_bundle", { bundle: code })); return; }
    if (o) bundleDone();
    enqueue({ type: "bundle_in", bundle: code });
    setLocalOpen({ bundle: code });
    toast(SL.t("bundle_started", { bundle: code }));
    renderScan();
    stopCamera();
  }
  SL.$("scan-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const inp = SL.$("scan-input");
    scanned(inp.value);
    inp.value = "";
  });
  SL.$("bundle-done").addEventListener("click", bundleDone);
  // A keyboard-wedge scanner types fast and ends with Enter, wherever the focus is.
  let kbuf = "", klast = 0;
  document.addEventListener("keydown", (e) => {
    if (e.target && e.target.id === "scan-input") return;
    const now = Date.now();
    if (now - klast > 200) kbuf = "";  // scanners type within ms; keep slack for slow Bluetooth ones
    klast = now;
    if (e.key === "Enter") { if (kbuf.length >= 3) { scanned(kbuf); e.preventDefault(); } kbuf = ""; return; }
    if (e.key.length === 1) kbuf += e.key;
  });

  let camStream = null, camTimer = null, detector = null;
  function loadJsQR() {
    if (window.jsQR) return Promise.resolve(window.jsQR);
    return new Promise((ok, fail) => {
      const s = document.createElement("script");
      s.src = window.SL_JSQR; s.onload = () => ok(window.jsQR); s.onerror = fail;
      document.head.appendChild(s);
    });
  }
  async function makeDetector() {
    if ("BarcodeDetector" in window) {
      try {
        const formats = await window.BarcodeDetector.getSupportedFormats();
        if (formats.includes("qr_code")) {
          const bd = new window.BarcodeDetector({ formats: ["qr_code"] });
          return async (video) => { const r = await bd.detect(video); return r.length ? r[0].rawValue : null; };
        }
      } catch (e) { /* fall back to jsQR */ }
    }
    const jsQR = await loadJsQR();
    const canvas = SL.$("scan-canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    return async (video) => {
      const w = video.videoWidth, h = video.videoHeight;
      if (!w || !h) return null;
      canvas.width = w; canvas.height = h;
      ctx.drawImage(video, 0, 0, w, h);
      const r = jsQR(ctx.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
      return r ? r.data : null;
    };
  }
  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { toast(SL.t("no_camera")); return; }
    try {
      camStream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    } catch (e) { toast(SL.t("no_camera")); return; }
    const video = SL.$("scan-video");
    video.srcObject = camStream;
    SL.$("scan-view").hidden = false;
    await video.play();
    detector = detector || await makeDetector();
    const tick = async () => {
      if (!camStream) return;
      let code = null;
      try { code = await detector(video); } catch (e) { code = null; }
      if (code) { scanned(code); return; }
      camTimer = setTimeout(tick, 150);
    };
    tick();
  }
  function stopCamera() {
    if (camTimer) clearTimeout(camTimer);
    camTimer = null;
    if (camStream) camStream.getTracks().forEach((t) => t.stop());
    camStream = null;
    SL.$("scan-view").hidden = true;
  }
  SL.$("scan-camera").addEventListener("click", startCamera);
  SL.$("scan-stop").addEventListener("click", stopCamera);
  window.addEventListener("online", () => { lastFailed = false; flush(); });
  window.addEventListener("offline", badge);
  SL.$("lang-toggle").addEventListener("click", (e) => {
    e.preventDefault();
    location.search = "?lang=" + encodeURIComponent(e.currentTarget.getAttribute("href").split("=")[1]);
  });

  function renderAll(d) {
    render(d);
    // The server has seen the local scan (or another device closed the bundle): follow it.
    const loc = localOpen();
    if (loc && ((loc.bundle && d.open_bundle === loc.bundle) || (loc.closed && d.open_bundle !== loc.closed))) setLocalOpen(null);
    renderScan();
  }
  const kept = lastKept();
  if (kept) { freshAt = kept.at; SL.data = kept.data; renderAll(kept.data); } else renderAll(d0);
  badge();
  flush();
  SL.stream((d) => { gotStream = true; keepLast(d); renderAll(d); });
  setInterval(ageTick, 1000);
  ageTick();
  // Installable app: the service worker keeps the station page, its scripts, styles and fonts, so
  // a reload with the network down still opens the station and its queue (docs/pages.md).
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/station/" }).catch(() => { /* plain page still works */ });
  }
  window.SL_TABLET = { flush: flush, queue: loadQueue, scanned: scanned, bundleDone: bundleDone };
})();
