// Factory overview: a card per line, today's output and efficiency, orders at risk.
(function () {
  "use strict";
  const tpl = document.getElementById("line-card");
  const charts = {};

  function card(box, i) {
    let el = box.children[i];
    if (!el) { el = tpl.content.firstElementChild.cloneNode(true); box.appendChild(el); }
    return el;
  }

  function render(d) {
    d.factories.forEach((fac) => {
      SL.text("clock", fac.clock_txt);
      SL.text("f-output-" + fac.factory, fac.output_txt);
      SL.text("f-eff-" + fac.factory, fac.eff_txt);
      SL.text("f-risk-" + fac.factory, String(fac.at_risk.length));
      const box = SL.$("lines-" + fac.factory);
      fac.lines.forEach((ln, i) => {
        const el = card(box, i);
        el.href = "/lines/" + encodeURIComponent(ln.line);
        el.dataset.line = ln.line;
        el.querySelector(".name").textContent = ln.line_name;
        el.querySelector(".style").textContent = ln.style_name;
        el.querySelector(".output").textContent = ln.output_txt;
        el.querySelector(".target").textContent = ln.target_txt;
        const eff = el.querySelector(".eff");
        eff.textContent = ln.eff_txt; eff.className = "eff band-" + ln.eff_band;
        el.querySelector(".operators").textContent = ln.operators_txt;
        el.querySelector(".wip").textContent = ln.wip_txt;
        el.querySelector(".down").textContent = ln.down_txt;
        el.querySelector(".alerts").textContent = ln.alerts_txt;
        const sp = el.querySelector(".spark");
        const c = charts[ln.line] || (charts[ln.line] = echarts.init(sp));
        c.setOption({
          animation: false, grid: { left: 4, right: 4, top: 4, bottom: 4 },
          xAxis: { type: "category", show: false, data: ln.hours.hours },
          yAxis: { type: "value", show: false },
          series: [
            { type: "bar", data: ln.hours.output, itemStyle: { color: "#2f6fb3" } },
            { type: "line", step: "middle", data: ln.hours.target, symbol: "none", itemStyle: { color: "#d9822b" } },
          ],
        });
      });
      const tb = SL.$("risk-" + fac.factory);
      SL.clear(tb);
      if (!fac.at_risk.length) {
        const tr = document.createElement("tr"); const td = document.createElement("td");
        td.colSpan = 10; td.className = "empty"; td.textContent = SL.t("no_orders_at_risk"); tr.appendChild(td); tb.appendChild(tr);
      }
      fac.at_risk.forEach((o) => {
        const tr = document.createElement("tr");
        tr.className = "risk";
        [["order", "data nw"], ["customer", "data"], ["style_name", ""], ["line_name", ""], ["qty_txt", "num"], ["done_txt", "num"],
          ["remaining_txt", "num"], ["capacity_txt", "num"], ["due_txt", "nw"], ["finish_txt", "nw"]].forEach(([k, cls]) => {
          const td = document.createElement("td"); td.textContent = o[k]; if (cls) td.className = cls; tr.appendChild(td);
        });
        // late (past due) or at risk: said in words beside the due date, not by colour alone
        const due = tr.children[8];
        const st = document.createElement("b"); st.className = o.late ? "status-late" : "status-risk";
        st.textContent = " · " + o.state_txt; due.appendChild(st);
        tb.appendChild(tr);
      });
    });
  }

  render(SL.data);
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
  SL.stream(render);
})();
