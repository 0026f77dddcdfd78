// Supervisor dashboard: station grid, hourly output vs target (ECharts), alerts, downtime.
(function () {
  "use strict";
  const chart = echarts.init(SL.$("hourly"), null, { renderer: "canvas" });
  const tpl = SL.$("station-cell");

  function renderGrid(d) {
    const box = SL.$("stations");
    const cells = box.children;
    d.stations.forEach((s, i) => {
      let el = cells[i];
      if (!el) { el = tpl.content.firstElementChild.cloneNode(true); box.appendChild(el); }
      el.href = "/station/" + encodeURIComponent(s.station);
      el.dataset.station = s.station;
      el.className = "st band-" + s.band + " status-" + s.status + (s.bottleneck ? " bottleneck" : "") + (s.alert ? " alerting" : "");
      el.querySelector(".sid").textContent = s.station;
      el.querySelector(".status").textContent = s.status_label;
      el.querySelector(".wname").textContent = s.worker_name || "–";
      el.querySelector(".opname").textContent = s.op_name || "–";
      el.querySelector(".eff").textContent = s.eff_txt;
      el.querySelector(".wip").textContent = s.wip_txt;
      el.querySelector(".pph").textContent = s.pieces_hour_txt;
      el.title = s.bottleneck ? SL.t("bottleneck") : "";
    });
    while (box.children.length > d.stations.length) box.removeChild(box.lastChild);
  }

  // On the big screen (?tv=1) the chart's text is as large as the page's: 24 px.
  const fs = document.body.classList.contains("tv") ? 24 : 12;
  if (fs === 24) {  // the big screen has no header: Escape goes back to the normal page
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape") location.search = location.search.replace(/([?&])tv=1&?/, "$1").replace(/[?&]$/, "");
    });
  }

  function renderChart(d) {
    chart.setOption({
      animation: false,
      textStyle: { fontSize: fs },
      grid: { left: fs * 4, right: fs * 2.5, top: fs * 3, bottom: fs * 2.7 },
      legend: { data: [SL.t("output"), SL.t("target")], top: 0, textStyle: { fontSize: fs } },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: d.chart.hours, axisLabel: { fontSize: fs } },
      yAxis: { type: "value", minInterval: 1, axisLabel: { fontSize: fs } },
      series: [
        { name: SL.t("output"), type: "bar", data: d.chart.output, itemStyle: { color: "#2f6fb3" },
          label: { show: true, position: "top", fontSize: fs } },
        { name: SL.t("target"), type: "line", step: "middle", data: d.chart.target, itemStyle: { color: "#d9822b" },
          lineStyle: { width: 3 } },
      ],
    });
  }

  function renderList(id, items, textOf, emptyText) {
    const ul = SL.$(id);
    SL.clear(ul);
    if (!items.length && emptyText) {
      const li = document.createElement("li"); li.className = "empty"; li.textContent = emptyText; ul.appendChild(li);
    }
    items.forEach((it) => {
      const li = document.createElement("li");
      li.className = it.kind ? "alert-" + it.kind : "";
      const text = textOf(it), at = it.who ? text.indexOf(it.who) : -1;
      if (at < 0) li.textContent = text;
      else {  // a person's name, shown as entered: marked so the language checks pass over it
        const name = document.createElement("span");
        name.className = "data"; name.textContent = it.who;
        li.append(text.slice(0, at), name, text.slice(at + it.who.length));
      }
      ul.appendChild(li);
    });
  }

  function render(d) {
    SL.setClock(d);
    SL.text("line-name", d.line_name);
    SL.text("style-name", d.style_name);
    SL.text("kpi-output", d.kpis.output_txt);
    SL.text("kpi-target", d.kpis.target_txt);
    SL.text("kpi-eff", d.kpis.eff_txt);
    SL.$("kpi-eff").className = "band-" + d.kpis.eff_band;
    SL.text("kpi-tph", d.kpis.tph_txt);
    SL.text("kpi-operators", d.kpis.operators_txt);
    SL.text("kpi-wip", d.kpis.wip_txt);
    SL.text("kpi-defects", d.kpis.defects_txt);
    renderGrid(d);
    renderChart(d);
    renderList("alerts", d.alerts, (a) => a.text, SL.t("no_alerts"));
    renderList("downtime", d.downtime, (x) => x.label + ": " + x.dur_txt, "–");
  }

  render(SL.data);
  window.addEventListener("resize", () => chart.resize());
  SL.stream(render);
})();
