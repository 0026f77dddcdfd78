"""Run a bench with the seamline policy's switches set: the A/B of docs/closed-loop.md ("Robust,
then nominal; trials valued jointly") on one code base.

    .venv/bin/python bench/with_policy_flags.py ROBUST_THEN_NOMINAL=0,JOINT_TRIALS=0 bench/balance_gap.py [args]

Each NAME=VALUE sets ``seamline.twin.policy.seamline.NAME`` (0/1 for switches, a number else)
before the bench runs; the bench's worker processes are forked and inherit it.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import seamline.twin.policy.seamline as policy


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    for item in filter(None, sys.argv[1].split(",")):
        name, _, value = item.partition("=")
        old = getattr(policy, name)  # an unknown name fails here, not silently
        setattr(policy, name, bool(int(value)) if isinstance(old, bool) else type(old)(float(value)))
        print(f"{name} = {getattr(policy, name)}", file=sys.stderr)
    script = sys.argv[2]
    sys.path.insert(0, str(Path(script).resolve().parent))
    sys.argv = sys.argv[2:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
