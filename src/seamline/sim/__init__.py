"""A sewing-floor simulator that speaks the sensor protocol (docs/simulator.md).

``simulate`` runs offline and returns the event stream with its ground truth; ``run_live``
publishes to an MQTT broker until stopped; ``write_jsonl``/``read_jsonl`` make replay files.
"""

from .balance import initial_balance
from .config import SimConfig, SimProgress, default_start
from .engine import Engine
from .generator import SimResult, simulate
from .jsonl import read_jsonl, write_jsonl
from .publish import parse_mqtt_url, publish_events, run_live
from .truth import read_truth, write_truth

__all__ = [
    "Engine",
    "SimConfig",
    "SimProgress",
    "SimResult",
    "default_start",
    "initial_balance",
    "parse_mqtt_url",
    "publish_events",
    "read_jsonl",
    "read_truth",
    "run_live",
    "simulate",
    "write_jsonl",
    "write_truth",
]
