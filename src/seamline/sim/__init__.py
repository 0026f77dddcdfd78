"""A sewing-floor simulator that speaks the sensor protocol (docs/simulator.md).

``simulate`` runs offline and returns the event stream with its ground truth; ``pacing`` times a
stream against the wall clock; ``write_jsonl``/``read_jsonl`` make replay files. Putting events on an
MQTT broker (``run_live``, ``publish_events``) is ``seamline.adapters.sim_publish``: the simulator
itself touches no broker.
"""

from .balance import initial_balance
from .config import SimConfig, SimProgress, default_start
from .engine import Engine
from .generator import SimResult, simulate
from .jsonl import read_jsonl, write_jsonl
from .truth import read_truth, write_truth

__all__ = [
    "Engine",
    "SimConfig",
    "SimProgress",
    "SimResult",
    "default_start",
    "initial_balance",
    "read_jsonl",
    "read_truth",
    "simulate",
    "write_jsonl",
    "write_truth",
]
