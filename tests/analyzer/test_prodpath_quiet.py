"""Quiet modules (prodpath/quiet.py): walked from CPython's tree, with the same results as the libcst walk."""

from __future__ import annotations

import libcst.matchers as m
import pytest

from analyzer.platform import Platform
from analyzer.prodpath import describe
from analyzer.prodpath.quiet import Prover
from analyzer.prodpath.values import code_of
from analyzer.project import Project

BASE = {
    "Procfile": "web: gunicorn wsgi:app\n",
    "requirements.txt": "flask\ngunicorn\nflask-sqlalchemy\n",
    "wsgi.py": "from app import create_app\napp = create_app()\n",
    "app/extensions.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n",
    "app/__init__.py": (
        "import os\nfrom flask import Flask\nfrom .extensions import db\n\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        "    app.config['SECRET_KEY'] = os.environ.get('SECRET_KEY', 'dev')\n"
        "    db.init_app(app)\n"
        "    from . import views\n"
        "    app.register_blueprint(views.bp)\n"
        "    return app\n"
    ),
    "app/helpers.py": "import os\n\ndef util():\n    return os.environ['UTIL']\n\nclass Service:\n    pass\n",
    "app/models.py": (
        "from datetime import datetime\n\nfrom .extensions import db\n\n\n"
        "class User(db.Model):\n"
        "    id = db.Column(db.Integer, primary_key=True)\n"
        "    created = db.Column(db.DateTime, default=datetime.utcnow)\n\n"
        "    def __repr__(self):\n"
        "        return str(self.id)\n"
    ),
    "app/compat.py": "from flask import Flask as F\n",
    "app/sub.py": "Y = 2\n",
}
HEAD = "from flask import Blueprint\nfrom .helpers import util, Service\nfrom .models import User\n\nbp = Blueprint('v', __name__)\n"
# The module under test is app/views.py: its head, then the lines of the case. True: it is quiet.
VIEWS = {
    "routes": (True, "@bp.route('/', methods=['GET'])\ndef index():\n    return str(User.query.all())\n"),
    "external calls": (True, "import logging\nlog = logging.getLogger(__name__)\nlog.info('x')\n"),
    "main guard": (True, "if __name__ == '__main__':\n    util()\n"),
    "main guard else": (False, "if __name__ == '__main__':\n    pass\nelse:\n    util()\n"),
    "try import": (True, "try:\n    import ujson as json\nexcept ImportError:\n    import json\njson.dumps({})\n"),
    "loops and with": (True, "for i in range(2):\n    print(i)\nwith open('x') as fh:\n    fh.read()\n"),
    "class body": (True, "class A:\n    x = len('a')\n    class B:\n        y = bp.route('/b')\n"),
    "semicolons": (True, "import json; json.dumps(1); x = 1\n"),
    "repo call": (False, "util()\n"),
    "repo call through an alias": (False, "run = util\nrun()\n"),
    "repo call in a value": (False, "token = util()\ntoken.strip()\n"),
    "repo class": (False, "Service()\n"),
    "repo call in a decorator": (False, "@util()\ndef f():\n    pass\n"),
    "repo call in a default": (False, "def f(x=util()):\n    pass\n"),
    "repo call in a comprehension": (False, "values = [util() for _ in range(2)]\n"),
    "repo call in a class body": (False, "class A:\n    v = util()\n"),
    "class body shadowing": (False, "class A:\n    str = util\n    v = str(1)\n"),
    "flask through another module": (False, "from .compat import F\nother = F(__name__)\n"),
    "undecided if": (False, "import sys\nif sys.argv:\n    pass\n"),
    "env read": (False, "import os\nKEY = os.environ.get('KEY')\n"),
    "init_app": (False, "import threading\nthreading.Thread(target=print).start()\n"),
    "config": (False, "bp.config.update({'A': 1})\n"),
    "star import of a repo module": (True, "from .sub import *\n"),
    "module level raise": (True, "raise SystemExit('no')\nimport app.sub\n"),
    "lambda": (True, "later = lambda: util()\n"),
}


def files_for(case: str) -> dict[str, str]:
    return {**BASE, "app/views.py": HEAD + VIEWS[case][1]}


