// Service worker of the station tablet (served as /sw.js by web/pwa.py, which fills in the
// version and the shell list; scope /station/). See web/pwa.py and docs/pages.md for the rules:
// data is never answered from a cache; the station page goes to the network first and falls back
// to its last copy; static files come from the versioned cache first.
"use strict";
const VERSION = "__VERSION__";
const SHELL_CACHE = "seamline-shell-" + VERSION;
const PAGE_CACHE = "seamline-pages-" + VERSION;
const SHELL = ["__SHELL__"];
const NETWORK_WAIT_MS = 4000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL_CACHE);
    await shell.addAll(SHELL.map((u) => new Request(u, { cache: "reload" })));
    // Pages kept by the previous version are fetched again for this one, so a tablet that updates
    // and then loses the network still opens its station, with this version's page.
    const pages = await caches.open(PAGE_CACHE);
    // The station page that registered this worker was loaded before it: keep a copy of it now.
    for (const c of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) {
      const u = new URL(c.url);
      if (!u.pathname.startsWith("/station/")) continue;
      try {
        const res = await fetch(u.origin + u.pathname, { credentials: "same-origin" });
        if (keepable(res)) await pages.put(u.origin + u.pathname, await stamped(res));
      } catch (e) { /* kept on the next visit */ }
    }
    for (const name of await caches.keys()) {
      if (!name.startsWith("seamline-pages-") || name === PAGE_CACHE) continue;
      for (const req of await (await caches.open(name)).keys()) {
        try {
          const res = await fetch(req.url, { credentials: "same-origin", cache: "reload" });
          if (keepable(res)) await pages.put(req.url, await stamped(res));
        } catch (e) { /* offline during the update: the page is cached again on the next visit */ }
      }
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("seamline-") && name !== SHELL_CACHE && name !== PAGE_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

function keepable(res) {
  // A station page itself: not an error, not the pairing or login page a redirect led to.
  return res && res.ok && !res.redirected && new URL(res.url).pathname.startsWith("/station/");
}

// A kept page notes when it was fetched (this device's clock); served from the cache, it says so
// in a <meta name="sl-cached-at"> the page reads to show its data's age: never stale as fresh.
async function stamped(res) {
  const headers = new Headers(res.headers);
  headers.set("x-sl-cached-at", String(Date.now()));
  return new Response(await res.blob(), { status: res.status, statusText: res.statusText, headers: headers });
}
async function fromCache(copy) {
  const at = copy.headers.get("x-sl-cached-at") || "0";
  const html = (await copy.text()).replace("</head>", `<meta name="sl-cached-at" content="${Number(at)}">\n</head>`);
  return new Response(html, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

async function stationPage(request) {
  const cache = await caches.open(PAGE_CACHE);
  const url = new URL(request.url);
  const key = url.origin + url.pathname;  // ?lang=… gives the same station
  const network = fetch(request).then((res) => {
    if (keepable(res)) { const c = res.clone(); stamped(c).then((r) => cache.put(key, r)); }
    // Sent to pairing or sign-in, or refused: this device may no longer see the page, so no copy.
    else if (res.type === "opaqueredirect" || res.status === 401 || res.status === 403) cache.delete(key);
    return res;
  });
  network.catch(() => null);  // a late failure after the timeout is not an error to report
  const timeout = new Promise((resolve) => setTimeout(() => resolve(null), NETWORK_WAIT_MS));
  try {
    const res = await Promise.race([network, timeout]);
    if (res) return res;
  } catch (e) { /* network down: the copy below */ }
  let copy = await cache.match(key);
  if (!copy && url.pathname === "/station/") {
    const keys = await cache.keys();  // the app's start page offline: the station it last showed
    if (keys.length) copy = await cache.match(keys[keys.length - 1]);
  }
  if (copy) return fromCache(copy);
  return network;  // nothing kept yet: the browser's own offline error
}

async function shellFile(request) {
  const cache = await caches.open(SHELL_CACHE);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const res = await fetch(request);
  if (res.ok) cache.put(request, res.clone());
  return res;
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.mode === "navigate" && url.pathname.startsWith("/station/")) {
    event.respondWith(stationPage(req));
  } else if (url.pathname.startsWith("/web/static/")) {
    event.respondWith(shellFile(req));
  }
  // Everything else (the live stream, page data, the API): the network only.
});
