"""An order's state as the planner sets it: open, on hold, cancelled or closed (short-shipped).

Orders come from master data and, until now, stayed open business until every garment was made:
an order the customer cancelled, one shipped short, or one waiting for fabric was planned on the
overview and the planner's board for ever, and the plan's cost grew with every such order. A
planner now says so (CLI ``seamline orders``, API ``/api/v1/orders/{order}/state``), and:

- ``hold`` 暂停: the order waits (fabric, a customer's question); it is not planned until resumed;
- ``cancelled`` 已取消 and ``closed`` 已关闭 (shipped short, 短装出货): the order is over; it is
  not planned and its progress leaves memory like a finished order's (``finished_orders``);
- ``open``: the default; ``resume`` ends a hold, ``reopen`` undoes a cancel or close.

Every change is a row (who, when, why, the state before): the history is the audit trail and the
current state is the last row of each order. Types and rules only (pure): the store is in
``adapters/order_state_store.py``, the use-case in ``service_layer/order_states.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

OPEN: Final = "open"
HOLD: Final = "hold"
CANCELLED: Final = "cancelled"
CLOSED: Final = "closed"
STATES: Final = (OPEN, HOLD, CANCELLED, CLOSED)

#: action -> (the states it may start from, the state it leads to)
ACTIONS: Final[Mapping[str, tuple[frozenset[str], str]]] = {
    "hold": (frozenset({OPEN}), HOLD),
    "resume": (frozenset({HOLD}), OPEN),
    "cancel": (frozenset({OPEN, HOLD}), CANCELLED),
    "close": (frozenset({OPEN, HOLD}), CLOSED),
    "reopen": (frozenset({CANCELLED, CLOSED}), OPEN),
}

#: Chinese first, English beside it (CLI reports, API answers, pages).
STATE_TEXT: Final[Mapping[str, str]] = {
    OPEN: "开放 / open",
    HOLD: "暂停 / on hold",
    CANCELLED: "已取消 / cancelled",
    CLOSED: "已关闭（短装出货） / closed (shipped short)",
}

#: States whose orders are over: never planned again, and their progress leaves memory.
OVER: Final = frozenset({CANCELLED, CLOSED})


class OrderStateError(ValueError):
    """A change that is not allowed (the message is for the planner, Chinese first)."""


class ReasonRequired(OrderStateError):
    """Cancelling or closing an order needs a reason (it is not planned again)."""


@dataclass(frozen=True, slots=True)
class OrderStateChange:
    factory: str
    order: str
    state: str  # the state after the change
    before: str  # the state before it
    reason: str
    actor: str
    at: datetime  # timezone-aware


def next_state(current: str, action: str) -> str:
    """The state ``action`` leads to from ``current``; ``OrderStateError`` if it may not."""
    rule = ACTIONS.get(action)
    if rule is None:
        raise OrderStateError(f"未知操作 {action!r} / unknown action {action!r} (one of: {', '.join(ACTIONS)})")
    allowed, to = rule
    if current not in allowed:
        raise OrderStateError(
            f"订单当前为「{STATE_TEXT[current].split(' / ')[0]}」，不能{_ACTION_ZH[action]} / "
            f"the order is {current}: it cannot be {_ACTION_EN[action]}"
        )
    return to


_ACTION_ZH: Final = {"hold": "暂停", "resume": "恢复", "cancel": "取消", "close": "关闭", "reopen": "重新开放"}
_ACTION_EN: Final = {
    "hold": "held",
    "resume": "resumed",
    "cancel": "cancelled",
    "close": "closed",
    "reopen": "reopened",
}


def planned(state: str) -> bool:
    """Only open orders are loaded onto lines (a held one waits, a cancelled or closed one is over)."""
    return state == OPEN
