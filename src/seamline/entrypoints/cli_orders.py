"""`seamline orders`: a planner holds, resumes, cancels, closes (shipped short) or reopens an order.

Each change is stored with who, when and why (domain/order_state.py); `seamline orders list`
shows the orders that are not open, `--history ORDER` an order's trail. A running server sees a
change within a second of its next page read (the API's changes at once).
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import Annotated

import typer

from ..adapters.db import DEFAULT_URL

DbOpt = Annotated[str, typer.Option("--db", help="database URL (SQLite file or postgresql+psycopg://...)")]
FactoryOpt = Annotated[str | None, typer.Option("--factory", help="factory id (needed when there are several)")]
ReasonOpt = Annotated[str, typer.Option("--reason", help="why (required to cancel or close)")]
ByOpt = Annotated[str | None, typer.Option("--by", help="who decides (default: the login name)")]


def _fail(msg: str) -> typer.Exit:
    typer.echo(f"错误 / error: {msg}", err=True)
    return typer.Exit(2)


def _change(db: str, factory: str | None, order: str, action: str, reason: str, by: str | None) -> None:
    from ..adapters import master_data, migrate
    from ..adapters.order_state_store import OrderStateStore
    from ..domain.order_state import STATE_TEXT, OrderStateError
    from ..service_layer.order_states import OrderNotFound, OrderStates
    from .cli_db import open_db

    engine = open_db(db)
    migrate.upgrade(engine)
    states = OrderStates(OrderStateStore(engine))
    try:
        c = states.change(master_data.load_layouts(engine), factory, order, action, reason, by or getpass.getuser())
    except (OrderStateError, OrderNotFound) as e:
        raise _fail(str(e)) from None
    why = f"（原因 / reason: {c.reason}）" if c.reason else ""
    typer.echo(f"订单 / order {c.order}: {STATE_TEXT[c.before]} → {STATE_TEXT[c.state]}{why}")


# Each change the planner can make, with its help text (Chinese first).
ACTIONS = (
    ("hold", "暂停订单 / Put an order on hold: it is not planned until resumed."),
    ("resume", "恢复订单 / Resume a held order: it is planned again."),
    ("cancel", "取消订单 / Cancel an order: never planned again; its progress leaves memory like a finished order's."),
    ("close", "关闭订单（短装出货） / Close an order shipped short: what is left is not made."),
    ("reopen", "重新开放订单 / Reopen a cancelled or closed order: it is planned again."),
)


def _action_command(action: str) -> Callable[..., None]:
    """One `seamline orders <action>` command: the five differ only in the change they ask for."""

    def command(
        order: str, reason: ReasonOpt = "", factory: FactoryOpt = None, by: ByOpt = None, db: DbOpt = DEFAULT_URL
    ) -> None:
        _change(db, factory, order, action, reason, by)

    return command


def register(app: typer.Typer) -> None:
    orders = typer.Typer(help="订单状态 / Order states: hold, resume, cancel, close (shipped short), reopen.")
    app.add_typer(orders, name="orders", no_args_is_help=True)

    for action, doc in ACTIONS:
        orders.command(action, help=doc)(_action_command(action))

    @orders.command("list")
    def list_(
        factory: FactoryOpt = None,
        history: Annotated[str | None, typer.Option("--history", help="one order's every change")] = None,
        db: DbOpt = DEFAULT_URL,
    ) -> None:
        """订单状态列表 / The orders that are not open (or one order's history), one line each."""
        from ..adapters import master_data, migrate
        from ..adapters.order_state_store import OrderStateStore
        from ..domain.order_state import STATE_TEXT
        from ..service_layer.order_states import OrderNotFound, find_factory
        from .cli_db import open_db

        engine = open_db(db)
        migrate.upgrade(engine)
        try:
            lay = find_factory(master_data.load_layouts(engine), factory)
        except OrderNotFound as e:
            raise _fail(str(e)) from None
        store = OrderStateStore(engine)
        if history is not None:
            if history not in lay.orders:
                raise _fail(f"找不到订单 / unknown order {history!r}")
            rows = store.changes(lay.factory.id, history)
        else:
            _last, cur = store.current()
            rows = sorted(
                (c for (f, _o), c in cur.items() if f == lay.factory.id and c.state != "open"), key=lambda c: c.order
            )
        if not rows:
            typer.echo("没有 / none")
        for c in rows:
            typer.echo(
                f"{c.order:<20} {STATE_TEXT[c.state]:<24} {c.at.isoformat(timespec='seconds')}  {c.actor}"
                + (f"  {c.reason}" if c.reason else "")
            )
