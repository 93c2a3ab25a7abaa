"""Which code runs on the production path: modules, functions, main guards, the entry."""

from __future__ import annotations

from analyzer.platform import Platform
from analyzer.prodpath import Known
from analyzer.project import Project


def production(repo, files, app_root=".", **platform):
    return Project(repo(files), app_root, Platform.from_dict(platform or None)).production


PACKAGE = {
    "Procfile": "web: gunicorn wsgi:app\n",
    "wsgi.py": "from shop import create_app\napp = create_app()\n",
    "shop/__init__.py": (
        "from flask import Flask\nfrom .extensions import db\n\n"
        "def create_app():\n"
        "    app = Flask(__name__)\n"
        "    from .views import bp\n"
        "    app.register_blueprint(bp)\n"
        "    register(app)\n"
        "    return app\n\n"
        "def register(app):\n"
        "    from . import cli\n\n"
        "def unused():\n"
        "    from . import admin\n"
    ),
    "shop/extensions.py": "from flask_sqlalchemy import SQLAlchemy\ndb = SQLAlchemy()\n",
    "shop/views.py": "from flask import Blueprint\nfrom .models import Item\nbp = Blueprint('v', __name__)\n",
    "shop/models.py": "from .extensions import db\nclass Item(db.Model):\n    pass\n",
    "shop/cli.py": "X = 1\n",
    "shop/admin.py": "Y = 1\n",
    "scripts/seed.py": "from shop import create_app\n",
}


def test_it_follows_imports_transitively_in_execution_order(repo):
    path = production(repo, PACKAGE)
    assert path.modules == [
        "wsgi.py",
        "shop/__init__.py",
        "shop/extensions.py",
        "shop/views.py",
        "shop/models.py",
        "shop/cli.py",
    ]
    assert not path.imported("shop/admin.py")
    assert not path.imported("scripts/seed.py")
    assert [run.function.name for run in path.functions_run] == ["create_app", "register"]
    assert path.entry.kind == "server" and not path.assumed


def test_why_gives_the_import_chain(repo):
    path = production(repo, PACKAGE)
    assert path.why("shop/models.py") == [
        "wsgi.py is loaded by gunicorn: `wsgi:app` (Procfile:1)",
        "shop/__init__.py is imported at wsgi.py:1",
        "shop/views.py is imported at shop/__init__.py:6",
        "shop/models.py is imported at shop/views.py:2",
    ]
    run = path.reach.function_run(path.functions_run[0].function.node)
    assert run.reason == "`create_app()` (shop/__init__.py:4) runs: called at wsgi.py:2"


def test_the_main_guard_is_not_on_the_path_under_gunicorn(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": (
            "from flask import Flask\napp = Flask(__name__)\n"
            "if __name__ == '__main__':\n    import devtools\n    app.run(debug=True)\n"
            "else:\n    import prodtools\n"
        ),
        "devtools.py": "",
        "prodtools.py": "",
    }
    path = production(repo, files)
    assert path.modules == ["app.py", "prodtools.py"]
    assert not path.runs("app.py", 5)
    assert path.runs("app.py", 2)
    assert path.app is not None and path.app.line == 2


def test_a_script_start_runs_the_main_guard(repo):
    files = {
        "Procfile": "web: python app.py\n",
        "app.py": "from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    import devtools\n    app.run()\n",
        "devtools.py": "",
    }
    path = production(repo, files)
    assert path.entry.kind == "dev-server" and path.entry.main
    assert path.modules == ["app.py", "devtools.py"]
    assert path.runs("app.py", 5)


def test_a_script_in_a_subfolder_imports_its_siblings(repo):
    files = {
        "Procfile": "web: python src/server.py\n",
        "src/server.py": "from flask import Flask\nimport helpers\napp = Flask(__name__)\n",
        "src/helpers.py": "",
    }
    assert production(repo, files).modules == ["src/server.py", "src/helpers.py"]


def test_flask_run_uses_flask_app(repo):
    files = {
        "Procfile": "web: flask run --host 0.0.0.0\n",
        ".flaskenv": "FLASK_APP=factory_app\n",
        "factory_app.py": "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n",
    }
    path = production(repo, files)
    assert path.entry.kind == "dev-server"
    assert [run.function.name for run in path.functions_run] == ["create_app"]
    assert path.app is not None


