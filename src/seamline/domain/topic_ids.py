"""Which factory and station ids may become an MQTT topic level and a broker user name.

A station's broker user is ``{factory}/{station}`` and its ACL grants ``topic write
seamline/v1/{factory}/stations/{station}/events``. An id holding ``+`` or ``#`` turns that grant
into a wildcard (station ``+`` could write as every station), ``/`` adds levels, a leading ``$``
names the broker's own topics, ``:`` breaks Mosquitto's password file and whitespace or control
characters break the ACL file's lines. So such ids are refused where credentials are issued.
"""

from __future__ import annotations

import unicodedata

MAX_ID_CHARS = 64
_FORBIDDEN = {"+": "+", "#": "#", "/": "/", ":": ":"}


def topic_id_problem(kind: str, value: str) -> str | None:
    """A bilingual reason why ``value`` cannot be a ``kind`` ("factory" or "station") id, or None."""
    zh = {"factory": "工厂编号", "station": "工位编号"}.get(kind, "编号")
    if not value:
        return f"{zh}不能为空 / the {kind} id must not be empty"
    if len(value) > MAX_ID_CHARS:
        return f"{zh}最多 {MAX_ID_CHARS} 个字符 / the {kind} id has at most {MAX_ID_CHARS} characters"
    bad = sorted({c for c in value if c in _FORBIDDEN})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return (
            f"{zh}不能包含 MQTT 通配符或分隔符 {shown} / the {kind} id must not contain the MQTT "
            f"wildcard or separator characters {shown}"
        )
    if value.startswith("$"):
        return f"{zh}不能以 $ 开头（保留给代理） / the {kind} id must not start with $ (reserved for the broker)"
    if any(c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn") for c in value):
        return (
            f"{zh}不能包含空白或控制字符 / the {kind} id must not contain whitespace or control characters: {value!r}"
        )
    return None
