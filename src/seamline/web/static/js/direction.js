// Issue #21 on the pages: the tablet's "where to get work" and waiting time; the line page's
// headline (bottleneck, capacity against target), the suggested move and its one-tap accept.
// Loaded before station.js / line.js: it renders its own elements on the first paint and on every
// update of the page's stream (by wrapping SL.stream), and leaves everything else to them.
(function () {
  "use strict";
  function renderStation(d) {
    SL.text("t-next-where", d.next_where || "");
    const dir = SL.$("t-directed");
    if (dir) { dir.textContent = d.directed_txt || ""; dir.hidden = !d.directed_txt; }
    SL.text("t-waiting", d.waiting_txt || "");
    // the exploration trial, apart from the own next task (hidden when there is none or its bundle is gone)
    const tr = SL.$("t-trial");
    if (tr) {
      tr.hidden = !d.trial;
      SL.text("t-trial-text", d.trial ? d.trial.text : "");
      SL.text("t-trial-bundle", d.trial && d.trial.bundle ? d.trial.bundle : "–");
      SL.text("t-trial-where", d.trial ? d.trial.where : "");
    }
  }
  function renderTrials(d) {
    const ul = SL.$("hl-trials");
    if (!ul) return;
    const items = (d.trials || []).map((t) => {
      const li = document.createElement("li");
      li.className = "data";
      li.dataset.station = t.station;
      li.textContent = t.text;
      return li;
    });
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "none";
      li.textContent = ul.dataset.empty || "";
      items.push(li);
    }
    ul.replaceChildren(...items);
  }
  function renderLine(d) {
    SL.text("hl-text", d.headline ? d.headline.text : "");
    SL.text("hl-worker", d.headline && d.headline.worker_name ? d.headline.worker_name : "");
    SL.text("hl-sug-worker", d.suggestion ? d.suggestion.worker_name : "");
    const hl = SL.$("headline");
    if (hl) hl.classList.toggle("below-target", !!(d.headline && d.headline.below_target));
    SL.text("hl-sug", d.suggestion ? d.suggestion.text : SL.t("no_suggestion"));
    const b = SL.$("hl-accept");
    if (b) b.hidden = !d.suggestion;
    SL.text("kpi-eff-overall", d.kpis.eff_overall_txt || "–");
    SL.text("kpi-waiting", d.kpis.waiting_txt || "–");
    renderTrials(d);
  }
  const render = SL.page.kind === "station" ? renderStation : renderLine;
  const orig = SL.stream;
  SL.stream = (fn) => orig((d) => { fn(d); render(d); });

  async function accept() {
    const d = SL.data, s = d.suggestion, out = SL.$("hl-accepted");
    if (!s) return;
    const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
    const btn = SL.$("hl-accept");
    btn.disabled = true;
    try {
      const res = await fetch(d.accept_url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ badge: s.badge, to_op: s.to_op }),
      });
      out.textContent = res.status === 201 ? SL.t("move_accepted", { move: s.text }) : SL.t("move_refused", { status: res.status });
      out.classList.add("show");
      document.body.dataset.accepted = String(res.status);
      const q = "?lang=" + encodeURIComponent(SL.page.lang) + "&key=" + encodeURIComponent(SL.page.key);
      const fresh = await (await fetch("/web/data/line" + q, { credentials: "same-origin" })).json();
      SL.data = fresh;
      renderLine(fresh);
    } catch (e) {
      out.textContent = SL.t("move_refused", { status: "–" });
    } finally {
      btn.disabled = false;
    }
  }
  document.addEventListener("DOMContentLoaded", () => {
    render(SL.data);
    const b = SL.$("hl-accept");
    if (b) b.addEventListener("click", accept);
  });
})();
