// Planner: the planning board (lines × days, a bar per order, today line, due markers), the
// what-if of a move (drag with mouse or touch, or select + move buttons), orders, line balance.
// Nothing changes until the what-if is confirmed; cancel puts the bar back.
(function () {
  "use strict";
  const boardEl = SL.$("board");
  const tip = SL.$("board-tip");
  const DAY_W = 72; // px per day (the board scrolls sideways inside its frame)
  let data = SL.data;
  let selected = null; // order id
  let pending = null; // {order, line, start}: a what-if on screen (the board is not redrawn meanwhile)
  let lastWhatIf = null;
  let seq = 0;

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const addDays = (iso, n) => {
    const d = new Date(iso + "T00:00:00Z");
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  };
  const dayIndex = (iso) => Math.round((Date.parse(iso + "T00:00:00Z") - Date.parse(data.board.first_day + "T00:00:00Z")) / 86400000);
  const barOf = (order) => data.board.bars.find((b) => b.order === order) || null;

  function renderBoard() {
    const b = data.board;
    SL.text("board-totals", b.totals_txt);
    SL.clear(boardEl);
    const width = b.days.length * DAY_W;
    const head = el("div", "board-row board-days");
    head.appendChild(el("div", "board-label"));
    const dtrack = el("div", "board-track");
    dtrack.style.width = width + "px";
    b.days.forEach((d, i) => {
      const c = el("span", "board-day" + (d.off ? " off" : ""), d.label);
      c.style.left = i * DAY_W + "px";
      c.style.width = DAY_W + "px";
      dtrack.appendChild(c);
    });
    head.appendChild(dtrack);
    boardEl.appendChild(head);
    b.lines.forEach((ln, row) => {
      const r = el("div", "board-row");
      r.dataset.line = ln.id;
      r.dataset.row = String(row);
      const lab = el("div", "board-label");
      lab.appendChild(el("b", "", ln.name));
      lab.appendChild(el("small", "", ln.figures_txt));
      r.appendChild(lab);
      const t = el("div", "board-track");
      t.style.width = width + "px";
      b.days.forEach((d, i) => {
        if (!d.off) return;
        const o = el("span", "board-off");
        o.style.left = i * DAY_W + "px";
        o.style.width = DAY_W + "px";
        t.appendChild(o);
      });
      // Orders sharing days on a line get lanes (one above the other) so no bar hides another.
      const mine = b.bars.filter((x) => x.row === row).sort((p, q) => p.x0 - q.x0 || p.x1 - q.x1);
      const ends = [];
      const lane = new Map();
      mine.forEach((x) => {
        let k = ends.findIndex((e) => e <= x.x0);
        if (k < 0) { k = ends.length; ends.push(0); }
        ends[k] = x.x1;
        lane.set(x.order, k);
      });
      const laneH = ends.length > 1 ? 30 : 40;
      r.style.height = Math.max(52, ends.length * (laneH + 4) + 8) + "px";
      mine.forEach((x) => {
        const e = barEl(x);
        e.style.top = 6 + lane.get(x.order) * (laneH + 4) + "px";
        e.style.height = laneH + "px";
        if (ends.length > 1) e.classList.add("lane");
        t.appendChild(e);
        // The order's due date: a dashed mark in its own lane (end of the due day).
        const due = el("span", "board-due " + x.status);
        due.style.left = Math.max(0, x.due_x * DAY_W - 1) + "px";
        due.style.top = e.style.top;
        due.style.height = laneH + "px";
        due.dataset.order = x.order;
        t.appendChild(due);
      });
      const today = el("span", "board-today");
      today.style.left = b.today_x * DAY_W + "px";
      t.appendChild(today);
      r.appendChild(t);
      boardEl.appendChild(r);
    });
    updateKeys();
  }

  function barEl(x) {
    const bar = el("button", "board-bar " + x.status + (x.moved ? " moved" : "") + (x.order === selected ? " selected" : ""));
    bar.type = "button";
    bar.dataset.order = x.order;
    bar.dataset.line = x.line;
    bar.dataset.start = x.start;
    bar.dataset.status = x.status;
    bar.style.left = x.x0 * DAY_W + "px";
    bar.style.width = Math.max(1, x.x1 - x.x0) * DAY_W - 2 + "px";
    bar.setAttribute("aria-pressed", x.order === selected ? "true" : "false");
    bar.setAttribute("aria-label", x.tip.join("; "));
    bar.appendChild(el("span", "bar-text", x.label));
    if (x.late_txt) bar.appendChild(el("span", "bar-late", x.late_txt));
    bar.addEventListener("pointerenter", () => showTip(bar, x));
    bar.addEventListener("pointerleave", hideTip);
    bar.addEventListener("focus", () => showTip(bar, x));
    bar.addEventListener("blur", hideTip);
    bar.addEventListener("pointerdown", (e) => startDrag(e, bar, x));
    bar.addEventListener("click", () => select(x.order));
    return bar;
  }

  function showTip(bar, x) {
    SL.clear(tip);
    x.tip.forEach((line, i) => tip.appendChild(el(i ? "div" : "b", "", line)));
    const r = bar.getBoundingClientRect();
    tip.hidden = false;
    tip.style.left = Math.max(4, Math.min(window.innerWidth - tip.offsetWidth - 4, r.left + window.scrollX)) + "px";
    tip.style.top = r.bottom + window.scrollY + 4 + "px";
  }
  function hideTip() { tip.hidden = true; }

  // --- drag (Pointer Events: mouse, pen and touch alike) -----------------------------------------
  let drag = null;
  let justDragged = false;
  function startDrag(e, bar, x) {
    if (e.button !== undefined && e.button !== 0) return;
    drag = { bar: bar, x: x, sx: e.clientX, sy: e.clientY, moved: false, id: e.pointerId };
    try { bar.setPointerCapture(e.pointerId); } catch (_e) { /* capture is a nicety */ }
  }
  window.addEventListener("pointermove", (e) => {
    if (!drag || e.pointerId !== drag.id) return;
    const dx = e.clientX - drag.sx, dy = e.clientY - drag.sy;
    if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 6) return;
    drag.moved = true;
    hideTip();
    drag.bar.classList.add("dragging");
    drag.bar.style.transform = "translate(" + dx + "px," + dy + "px)";
    e.preventDefault();
  });
  function endDrag(e, cancelled) {
    if (!drag || e.pointerId !== drag.id) return;
    const d = drag;
    drag = null;
    if (!d.moved) return;
    justDragged = true;
    setTimeout(() => { justDragged = false; }, 0);
    d.bar.classList.remove("dragging");
    if (cancelled) { d.bar.style.transform = ""; return; }
    const rows = Array.from(boardEl.querySelectorAll(".board-row[data-line]"));
    const target = rows.find((r) => { const b = r.getBoundingClientRect(); return e.clientY >= b.top && e.clientY < b.bottom; });
    const line = target ? target.dataset.line : d.x.line;
    const days = Math.round((e.clientX - d.sx) / DAY_W);
    const start = addDays(d.x.start, days);
    if (line === d.x.line && days === 0) { d.bar.style.transform = ""; return; }
    selected = null;
    justDragged = false;
    select(d.x.order);
    justDragged = true;
    propose({ order: d.x.order, line: line, start: start < data.board.first_day ? data.board.first_day : start });
  }
  window.addEventListener("pointerup", (e) => endDrag(e, false));
  window.addEventListener("pointercancel", (e) => endDrag(e, true));

  // --- keyboard: select, then move with buttons ------------------------------------------------
  function select(order) {
    if (justDragged) return;
    selected = order;
    boardEl.querySelectorAll(".board-bar").forEach((b) => {
      const on = b.dataset.order === order;
      b.classList.toggle("selected", on);
      b.setAttribute("aria-pressed", on ? "true" : "false");
    });
    updateKeys();
  }
  function updateKeys() {
    const x = selected ? barOf(selected) : null;
    ["mv-up", "mv-down", "mv-earlier", "mv-later"].forEach((id) => { SL.$(id).disabled = !x; });
    if (x) SL.text("board-selected", x.label);
  }
  function nudge(dLine, dDay) {
    const x = selected ? barOf(selected) : null;
    if (!x) return;
    const base = pending && pending.order === x.order ? pending : { order: x.order, line: x.line, start: x.start };
    const ids = data.board.lines.map((l) => l.id);
    const li = Math.max(0, Math.min(ids.length - 1, ids.indexOf(base.line) + dLine));
    let start = addDays(base.start, dDay);
    if (start < data.board.first_day) start = data.board.first_day;
    if (ids[li] === x.line && start === x.start) { cancel(); return; }
    propose({ order: x.order, line: ids[li], start: start });
  }
  SL.$("mv-up").addEventListener("click", () => nudge(-1, 0));
  SL.$("mv-down").addEventListener("click", () => nudge(1, 0));
  SL.$("mv-earlier").addEventListener("click", () => nudge(0, -1));
  SL.$("mv-later").addEventListener("click", () => nudge(0, 1));

  // --- what-if, confirm, cancel ----------------------------------------------------------------
  function api(path, body) {
    const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
    const q = "?lang=" + encodeURIComponent(SL.page.lang) + (SL.page.key ? "&factory=" + encodeURIComponent(SL.page.key) : "");
    return fetch(path + q, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body),
    }).then((r) => r.json().then((j) => ({ ok: r.ok, status: r.status, body: j })));
  }

  function ghost(move) {
    // The bar is shown where the planner put it (dashed) while the what-if is on screen.
    const x = barOf(move.order);
    const bar = boardEl.querySelector('.board-bar[data-order="' + CSS.escape(move.order) + '"]');
    if (!x || !bar) return;
    const rows = Array.from(boardEl.querySelectorAll(".board-row[data-line]"));
    const from = rows.find((r) => r.dataset.line === x.line), to = rows.find((r) => r.dataset.line === move.line);
    const dy = from && to ? to.getBoundingClientRect().top - from.getBoundingClientRect().top : 0;
    const dx = (dayIndex(move.start) - x.x0) * DAY_W;
    bar.style.transform = "translate(" + dx + "px," + dy + "px)";
    bar.classList.add("proposed");
  }

  function propose(move) {
    pending = move;
    const my = ++seq;
    const panel = SL.$("whatif");
    panel.hidden = false;
    SL.$("wi-busy").hidden = false;
    SL.$("wi-confirm").disabled = true;
    SL.text("wi-error", "");
    document.body.dataset.whatif = "busy";
    renderBoard();
    ghost(move);
    api("/api/v1/plan/what-if", { order: move.order, line: move.line, start: move.start, version: data.board.version })
      .then((r) => {
        if (my !== seq) return;
        SL.$("wi-busy").hidden = true;
        if (!r.ok) { SL.text("wi-error", r.body.detail || String(r.status)); document.body.dataset.whatif = "error"; return; }
        lastWhatIf = r.body;
        renderWhatIf(r.body);
      })
      .catch((err) => { if (my === seq) { SL.$("wi-busy").hidden = true; SL.text("wi-error", String(err)); } });
  }

  function renderWhatIf(w) {
    SL.text("wi-move", w.move_txt);
    const flag = SL.$("wi-feasible");
    flag.textContent = w.feasible_txt;
    flag.className = "wi-flag " + (w.feasible ? "yes" : "no");
    const reasons = SL.$("wi-reasons");
    SL.clear(reasons);
    w.reasons.forEach((t) => reasons.appendChild(el("li", "data", t)));
    (w.hours_warnings || []).forEach((t) => reasons.appendChild(el("li", "data warn", t)));
    const pair = (a, b) => (b === null || b === undefined ? String(a) : a === b ? String(a) : a + " → " + b);
    SL.text("wi-late", pair(w.late_days_before, w.late_days_after));
    SL.text("wi-ot", pair(w.overtime_h_before, w.overtime_h_after) + " h");
    SL.text("wi-co", pair(w.changeovers_before, w.changeovers_after));
    const tb = SL.$("wi-orders");
    SL.clear(tb);
    w.orders.forEach((o) => {
      const tr = el("tr", o.worse ? "risk" : "");
      tr.appendChild(el("td", "data nw", o.order));
      tr.appendChild(el("td", "", o.style_name));
      [[o.line_before, o.line_after], [o.start_before, o.start_after], [o.finish_before, o.finish_after],
        [o.late_before_txt, o.late_after_txt]].forEach((p) => tr.appendChild(el("td", "nw", p[0] === p[1] ? p[0] : p[0] + " → " + p[1])));
      tb.appendChild(tr);
    });
    const lb = SL.$("wi-lines");
    SL.clear(lb);
    w.lines.forEach((l) => {
      const tr = el("tr");
      tr.appendChild(el("td", "", l.line_name));
      tr.appendChild(el("td", "num", pair(l.overtime_h_before, l.overtime_h_after)));
      tr.appendChild(el("td", "num", pair(l.changeovers_before, l.changeovers_after)));
      lb.appendChild(tr);
    });
    const sh = SL.$("wi-short");
    SL.clear(sh);
    w.shortages.forEach((s) => sh.appendChild(el("li", "data" + (s.new ? " band-low" : ""), s.message)));
    if (w.materials_error) sh.appendChild(el("li", "data band-low", w.materials_error));
    SL.$("wi-no-short").hidden = w.shortages.length > 0 || !!w.materials_error;
    SL.$("wi-confirm").disabled = !w.feasible;
    document.body.dataset.whatif = w.feasible ? "feasible" : "infeasible";
  }

  function closePanel() {
    pending = null;
    lastWhatIf = null;
    seq++;
    SL.$("whatif").hidden = true;
    delete document.body.dataset.whatif;
    renderAll(SL.data);
  }
  function cancel() { closePanel(); }
  SL.$("wi-cancel").addEventListener("click", cancel);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && pending) cancel(); });

  SL.$("wi-confirm").addEventListener("click", () => {
    if (!pending || !lastWhatIf || !lastWhatIf.feasible) return;
    SL.$("wi-confirm").disabled = true;
    const m = pending;
    api("/api/v1/plan/moves", { order: m.order, line: m.line, start: m.start, version: lastWhatIf.version })
      .then((r) => {
        if (!r.ok) { SL.text("wi-error", r.body.detail || String(r.status)); SL.$("wi-confirm").disabled = false; return; }
        if (r.body.page) SL.data = Object.assign({}, SL.data, r.body.page);
        document.body.dataset.planVersion = String(r.body.version);
        closePanel();
      })
      .catch((err) => { SL.text("wi-error", String(err)); SL.$("wi-confirm").disabled = false; });
  });

  // --- orders table and line balance -----------------------------------------------------------
  function renderOrders(d) {
    const tb = SL.$("orders");
    SL.clear(tb);
    d.orders.forEach((o) => {
      const tr = el("tr", o.status === "late" ? "late" : o.status === "risk" ? "risk" : "");
      tr.dataset.order = o.order;
      const cell = (txt, cls) => { const td = el("td", cls, txt); tr.appendChild(td); return td; };
      cell(o.order, "data nw"); cell(o.customer, "data"); cell(o.style_name); cell(o.line_name);
      cell(o.qty_txt, "num"); cell(o.done_txt, "num");
      const p = cell("", "progress");
      const bar = el("div", "bar");
      const i = el("i"); i.style.width = o.progress_pct + "%"; bar.appendChild(i);
      p.appendChild(bar); p.appendChild(el("span", "", o.progress_txt));
      cell(o.due_txt, "nw"); cell(o.start_txt, "nw"); cell(o.finish_txt, "nw");
      const st = cell(o.status_txt + (o.late_txt ? " · " + o.late_txt : ""), "nw status-" + o.status);
      st.dataset.status = o.status;
      tb.appendChild(tr);
    });
  }

  function renderBalances(d) {
    const box = SL.$("balances");
    SL.clear(box);
    d.balances.forEach((b) => {
      const sec = el("div", "balance");
      sec.appendChild(el("h3", "", b.line_name + " · " + b.style_name + (b.pitch_label ? " · " + b.pitch_label : "")));
      if (!b.stations.length) sec.appendChild(el("p", "empty", SL.t("no_balance")));
      const tbl = el("table", "grid-table compact");
      if (b.stations.length) {
        const hr = el("tr");
        ["station", "operator", "operations", "std_min_per_garment", "load"].forEach((k) => hr.appendChild(el("th", "", SL.t(k))));
        tbl.appendChild(hr);
      }
      b.stations.forEach((s) => {
        const tr = el("tr");
        const td = (txt, cls) => { const c = el("td", cls, txt); tr.appendChild(c); return c; };
        td(s.station, "nw"); td(s.worker_name, "data nw"); td(s.ops_txt, "ops"); td(s.load_txt, "num");
        const c = td("", "load");
        const bar = el("div", "bar" + (s.load_pct > 115 ? " over" : ""));
        const i = el("i"); i.style.width = Math.min(100, s.load_pct / 1.5) + "%"; bar.appendChild(i);
        c.appendChild(bar); c.appendChild(el("span", "", s.load_pct_txt));
        tbl.appendChild(tr);
      });
      sec.appendChild(tbl);
      if (b.missing_txt) sec.appendChild(el("p", "note missing", b.missing_txt));
      box.appendChild(sec);
    });
  }

  function renderAll(d) {
    data = d;
    SL.setClock(d);
    if (!pending) renderBoard();
    renderOrders(d);
    renderBalances(d);
    document.body.dataset.planVersion = String(d.board.version);
  }
  renderAll(SL.data);
  SL.stream(renderAll);
})();
