// Pages that change by the minute (quality, materials): fetch the page's own HTML again and put
// its main part in place, without a live stream (whoever may open the page may fetch it again).
(function () {
  "use strict";
  const EVERY_MS = 30000;
  async function refresh() {
    try {
      const r = await fetch(location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (!r.ok) return;
      const doc = new DOMParser().parseFromString(await r.text(), "text/html");
      const fresh = doc.querySelector("main"), here = document.querySelector("main");
      const active = document.activeElement;
      if (!fresh || !here || (active && here.contains(active) && active.matches("input, select"))) return;
      here.replaceChildren(...Array.from(fresh.childNodes).map((n) => document.importNode(n, true)));
      const clock = doc.getElementById("clock");
      if (clock) SL.text("clock", clock.textContent);
      document.body.dataset.refreshed = String(Date.now());
    } catch (e) { /* offline: keep what is shown, try again later */ }
  }
  setInterval(refresh, EVERY_MS);
})();
