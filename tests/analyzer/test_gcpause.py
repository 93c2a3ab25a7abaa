"""The cycle collector is paused during an analysis and always comes back on."""

from __future__ import annotations

import gc

import pytest

from analyzer import analyze, engine
from analyzer.gcpause import collector_paused


def test_the_collector_is_back_on_after_an_analysis(repo):
    seen = []
    root = repo({"Procfile": "web: gunicorn app:app\n", "app.py": "from flask import Flask\napp = Flask(__name__)\n"})
    with pytest.MonkeyPatch.context() as patch:
        original = engine._run_rules

        def spy(project, rules):
            seen.append(gc.isenabled())
            return original(project, rules)

        patch.setattr(engine, "_run_rules", spy)
        analyze(root)
    assert seen and not any(seen)
    assert gc.isenabled()


def test_the_collector_comes_back_on_after_an_error_and_only_when_the_outer_pause_ends():
    with pytest.raises(RuntimeError), collector_paused():
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off():
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
