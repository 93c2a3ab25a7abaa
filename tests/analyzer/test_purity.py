"""The analyzer stays pure: no Django, Celery or GitPython, neither in its source nor once imported."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ANALYZER = Path(__file__).resolve().parents[2] / "analyzer"
FORBIDDEN = ("django", "celery", "git")
SOURCES = sorted(ANALYZER.rglob("*.py"))


def imported_modules(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def is_forbidden(module: str) -> bool:
    return module.split(".")[0] in FORBIDDEN


def test_analyzer_sources_are_found():
    assert ANALYZER / "__init__.py" in SOURCES
    assert any(path.parent.name == "rules" for path in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: path.relative_to(ANALYZER).as_posix())
def test_module_imports_nothing_forbidden(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    assert not [module for module in imported_modules(tree) if is_forbidden(module)]


def test_a_whole_analysis_loads_nothing_forbidden(tmp_path):
    # Project facts import their modules lazily, so only a full run loads them all.
    (tmp_path / "Procfile").write_text("web: gunicorn app:app\n")
    (tmp_path / "requirements.txt").write_text("flask==3.0.3\ngunicorn==23.0.0\n")
    (tmp_path / "app.py").write_text("from flask import Flask\n\napp = Flask(__name__)\n")
    script = (
        "import json, sys\nimport analyzer\nanalyzer.analyze(sys.argv[1])\nprint(json.dumps(sorted(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        cwd=ANALYZER.parent,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    loaded = json.loads(result.stdout)
    assert "analyzer.rules" in loaded
    assert not [module for module in loaded if is_forbidden(module)]
