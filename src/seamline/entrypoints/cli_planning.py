"""``seamline solve``: the planning engine on the literature's benchmark formats.

Prints exactly one JSON object on stdout; progress goes to stderr. The time budget counts from
process start (Python and import time included), so the answer is out within the limit plus a
small margin even on a slow machine (``solve_budget_s``).
"""

from __future__ import annotations

import json
import os
import sys
import time
from enum import StrEnum
from pathlib import Path

import typer


class Family(StrEnum):
    jssp = "jssp"
    fjsp = "fjsp"
    salbp = "salbp"


def _process_age_s() -> float:
    """Seconds since this process started (Linux /proc); 0 where unknown."""
    try:
        with open("/proc/self/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


FAST_PATH_S = 0.5  # below this budget importing and running CP-SAT is not worth it


def solve_budget_s(time_limit_s: float, age_s: float, grace_s: float = 1.5) -> float:
    """Solver seconds: the limit, unless start-up already ate into the allowed grace.

    The contract is an answer within limit + 2 s; 0.5 s stay in reserve for CP-SAT to stop,
    the JSON to be written and the process to exit (teardown is skipped).
    """
    return max(0.05, min(time_limit_s, time_limit_s + grace_s - age_s))


def register(app: typer.Typer) -> None:
    @app.command("balance")
    def balance(
        factory: Path = typer.Argument(..., exists=True, help="factory folder or .xlsx (seamline export format)"),
        style: str = typer.Option(..., "--style"),
        line: str = typer.Option(..., "--line"),
        absent: str = typer.Option("", "--absent", help="comma-separated badges not present"),
        time_limit: float = typer.Option(5.0, "--time-limit", help="seconds"),
        db: str | None = typer.Option(None, "--db", help="use learned efficiencies from this database"),
    ) -> None:
        """Balance a line for a style: who sews which share of which operation (JSON).

        Efficiencies come from the learning snapshot (``--db``) where known with at least medium
        confidence, else from the workers' skill grades.
        """
        from seamline.adapters.layout_files import load_factory
        from seamline.planning.balance.check import check_plan
        from seamline.planning.balance.solver import balance_line
        from seamline.planning.from_layout import balance_problem

        layout = load_factory(factory)
        gone = frozenset(b.strip() for b in absent.split(",") if b.strip())
        eff: dict[tuple[str, str], float] = {}
        if db is not None:
            from seamline.adapters.efficiency_source import learned_efficiency

            from .cli_db import open_db

            eff = learned_efficiency(open_db(db), layout.factory.id, style)
            print(f"{len(eff)} learned efficiencies", file=sys.stderr)
        problem = balance_problem(layout, style, line, absent=gone, efficiency=eff)
        try:
            plan = balance_line(problem, time_limit)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            raise typer.Exit(2) from e
        errors = check_plan(problem, plan)
        if errors:
            print("\n".join(errors), file=sys.stderr)
            raise typer.Exit(1)
        sys.stdout.write(json.dumps(plan.summary(), ensure_ascii=False) + "\n")

    @app.command("load")
    def load(
        factory: Path = typer.Argument(..., exists=True, help="factory folder or .xlsx (seamline export format)"),
        start: str = typer.Option(..., "--start", help="first day, YYYY-MM-DD"),
        days: int = typer.Option(21, "--days"),
        what_if: str = typer.Option("", "--what-if", help="STYLE:QTY:DUE — can we take this order?"),
        time_limit: float = typer.Option(10.0, "--time-limit", help="seconds"),
    ) -> None:
        """Load the factory's orders onto its lines (JSON); with --what-if, answer yes/no."""
        from datetime import date

        from seamline.adapters.layout_files import load_factory
        from seamline.planning.from_layout import loading_problem
        from seamline.planning.loading.data import LoadOrder
        from seamline.planning.loading.solver import can_accept, solve_loading

        layout = load_factory(factory)
        problem = loading_problem(layout, date.fromisoformat(start), days)
        if not what_if:
            plan = solve_loading(problem, time_limit)
            if plan is None:
                print(
                    f"错误：{time_limit:g} 秒内没有找到排产方案 / error: no loading plan found within "
                    f"{time_limit:g} s: give it more time with --time-limit",
                    file=sys.stderr,
                )
                raise typer.Exit(1)
            sys.stdout.write(json.dumps(plan.summary()) + "\n")
            return
        try:
            style_code, qty, due = what_if.split(":")
            new = LoadOrder("WHAT-IF", style_code, int(qty), date.fromisoformat(due), layout.styles[style_code].sam_min)
        except (ValueError, KeyError) as e:
            print(f"error: --what-if wants STYLE:QTY:YYYY-MM-DD with a known style ({e})", file=sys.stderr)
            raise typer.Exit(2) from e
        v = can_accept(problem, new, time_limit)
        sys.stdout.write(
            json.dumps(
                {
                    "accept": v.accept,
                    "on_time": v.on_time,
                    "reason": v.reason,
                    "displaced": list(v.displaced),
                    "plan": v.plan.summary(),
                }
            )
            + "\n"
        )

    @app.command("solve")
    def solve(
        family: Family = typer.Argument(..., help="jssp (OR-Library/Taillard), fjsp (Brandimarte), salbp (.alb)"),
        path: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
        time_limit: float = typer.Option(10.0, "--time-limit", help="seconds"),
        cycle_time: int | None = typer.Option(None, "--cycle-time", help="SALBP cycle time (default: file's)"),
        seed: int = typer.Option(0, "--seed"),
        verbose: bool = typer.Option(False, "--verbose", "-v", help="progress on stderr"),
    ) -> None:
        """Solve a benchmark instance; print one JSON object on stdout."""
        t0 = time.monotonic()
        age0 = _process_age_s()

        def log(msg: str) -> None:
            if verbose:
                print(f"[{time.monotonic() - t0:6.2f}s] {msg}", file=sys.stderr, flush=True)

        from seamline.planning import readers

        def budget() -> float:
            # The whole process age (start-up, imports, parsing) counts against limit + grace.
            return solve_budget_s(time_limit, age0 + time.monotonic() - t0)

        result: dict[str, object]
        if family is Family.salbp:
            inst = readers.read_alb(path)
            if cycle_time is not None:
                inst = inst.with_cycle_time(cycle_time)
        else:
            inst_s = readers.read_jssp(path) if family is Family.jssp else readers.read_fjsp(path)
        log(f"parsed; process age {age0 + time.monotonic() - t0:.2f}s, budget {budget():.2f}s")
        if budget() < FAST_PATH_S:
            # Start-up ate the time (a loaded machine): answer with the pure-Python heuristics
            # rather than spend what is left importing CP-SAT.
            if family is Family.salbp:
                from seamline.planning.salbp.heuristics import best_greedy

                result = best_greedy(inst, 0.0).to_json()
            else:
                from seamline.planning.shop.rules import best_of_rules

                result = best_of_rules(inst_s).to_json()
            log("fast path: heuristics only")
        elif family is Family.salbp:
            from seamline.planning.salbp.solver import solve_salbp

            result = solve_salbp(inst, budget(), seed=seed, log=log).to_json()
        else:
            from seamline.planning.shop.solver import solve_shop

            b = budget()
            log(f"solver budget {b:.2f}s")
            result = solve_shop(inst_s, b, seed=seed, log=log).to_json()
        log(f"done {time.monotonic() - t0:.2f}s after the command started")
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        sys.stderr.flush()
        # The answer is out; skip interpreter teardown (CP-SAT's thread pools and module cleanup
        # take a few hundred milliseconds that count against the caller's time limit).
        os._exit(0)
