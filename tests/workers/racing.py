"""Two beats at once: the harness the schedulers' no-double-dispatch tests share."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

from django.db import connection


def race_two_beats(monkeypatch, module, claim_name: str, beat_once: Callable[[], dict]) -> list[dict]:
    """Run `beat_once` in two threads whose first calls of `module.claim_name` wait for each other,
    so both beats have listed what is due before either claims it: the worst overlap.

    SQLite admits one writer at a time: a file database makes the other wait, the tests' shared
    in-memory one raises instead. There the claims take turns, as on a file database; on Postgres
    they race freely. Returns each beat's outcome; an error in a beat fails the test."""
    listed = threading.Barrier(2)
    writer = threading.Lock() if connection.vendor == "sqlite" else contextlib.nullcontext()
    claim = getattr(module, claim_name)
    first = threading.local()

    def racing_claim(*args, **kwargs):
        if not getattr(first, "done", False):
            first.done = True
            listed.wait()
        with writer:
            return claim(*args, **kwargs)

    monkeypatch.setattr(module, claim_name, racing_claim)
    outcomes: list[dict] = []
    errors: list[BaseException] = []

    def beat() -> None:
        try:
            outcomes.append(beat_once())
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=beat) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return outcomes
