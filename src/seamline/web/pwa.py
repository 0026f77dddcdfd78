"""The station tablet as an installable app: the service worker and the app's start page.

The worker script is served from the site root (a script's scope can never be wider than its own
folder, and the static files live under /web/static/) and registered for ``/station/`` only: no
other page is ever answered from a cache. Its cache names carry a version made from the bytes of
the static files, templates and catalogs, so a new release replaces the cached shell instead of
mixing old and new files. The rules the script follows (docs/pages.md):

- data (``/web/stream``, ``/web/data``, ``/api``) and anything but GET: the network only, never a cache;
- the station page: the network first; its copy is kept and used only when the network fails (the
  page then shows how old its data is);
- static files (scripts, styles, fonts, icons): the cache first, filled at install and on first use.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

HERE = Path(__file__).parent
STATIC_PREFIX = "/web/static"
# What a station page needs to open with no network (the rest is cached on first use).
SHELL = (
    "app.css",
    "js/common.js",
    "js/station.js",
    "vendor/jsQR.js",
    "manifest.webmanifest",
    "icons/icon-192.png",
    "icons/icon-512.png",
)


@cache
def shell_version() -> str:
    """A digest of everything a cached page is made of: changes with every release that changes it."""
    h = hashlib.sha256()
    for folder in ("static", "templates", "i18n"):
        for p in sorted((HERE / folder).rglob("*")):
            if p.is_file():
                h.update(str(p.relative_to(HERE)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()[:16]


@cache
def service_worker_js() -> str:
    shell = ", ".join(f'"{STATIC_PREFIX}/{p}"' for p in SHELL)
    src = (HERE / "static" / "js" / "sw.js").read_text("utf-8")
    return src.replace('"__VERSION__"', f'"{shell_version()}"').replace('"__SHELL__"', shell)


def register(app: FastAPI) -> None:
    @app.get("/sw.js", include_in_schema=False)
    def service_worker() -> Response:
        # no-cache: the browser checks for a new worker on every visit (it does so at least daily anyway).
        return Response(
            service_worker_js(),
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache"},
        )

    @app.get("/station/", include_in_schema=False)
    def tablet_start(request: Request) -> Response:
        """The installed app's start page: the paired station, else the pairing page."""
        me = getattr(request.state, "principal", None)
        if me is not None and getattr(me, "station", None):
            return RedirectResponse(f"/station/{quote(me.station)}", status_code=303)
        if me is not None:  # a signed-in person (or the open demo): their usual start
            return RedirectResponse("/", status_code=303)
        return RedirectResponse("/pair", status_code=303)
