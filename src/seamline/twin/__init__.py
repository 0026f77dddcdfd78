"""The digital twin: the simulator as the plant, seamline's planning as the controller.

``twin.policy`` holds the controllers (baseline, seamline, oracle) and what they see; it must
not import ``seamline.sim`` (import-linter: ``no-sim-in-decisions``). ``twin.loop`` wires a
controller to the simulated line and measures the result; ``twin.experiment`` runs the policies
on identical floors (docs/closed-loop.md).
"""
