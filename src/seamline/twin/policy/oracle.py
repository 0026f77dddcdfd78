"""The upper bound: seamline's policy balancing on the truth as it is at each moment.

The only policy that knows the truth, and it does not fetch it: the experiment hands in a
function that returns the simulator's hidden efficiency of every (worker, style, operation) *now*
— the steady state times the learning curve where the worker's pieces of it have brought her, a
pair she has never sewn at the bottom of its curve (``twin.experiment.current_efficiency``, the
same truth the bench scores balance quality on). Balancing on the steady state instead credited
learners with speed they did not have yet: that oracle's day plans scored only 0.79–0.88 of the
optimum on the floor's truth and seamline out-produced it (issue #21).

Since the truth does not need to be estimated, the oracle re-balances at every decision point,
whenever the truth's optimum for the people present (with the fewest changes, as every policy's
re-balance) shortens the cycle of the plan on the floor, scored on the same truth, by more than
``min_gain``. The simulated plant charges a move nothing but the learning curve of a pair the
worker has not sewn yet, which the truth already counts; ``min_gain`` (half the re-balance's own
2 % tolerance) only keeps the oracle from swapping one plan for another that the tolerance alone
makes look better. Everything else (dispatch, release, order priority) is seamline's, so the gap
between the two is what learning from the events costs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from seamline.domain.model import FactoryLayout, Operation

from .balancing import LineBalance, cycle_of, problem_for
from .base import LineState, PolicyBase
from .protocol import Directive
from .seamline import SeamlinePolicy

# horizon in pieces -> {(badge, style, op): the pair's true efficiency over her next that many
# pieces of it from where her learning curve stands now (0: at this moment), fraction of standard}
TruthNow = Callable[[int], Mapping[tuple[str, str, str], float]]


class OraclePolicy(SeamlinePolicy):
    name = "oracle"
    # A re-balance is handed out when it shortens the cycle on the truth by more than this.
    min_gain = 0.01
    # The pieces ahead the truth is read over (0: the efficiency at this moment).
    horizon_pieces = 0

    def __init__(
        self,
        layout: FactoryLayout,
        lines: Sequence[str],
        truth_now: TruthNow,
        *,
        time_limit_s: float = 0.5,
    ) -> None:
        super().__init__(layout, lines, time_limit_s=time_limit_s)
        self.truth_now = truth_now
        self._truth: Mapping[tuple[str, str, str], float] = {}

    def decide(self, now: datetime) -> list[Directive]:
        self._truth = self.truth_now(self.horizon_pieces)  # the floor as it stands at this decision point
        return super().decide(now)

    def efficiency(self, badge: str, style: str, op: Operation) -> float:
        return self._truth.get((badge, style, op.code), 0.5)

    def wants(self, line: str, ls: LineState, now: datetime, present: dict[str, str], style: str) -> str | None:
        if ls.balance is None or ls.style != style:
            return "start"
        if frozenset(present.items()) != ls.present:
            return "people"
        return "truth"  # every decision point: the truth moves as people learn

    def rebalance(
        self, line: str, ls: LineState, now: datetime, present: dict[str, str], style: str, reason: str
    ) -> LineBalance | None:
        """The engine's balance on the truth, handed out when ``accept`` says it pays: not
        seamline's weighing of moves, whose costs are learned estimates the oracle does not need."""
        return PolicyBase.rebalance(self, line, ls, now, present, style, reason)

    def accept(self, ls: LineState, new: LineBalance, reason: str) -> bool:
        if reason != "truth" or ls.balance is None:
            return True
        problem, _ = problem_for(
            self.layout, ls.style, dict(ls.present), lambda b, op: self.efficiency(b, ls.style, op)
        )
        return new.plan.cycle_min < cycle_of(ls.balance.plan, problem) * (1.0 - self.min_gain)
