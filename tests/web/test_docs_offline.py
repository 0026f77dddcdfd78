"""/docs works on a factory network with no way out: Swagger UI's files come from the package.

FastAPI's default page loads them from cdn.jsdelivr.net and was blank offline. The browser test
lets only requests to the test server through and fails on any other (a CDN, a font, a favicon).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from .server import Served


def test_docs_page_names_only_local_files(served: Served) -> None:
    html = httpx.get(served.url + "/docs", timeout=30).text
    assert "/web/static/vendor/swagger-ui-bundle.js" in html and "/web/static/vendor/swagger-ui.css" in html
    assert "cdn.jsdelivr" not in html and "https://" not in html
    for f, kind in (("swagger-ui-bundle.js", "javascript"), ("swagger-ui.css", "text/css")):
        r = httpx.get(f"{served.url}/web/static/vendor/{f}", timeout=30)
        assert r.status_code == 200 and kind in r.headers["content-type"] and len(r.content) > 100_000, f


@pytest.mark.browser
def test_docs_render_the_operations_with_no_request_leaving_the_host(served: Served, context: Any) -> None:
    host = urlsplit(served.url).netloc
    outside: list[str] = []

    def only_local(route: Any) -> None:
        if urlsplit(route.request.url).netloc == host:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page = context.new_page()
    page.route("**/*", only_local)
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(served.url + "/docs")
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.eval_on_selector_all(".opblock-summary-path", "els => els.map(e => e.textContent)")
    assert len(paths) > 20 and any("/api/v1/health" in p for p in paths), paths[:5]
    assert page.inner_text(".info .title").startswith("seamline")
    assert not outside, f"requests left {host}: {outside}"
    assert not failed, failed
