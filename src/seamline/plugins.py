"""Optional feature modules: a feature plugs in by existing, so features never edit shared files."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Iterator
from types import ModuleType


def optional_modules(names: Iterable[str]) -> Iterator[ModuleType]:
    """Import each named module that exists (its package too); skip the ones that don't."""
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            yield importlib.import_module(name)
