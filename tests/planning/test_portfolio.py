"""The portfolio: the engine and IPBS on a core each, trading plans halfway; the shorter cycle
wins, the engine alone where IPBS does not apply."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from seamline.planning.balance import portfolio
from seamline.planning.balance.check import check_line
from seamline.planning.balance.data import LineProblem, LineSolution
from seamline.planning.readers import bench_dir, read_alwabp


def _line() -> LineProblem:
    return read_alwabp(bench_dir() / "alwabp" / "roszieg-41.alwabp")


def _worse_plan(p: LineProblem, good: LineSolution) -> LineSolution:
    """A feasible plan with a longer cycle: two stations' workers swapped (precedence still holds)."""
    st = list(good.stations)
    for i in range(len(st)):
        for j in range(i + 1, len(st)):
            alt = list(st)
            alt[i], alt[j] = (st[j][0], st[i][1]), (st[i][0], st[j][1])
            cand = LineSolution(tuple(alt))
            try:
                ok = check_line(p, cand, cand.cycle_time(p)) == []
            except (TypeError, ValueError):  # a worker who cannot do a task there
                ok = False
            if ok and cand.cycle_time(p) > good.cycle_time(p):
                return cand
    raise AssertionError("no worse feasible swap")


def _engine_sending(best: LineSolution, poor: LineSolution, busy_s: float) -> Callable[..., LineSolution]:
    """An engine that sends ``best`` to the search process at once, works ``busy_s`` seconds and
    answers ``poor``: a good answer can then only come through the search process."""

    def engine(*a: object, exchange: Callable[[LineSolution], LineSolution | None], **k: object) -> LineSolution:
        exchange(best)
        time.sleep(busy_s)
        return poor

    return engine


def test_the_better_plan_of_the_two_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _line()
    from seamline.planning.balance import solver

    best = portfolio.solve_ipbs(p, 3.0, seed=0)
    poor = _worse_plan(p, best)
    # The engine made to answer a poorer plan: the search's plan, found in the forked child, wins.
    monkeypatch.setattr(solver, "solve_line", lambda *a, **k: poor)
    said: list[str] = []
    sol = portfolio.solve_portfolio(p, 3.0, seed=0, log=said.append)
    assert check_line(p, sol, sol.cycle_time(p)) == []
    assert sol.cycle_time(p) == best.cycle_time(p) < poor.cycle_time(p)
    assert said and said[-1].startswith("portfolio: the search process's")
    # ... and on a tie the engine's plan stands.
    monkeypatch.setattr(solver, "solve_line", lambda *a, **k: best)
    assert portfolio.solve_portfolio(p, 1.0, seed=0) is best


def test_a_child_that_fails_leaves_the_engine_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _line()

    def boom(*a: object, **k: object) -> LineSolution:
        raise ValueError("no plan")

    monkeypatch.setattr(portfolio, "solve_ipbs", boom)
    sol = portfolio.solve_portfolio(p, 1.5, seed=0)
    assert check_line(p, sol, sol.cycle_time(p)) == []


def test_machine_types_go_to_the_engine_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _line()
    typed = LineProblem(name="typed", times=p.times, precedence=p.precedence, task_type=tuple(None for _ in p.times))
    assert not portfolio.applicable(typed)
    called: list[str] = []
    real = portfolio.solve_ipbs

    def spy(*a: object, **k: object) -> LineSolution:
        called.append("ipbs")
        return real(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(portfolio, "solve_ipbs", spy)
    sol = portfolio.solve_portfolio(typed, 1.0, seed=0)
    assert called == [] and check_line(typed, sol, sol.cycle_time(typed)) == []


def test_the_engine_gets_the_search_plan_between_its_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    p = _line()
    from seamline.planning.balance import solver

    best = portfolio.solve_ipbs(p, 3.0, seed=0)
    poor = _worse_plan(p, best)
    monkeypatch.setattr(portfolio, "solve_ipbs", lambda *a, **k: best)
    got: list[LineSolution] = []

    def engine(*a: object, exchange: solver.Exchange, **k: object) -> LineSolution:
        # An engine stuck at a poor plan asks between its steps until the search's plan comes.
        end = time.monotonic() + 2.0
        while not got and time.monotonic() < end:
            other = exchange(poor)
            if other is not None:
                got.append(other)
            time.sleep(0.02)
        return poor

    monkeypatch.setattr(solver, "solve_line", engine)
    sol = portfolio.solve_portfolio(p, 3.0, seed=0)
    assert got and got[0].cycle_time(p) == best.cycle_time(p) < poor.cycle_time(p)
    assert sol.cycle_time(p) == best.cycle_time(p)


def test_the_search_process_improves_the_engine_plan_it_gets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The child's own beam is made poor and its local search only takes what it is sent; the
    engine sends it the best plan and answers a poor one at the end: only the plan the child got
    from the engine can explain a good answer."""
    p = _line()
    from seamline.planning.balance import solver

    best = portfolio.solve_ipbs(p, 3.0, seed=0)
    poor = _worse_plan(p, best)
    monkeypatch.setattr(portfolio, "solve_ipbs", lambda *a, **k: poor)

    def local_search(
        p: LineProblem, sol: LineSolution, *, before: Callable[[LineSolution], LineSolution], **k: object
    ) -> LineSolution:
        end = time.monotonic() + 1.0
        while sol is poor and time.monotonic() < end:
            sol = before(sol)
            time.sleep(0.02)
        return sol

    monkeypatch.setattr(portfolio, "iterated_tabu", local_search)

    monkeypatch.setattr(solver, "solve_line", _engine_sending(best, poor, 1.0))
    said: list[str] = []
    sol = portfolio.solve_portfolio(p, 2.0, seed=0, log=said.append)
    assert check_line(p, sol, sol.cycle_time(p)) == []
    assert sol.cycle_time(p) <= best.cycle_time(p) < poor.cycle_time(p)
    assert said and said[-1].startswith("portfolio: the search process's")


def test_the_search_process_goes_on_from_a_plan_sent_during_its_beam(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The engine sends its best plan at once, while the child's beam still runs. When the beam
    ends, the child's local search must start from that plan, not from the beam's poorer one (it
    once read the plan waiting there and dropped it). The forked child writes down the cycle its
    local search starts from."""
    p = _line()
    from seamline.planning.balance import solver

    best = portfolio.solve_ipbs(p, 3.0, seed=0)
    poor = _worse_plan(p, best)
    seen = tmp_path / "start_cycle"

    def slow_poor_beam(*a: object, **k: object) -> LineSolution:
        time.sleep(1.0)
        return poor

    def local_search(p: LineProblem, sol: LineSolution, **k: object) -> LineSolution:
        seen.write_text(str(sol.cycle_time(p)))
        return sol

    monkeypatch.setattr(portfolio, "solve_ipbs", slow_poor_beam)
    monkeypatch.setattr(portfolio, "_repacked", lambda p, sol, *a, **k: sol)
    monkeypatch.setattr(portfolio, "iterated_tabu", local_search)

    monkeypatch.setattr(solver, "solve_line", _engine_sending(best, poor, 2.0))
    sol = portfolio.solve_portfolio(p, 3.0, seed=0)
    assert int(seen.read_text()) == best.cycle_time(p) < poor.cycle_time(p)
    assert sol.cycle_time(p) == best.cycle_time(p)
