"""Pausing Python's cycle collector while the analyzer builds its trees."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The analysis keeps nearly everything it builds (syntax trees, scopes, values) until it ends
    and leaves little cyclic garbage, so the collector's full passes over the growing heap would
    only cost time (about a sixth of a run on a 2,000-module tree). Nested pauses are free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
