"""Controllers of a sewing line: they see decoded sensor events only, never the simulator.

Nothing in this package may import ``seamline.sim`` (import-linter: ``no-sim-in-decisions``);
the oracle gets the true efficiencies handed in as a plain dict by the experiment, which is the
one place that reads the truth.
"""

from .baseline import BaselinePolicy
from .oracle import OraclePolicy
from .protocol import Controller, Directive, Option
from .seamline import SeamlinePolicy

__all__ = ["BaselinePolicy", "Controller", "Directive", "Option", "OraclePolicy", "SeamlinePolicy"]
