// Line page: a supervisor gets a six-digit code that binds a station's tablet (see docs/access.md).
(function () {
  const form = document.getElementById("pair-panel");
  if (!form) return;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const station = document.getElementById("pair-station").value;
    const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
    const res = await fetch(`/api/v1/stations/${encodeURIComponent(station)}/pairing-code`, {
      method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin",
    });
    const body = await res.json();
    const out = document.getElementById("pair-out");
    document.getElementById("pair-code").textContent = res.ok ? body.code : body.detail;
    out.hidden = false;
  });
})();
