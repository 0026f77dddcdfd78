"""Which machine types can stand in for which: shared master-data knowledge of the trade.

Lines rarely have exactly the machines a bulletin names; the simulator's supervisor and the
planners both need the same answer to "can this station sew that operation?", so it lives here,
below both of them.
"""

from __future__ import annotations

# When a line has no machine of the bulletin's type, these can do the work (first that exists).
SUBSTITUTES: dict[str, tuple[str, ...]] = {
    "OL3": ("OL4", "OL5"),
    "OL4": ("OL5", "OL3"),
    "OL5": ("OL4", "OL3"),
    "DNLS": ("SNLS",),
    "FOA": ("DNLS", "SNLS"),
    "FL": ("OL4", "SNLS"),
    "BT": ("SNLS",),
    "BL": ("SNLS",),
    "WB": ("DNLS", "SNLS"),
    "BH": ("SNLS",),
    "BS": ("SNLS",),
    "IRON": ("MAN",),
    "MAN": ("IRON",),
}
