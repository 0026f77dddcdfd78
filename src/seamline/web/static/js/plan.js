// Planner: line loading as a Gantt chart (ECharts custom series), orders and progress, balance.
(function () {
  "use strict";
  const gantt = echarts.init(SL.$("gantt"));
  const lang = SL.page.lang.replace("_", "-");

  function fmtTime(ms, tz) {
    return new Intl.DateTimeFormat(lang, { timeZone: tz, month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" }).format(new Date(ms));
  }
  function fmtDay(ms, tz) {
    return new Intl.DateTimeFormat(lang, { timeZone: tz, month: "numeric", day: "numeric" }).format(new Date(ms));
  }

  function renderItem(params, api) {
    const y = api.value(0);
    const start = api.coord([api.value(1), y]);
    const end = api.coord([api.value(2), y]);
    const h = api.size([0, 1])[1] * 0.6;
    const shape = echarts.graphic.clipRectByRect(
      { x: start[0], y: start[1] - h / 2, width: Math.max(2, end[0] - start[0]), height: h },
      { x: params.coordSys.x, y: params.coordSys.y, width: params.coordSys.width, height: params.coordSys.height });
    if (!shape) return null;
    return {
      type: "group",
      children: [
        { type: "rect", shape: shape, style: { fill: api.value(4) ? "#c0392b" : "#2f6fb3", stroke: "#fff" } },
        { type: "text", style: { text: shape.width > 70 ? String(api.value(3)) : "", x: shape.x + 4, y: shape.y + h / 2,
          verticalAlign: "middle", fill: "#fff", font: "12px sans-serif" } },
      ],
    };
  }

  function renderGantt(d) {
    gantt.setOption({
      animation: false,
      grid: { left: 150, right: 24, top: 16, bottom: 40 },
      tooltip: {
        formatter: (p) => p.value[3] + "<br>" + fmtTime(p.value[1], d.tz) + " → " + fmtTime(p.value[2], d.tz) +
          "<br>" + (p.value[4] ? SL.t("at_risk") : SL.t("on_time")),
      },
      xAxis: { type: "time", min: d.now_ms, axisLabel: { hideOverlap: true, formatter: (v) => fmtDay(v, d.tz) },
        splitNumber: 6, minInterval: 24 * 3600 * 1000, splitLine: { show: true } },
      yAxis: { type: "category", data: d.gantt.lines, inverse: true },
      series: [{
        type: "custom", renderItem: renderItem, encode: { x: [1, 2], y: 0 }, data: d.gantt.items,
        markLine: { silent: true, symbol: "none", data: [{ xAxis: d.now_ms }], lineStyle: { color: "#333" }, label: { show: false } },
      }],
    }, true);
  }

  function renderOrders(d) {
    const tb = SL.$("orders");
    SL.clear(tb);
    d.orders.forEach((o) => {
      const tr = document.createElement("tr");
      if (o.at_risk) tr.className = "risk";
      const cell = (txt, cls) => { const td = document.createElement("td"); td.textContent = txt; if (cls) td.className = cls; tr.appendChild(td); return td; };
      cell(o.order, "data nw"); cell(o.customer, "data"); cell(o.style_name); cell(o.line_name);
      cell(o.qty_txt, "num"); cell(o.done_txt, "num");
      const p = cell("", "progress");
      const bar = document.createElement("div"); bar.className = "bar";
      const i = document.createElement("i"); i.style.width = o.progress_pct + "%"; bar.appendChild(i);
      const lbl = document.createElement("span"); lbl.textContent = o.progress_txt;
      p.appendChild(bar); p.appendChild(lbl);
      cell(o.remaining_txt, "num"); cell(o.due_txt, "nw"); cell(o.finish_txt, "nw");
      cell(o.at_risk ? SL.t("at_risk") : SL.t("on_time"), "nw " + (o.at_risk ? "band-low" : "band-high"));
      tb.appendChild(tr);
    });
  }

  function renderBalances(d) {
    const box = SL.$("balances");
    SL.clear(box);
    d.balances.forEach((b) => {
      const sec = document.createElement("div"); sec.className = "balance";
      const h = document.createElement("h3");
      h.textContent = b.line_name + " · " + b.style_name + (b.pitch_label ? " · " + b.pitch_label : "");
      sec.appendChild(h);
      if (!b.stations.length) {
        const p = document.createElement("p"); p.className = "empty"; p.textContent = SL.t("no_balance"); sec.appendChild(p);
      }
      const tbl = document.createElement("table"); tbl.className = "grid-table compact";
      if (b.stations.length) {
        const hr = document.createElement("tr");
        ["station", "operator", "operations", "std_min_per_garment", "load"].forEach((k) => {
          const th = document.createElement("th"); th.textContent = SL.t(k); hr.appendChild(th);
        });
        tbl.appendChild(hr);
      }
      b.stations.forEach((s) => {
        const tr = document.createElement("tr");
        const td = (txt, cls) => { const c = document.createElement("td"); c.textContent = txt; if (cls) c.className = cls; tr.appendChild(c); return c; };
        td(s.station, "nw"); td(s.worker_name, "data nw"); td(s.ops_txt, "ops"); td(s.load_txt, "num");
        const c = td("", "load");
        const bar = document.createElement("div"); bar.className = "bar" + (s.load_pct > 115 ? " over" : "");
        const i = document.createElement("i"); i.style.width = Math.min(100, s.load_pct / 1.5) + "%"; bar.appendChild(i);
        const l = document.createElement("span"); l.textContent = s.load_pct_txt;
        c.appendChild(bar); c.appendChild(l);
        tbl.appendChild(tr);
      });
      sec.appendChild(tbl);
      if (b.missing_txt) {
        const p = document.createElement("p"); p.className = "note missing"; p.textContent = b.missing_txt; sec.appendChild(p);
      }
      box.appendChild(sec);
    });
  }

  function render(d) {
    SL.setClock(d);
    renderGantt(d);
    renderOrders(d);
    renderBalances(d);
  }
  render(SL.data);
  window.addEventListener("resize", () => gantt.resize());
  SL.stream(render);
})();
