// Shared by every page: the page data, the JS string catalog, and the live stream.
(function () {
  "use strict";
  const page = window.SL_PAGE;
  const strings = JSON.parse(document.getElementById("i18n").textContent);
  const SL = {
    page: page,
    data: JSON.parse(document.getElementById("page-data").textContent),
    t(key, params) {
      let s = strings[key] || key;
      if (params) for (const k of Object.keys(params)) s = s.split("{" + k + "}").join(String(params[k]));
      return s;
    },
    $(id) { return document.getElementById(id); },
    text(id, value) { const el = document.getElementById(id); if (el && el.textContent !== String(value)) el.textContent = value; },
    clear(el) { while (el.firstChild) el.removeChild(el.firstChild); },
    // Opens the Server-Sent Events stream of this page; calls render(data) on every update.
    stream(render) {
      const q = "?lang=" + encodeURIComponent(page.lang) + (page.key ? "&key=" + encodeURIComponent(page.key) : "");
      let es = null;
      const live = document.getElementById("live");
      const open = () => {
        es = new EventSource("/web/stream/" + page.kind + q);
        es.addEventListener("data", (e) => {
          const d = JSON.parse(e.data);
          SL.data = d;
          if (live) live.classList.remove("down");
          document.body.dataset.events = String(d.events);
          render(d);
        });
        es.onerror = () => { if (live) live.classList.add("down"); };
      };
      open();
      SL.streamUp = () => !!es && es.readyState === 1;  // EventSource.OPEN
      return () => es && es.close();
    },
    streamUp() { return false; },
    setClock(d) { if (d.clock_txt) SL.text("clock", d.clock_txt); },
  };
  window.SL = SL;
})();