def test_a_monorepo_app_root(repo):
    files = {
        "services/api/Procfile": "web: gunicorn main:app\n",
        "services/api/main.py": "from flask import Flask\nfrom api import routes\napp = Flask(__name__)\n",
        "services/api/api/__init__.py": "",
        "services/api/api/routes.py": "",
        "main.py": "raise SystemExit\n",
    }
    path = production(repo, files, app_root="services/api")
    assert path.modules == ["services/api/main.py", "services/api/api/__init__.py", "services/api/api/routes.py"]


def test_without_a_start_command_the_discovered_app_is_assumed(repo):
    files = {
        "app/__init__.py": "from flask import Flask\nimport os\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n",
        "app/util.py": "",
    }
    path = production(repo, files)
    assert path.assumed
    assert path.entry.evidence[0].startswith(
        "assumed: no start command; taking the Flask app(s) found: `app:create_app()`"
    )
    assert path.modules == ["app/__init__.py"]
    assert path.why("app/__init__.py")[0].startswith("assumed:")
    assert [run.function.name for run in path.functions_run] == ["create_app"]


def test_nothing_found(repo):
    path = production(repo, {"README.md": "hi\n"})
    assert path.entry.kind == "none"
    assert path.modules == [] and path.config is None and path.env_reads == []


def test_import_aliases_and_star_imports(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": "from flask import Flask\nimport pkg.sub as s\nfrom settings import *\napp = Flask(__name__)\nV = s.X\nW = VALUE\n",
        "pkg/__init__.py": "",
        "pkg/sub.py": "X = 'sub'\n",
        "settings.py": "VALUE = 'star'\n",
    }
    path = production(repo, files)
    assert path.modules == ["app.py", "pkg/__init__.py", "pkg/sub.py", "settings.py"]
    module = path.evaluator.module_scope("app.py").module
    statements = module.tree.body
    assert path.evaluate(statements[-2].body[0].value, "app.py") == Known("sub")
    assert path.evaluate(statements[-1].body[0].value, "app.py") == Known("star")


def test_an_undecided_import_is_conditional(repo):
    files = {
        "Procfile": "web: gunicorn app:app\n",
        "app.py": "import os\nfrom flask import Flask\nif os.environ.get('SENTRY_DSN'):\n    import monitoring\napp = Flask(__name__)\n",
        "monitoring.py": "",
    }
    path = production(repo, files, variables=["SENTRY_DSN"])
    assert path.reach.visits["monitoring.py"].conditional
    assert path.why("monitoring.py")[-1] == "monitoring.py is imported at app.py:4 (conditionally)"
    assert not production(repo, files, variables=[]).imported("monitoring.py")


def test_recursion_and_circular_imports_terminate(repo):
    files = {
        "Procfile": "web: gunicorn a:app\n",
        "a.py": "from flask import Flask\nimport b\napp = Flask(__name__)\ndef f(n):\n    return f(n)\nX = f(1)\n",
        "b.py": "import a\nY = a.X\n",
    }
    path = production(repo, files)
    assert path.modules == ["a.py", "b.py"]


def test_python_m_and_manage_py_run_as_main(repo):
    files = {
        "Procfile": "web: python -m server\n",
        "server/__init__.py": "",
        "server/__main__.py": "from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    app.run()\n",
    }
    path = production(repo, files)
    assert path.entry.main and path.entry.path == "server/__main__.py"
    assert path.runs("server/__main__.py", 4)
    files = {
        "Procfile": "web: python manage.py runserver\n",
        "manage.py": "from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    import cli\n",
        "cli.py": "",
    }
    assert production(repo, files).modules == ["manage.py", "cli.py"]


def test_flask_run_loads_the_env_files_with_python_dotenv(repo):
    files = {
        "Procfile": "web: flask run\n",
        "requirements.txt": "flask\npython-dotenv\n",
        ".flaskenv": "FLASK_APP=app\nMODE=from-flaskenv\n",
        "app.py": "import os\nfrom flask import Flask\napp = Flask(__name__)\napp.config['MODE'] = os.getenv('MODE', 'dev')\n",
    }
    path = production(repo, files)
    assert path.setting("MODE").value.effective == Known("from-flaskenv")
    files["requirements.txt"] = "flask\n"
    assert production(repo, files).setting("MODE").value.effective == Known("dev")
