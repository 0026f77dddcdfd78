"""The installable tablet app in-process: the service worker script, its version, the manifest."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from seamline.bootstrap import bootstrap
from seamline.entrypoints.api import create_app
from seamline.web import pwa

from .factory import layout

STATIC = Path(pwa.__file__).parent / "static"


def test_service_worker_is_versioned_by_the_files_and_lists_a_shell_that_exists(tmp_path: Path) -> None:
    rt = bootstrap(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        rt.save_layout(layout())
        c = TestClient(create_app(rt))
        r = c.get("/sw.js")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
        assert r.headers["cache-control"] == "no-cache"  # a new release's worker is seen on the next visit
        assert "__VERSION__" not in r.text and "__SHELL__" not in r.text
        assert f'const VERSION = "{pwa.shell_version()}";' in r.text
        shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", r.text).group(1))  # type: ignore[union-attr]
        assert "/web/static/js/station.js" in shell and "/web/static/manifest.webmanifest" in shell
        for url in shell:  # install fails as a whole if one is missing
            assert c.get(url).status_code == 200, url
        # the app's start page: no tablet session here (open mode): the usual start
        assert c.get("/station/", follow_redirects=False).headers["location"] == "/"
        page = c.get("/station/S1").text
        assert '<link rel="manifest" href="/web/static/manifest.webmanifest">' in page
    finally:
        rt.close()


def test_version_changes_when_a_shell_file_changes(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    web = tmp_path / "web"
    for folder in ("static", "templates", "i18n"):
        (web / folder).mkdir(parents=True)
        (web / folder / "f.txt").write_text("a", "utf-8")
    monkeypatch.setattr(pwa, "HERE", web)
    pwa.shell_version.cache_clear()
    try:
        v1 = pwa.shell_version()
        pwa.shell_version.cache_clear()
        (web / "static" / "f.txt").write_text("b", "utf-8")
        assert pwa.shell_version() != v1
    finally:
        pwa.shell_version.cache_clear()


def test_manifest_is_chinese_first_and_its_icons_are_the_sizes_it_says() -> None:
    m = json.loads((STATIC / "manifest.webmanifest").read_text("utf-8"))
    assert m["lang"] == "zh-CN" and m["short_name"] == "工位平板" and m["name"].startswith("seamline 工位平板")
    assert m["start_url"] == m["scope"] == "/station/" and m["display"] == "standalone"
    assert {i["purpose"] for i in m["icons"]} == {"any", "maskable"}
    for icon in m["icons"]:
        w, h = (int(x) for x in icon["sizes"].split("x"))
        with Image.open(STATIC / icon["src"].removeprefix("/web/static/")) as img:
            assert img.size == (w, h) and img.format == "PNG"
