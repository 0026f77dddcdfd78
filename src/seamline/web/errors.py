"""Refusals and missing pages as pages: a browser gets a translated page in the site's design,
an API client the JSON it always had.

Who gets which is decided by the request's Accept header alone: a browser navigating asks for
``text/html`` and never names JSON; ``fetch`` from our own scripts, httpx, curl and the tablets'
queue send ``*/*`` or name ``application/json`` (alone or beside HTML) and keep the
machine-readable answer. The reason the access check gives is
English for operators and logs, so the page shows it only folded under "details", below a
translated heading and explanation.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from urllib.parse import quote

from starlette.datastructures import QueryParams

from .auth_pages import LANG_COOKIE, STATIC_PREFIX
from .i18n import N_, pick_lang, translations

PAGE_STATUSES = frozenset({401, 403, 404})
HEADINGS = {
    401: (N_("Please log in"), N_("This page is for signed-in users. Log in and you will come back here.")),
    403: (N_("No access"), N_("Your role may not open this page. Ask an administrator if you need it.")),
    404: (N_("Page not found"), N_("There is no page at this address. Check the link or go back to the start.")),
}


def wants_html(accept: str | None) -> bool:
    """A browser's navigation: ``text/html`` asked for and JSON not named (``*/*`` alone is a script)."""
    low = (accept or "").lower()
    return "text/html" in low and "application/json" not in low


def lang_of(query_string: bytes | str, cookie_header: str | None) -> str:
    cookie_lang = None
    if cookie_header:
        c: SimpleCookie = SimpleCookie()
        try:
            c.load(cookie_header)
        except CookieError:
            pass
        else:
            cookie_lang = c[LANG_COOKIE].value if LANG_COOKIE in c else None
    return pick_lang(QueryParams(query_string).get("lang"), cookie_lang)


def error_page(status: int, lang: str, detail: str, path: str) -> str:
    """The HTML of a 401, 403 or 404 in ``lang`` (``zh_CN`` or ``en``)."""
    from .routes import jinja_env  # the pages' environment (gettext bound per language)

    tr = translations(lang)
    heading, text = HEADINGS[status]
    other = "en" if lang != "en" else "zh_CN"
    return (
        jinja_env(lang)
        .get_template("error.html")
        .render(
            lang=lang,
            html_lang="zh-CN" if lang == "zh_CN" else "en",
            other_lang=other,
            other_lang_label="English" if other == "en" else "中文",
            status=status,
            title=tr.gettext(heading),
            text=tr.gettext(text),
            detail=detail,
            login_href="/login?next=" + quote(path, safe="/"),
            static=STATIC_PREFIX,
        )
    )
