"""The planning engine: line balancing, next-task dispatch, order loading and shop scheduling.

Every sub-package follows the same shape (after PyJobShop): problem data (plain dataclasses) →
model (a CP-SAT builder) → solver backend (time limits, hints, large-neighbourhood search) →
solution (plain dataclasses plus an independent feasibility checker). Heuristics — dispatch rules,
greedy constructions — live in their own modules, because they serve both as stand-alone fast
answers and as the starting solutions that make CP-SAT strong on larger instances.
"""