def snapshot(project: Project) -> dict:
    """Everything the production path tells, materialized."""
    production = project.production
    reach = production.reach
    calls = {}
    for path in production.modules:
        module = project.python(path)
        calls[path] = [
            (module.position(call), getattr(reach.step_of(call), "seq", None))
            for call in m.findall(module.tree, m.Call())
        ]
    lines = {}
    for path in production.modules:
        text = project.python_source(path) or ""
        lines[path] = [line for line in range(1, text.count("\n") + 2) if production.runs(path, line)]
    steps = [
        (
            s.seq,
            s.path,
            s.line,
            type(s.node).__name__,
            s.conditional,
            s.function,
            s.scope.kind,
            s.scope.name,
            code_of(s.module, s.node),
        )
        for s in reach.steps
    ]
    configs = [
        (
            {
                key: (describe(s.value), s.value.trace, s.where, s.source, s.seq, s.conditional)
                for key, s in c.settings.items()
            },
            [(op.kind, op.where, op.seq, op.code, op.conditional, op.loaded, op.note) for op in c.operations],
            [cls.name for cls in c.selected],
            [cls.name for cls in c.unselected],
        )
        for c in production.configs
    ]
    extensions = [
        (use.kind, use.where, use.on_path, use.seq, [(i.path, i.line, i.seq, i.via) for i in use.inits])
        for use in production.extensions
    ]
    return {
        "modules": [(path, production.why(path)) for path in production.modules],
        "functions": [run.reason for run in production.functions_run],
        "apps": [app.where for app in reach.apps],
        "configs": configs,
        "extensions": extensions,
        "env": production.env_contract(),
        "calls": calls,
        "runs": lines,
        "steps": steps,
    }


def full_walk(monkeypatch, root, **kwargs) -> dict:
    with monkeypatch.context() as patch:
        patch.setattr(Prover, "quiet", lambda self, path: None)
        return snapshot(Project(root, **kwargs))


@pytest.mark.parametrize("case", sorted(VIEWS))
def test_the_quiet_walk_gives_what_the_full_walk_gives(repo, monkeypatch, case):
    root = repo(files_for(case))
    project = Project(root)
    quiet, _ = VIEWS[case]
    assert ("app/views.py" in project.production.reach._quiet) is quiet
    assert snapshot(project) == full_walk(monkeypatch, root)


@pytest.mark.parametrize("case", ["routes", "main guard", "repo call"])
def test_a_quiet_script_entry_gives_what_the_full_walk_gives(repo, monkeypatch, case):
    root = repo({**files_for(case), "Procfile": "web: python app/views.py\n"})
    assert snapshot(Project(root)) == full_walk(monkeypatch, root)


def test_an_assumed_app_and_a_conditional_import(repo, monkeypatch):
    files = files_for("routes")
    del files["Procfile"]
    files["app/__init__.py"] = files["app/__init__.py"].replace(
        "    from . import views\n",
        "    try:\n        from . import views\n    except ImportError:\n        views = None\n",
    )
    root = repo(files)
    assert snapshot(Project(root)) == full_walk(monkeypatch, root)


def test_a_generated_project(tmp_path, monkeypatch):
    from bench.analyzer_speed import generate_flask_tree

    generate_flask_tree(tmp_path, 60)
    project = Project(tmp_path, platform=Platform(variables=("SECRET_KEY",)))
    production = project.production
    production.env_contract()
    quiet = set(production.reach._quiet)
    assert {"app/accounts/views_0.py", "app/accounts/models_0.py"} <= quiet
    # The path never parses a quiet module with libcst unless something asks for its nodes.
    assert all(project.parsed(path) is None for path in quiet)
    assert snapshot(project) == full_walk(monkeypatch, tmp_path, platform=Platform(variables=("SECRET_KEY",)))


def test_calls_with_needles_leave_other_quiet_modules_unparsed(repo):
    files = files_for("routes")
    files["app/other.py"] = "from flask import Blueprint\nother = Blueprint('o', __name__)\nother.add_url_rule('/o')\n"
    files["app/views.py"] += "from . import other\n"
    project = Project(repo(files))
    reach = project.production.reach
    found = [
        (step.path, step.quiet, project.python(step.path).code(call)) for call, step in reach.calls(b"add_url_rule")
    ]
    assert project.parsed("app/views.py") is None
    assert found == [
        ("app/other.py", True, "Blueprint('o', __name__)"),
        ("app/other.py", True, "other.add_url_rule('/o')"),
    ]
    assert [call for call, step in reach.calls() if step.path == "app/other.py"] == [
        call for call, step in reach.calls(b"add_url_rule")
    ]
