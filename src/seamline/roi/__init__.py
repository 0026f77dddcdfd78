"""Retrofit ROI and payback, measured from the factory's own data (docs/roi.md).

Owners decide on a retrofit with one question: how many months until it has paid for itself, and
how sure is that number. This package answers it from sensor data: ``inputs`` holds what the
owner enters (costs, rates, a hand baseline), ``measure`` turns per-block facts into before/after
figures, ``money`` turns each difference into CNY per month with one explicit formula each,
``spread`` gives the payback range (bootstrap) and the sensitivity cases. ``collect`` is the only
module that reads the live state and the event store; ``report`` assembles what the page, the
PDF and the API show. Money is ``Decimal`` throughout.
"""
