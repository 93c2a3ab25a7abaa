"""The effective start command, the server it runs and the WSGI target, as RULES.md orders them."""

from __future__ import annotations

import pytest

from analyzer.gunicorn import parse_gunicorn_args
from analyzer.platform import Platform
from analyzer.project import Project
from analyzer.shell import parameters, parse_chain
from tests.analyzer.conftest import write_repo

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def project(tmp_path, files, platform=None, app_root="."):
    return Project(write_repo(tmp_path / "repo", files), app_root, Platform.from_dict(platform))


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("gunicorn app:app", [["gunicorn", "app:app"]]),
        ("flask db upgrade && gunicorn app:app", [["flask", "db", "upgrade"], ["gunicorn", "app:app"]]),
        ("gunicorn app:create_app\\(\\)", [["gunicorn", "app:create_app()"]]),
        ("gunicorn 'app:create_app(\"prod\")'", [["gunicorn", 'app:create_app("prod")']]),
        ("sh -c 'flask db upgrade; exec gunicorn wsgi:app'", [["flask", "db", "upgrade"], ["gunicorn", "wsgi:app"]]),
        ('/bin/bash -lc "gunicorn -b 0.0.0.0:$PORT app:app"', [["gunicorn", "-b", "0.0.0.0:$PORT", "app:app"]]),
        ("FLASK_APP=x poetry run gunicorn x:app >> log 2>&1", [["gunicorn", "x:app"]]),
        ("python -m gunicorn a:b # trailing comment", [["python", "-m", "gunicorn", "a:b"]]),
        ("uv run --no-dev gunicorn main:app", [["gunicorn", "main:app"]]),
        ("newrelic-admin run-program gunicorn app:app", [["gunicorn", "app:app"]]),
        ("env FOO=1 exec gunicorn app:app", [["gunicorn", "app:app"]]),
        ("gunicorn \\\n  --workers 2 \\\n  app:app", [["gunicorn", "--workers", "2", "app:app"]]),
    ],
)
def test_commands_split_like_sh(command, expected):
    assert [c.argv for c in parse_chain(command)] == expected


def test_cd_changes_the_directory_of_later_commands():
    commands = parse_chain("cd backend && gunicorn wsgi:app")
    assert commands[-1].cwd == "backend"


def test_parameter_defaults_are_read():
    assert parameters("0.0.0.0:${PORT:-8000}") == [("PORT", "8000")]
    assert parameters("$PORT") == [("PORT", None)]


def test_gunicorn_arguments_follow_its_argparse_rules():
    args = parse_gunicorn_args(
        ["-w4", "--bind=0.0.0.0:$PORT", "--preload", "-k", "gevent", "app:app", "--chdir", "src"]
    )
    assert args.last("--workers") == "4"
    assert args.binds == ["0.0.0.0:$PORT"]
    assert args.target == "app:app"
    assert args.last("--chdir") == "src"
    assert args.has("--preload")


@pytest.mark.parametrize(
    "argv",
    [
        ["--access-logfile", "-", "app:app"],
        ["--error-logfile", "-", "--log-file", "-", "app:app"],
        ["app:app", "--access-logfile", "-"],
        ["--log-level", "info", "--timeout", "-1", "app:app"],
    ],
)
def test_a_lone_dash_and_a_negative_number_are_option_values(argv):
    """argparse takes `-` (stdout) and `-1` as values: they are not the app target."""
    args = parse_gunicorn_args(argv)
    assert args.target == "app:app"
    assert args.problems == []


def test_platform_setting_wins(tmp_path):
    p = project(tmp_path, {"Procfile": "web: gunicorn app:app\n", "app.py": APP}, {"start_command": "gunicorn x:y"})
    assert (p.start_command.command, p.start_command.source) == ("gunicorn x:y", "platform settings")


def test_railway_config_beats_dockerfile_and_procfile(tmp_path):
    p = project(
        tmp_path,
        {
            "railway.toml": '[build]\nbuilder = "DOCKERFILE"\n\n[deploy]\nstartCommand = "gunicorn wsgi:app"\n',
            "Dockerfile": 'FROM python:3.12\nCMD ["python", "app.py"]\n',
            "Procfile": "web: flask run\n",
        },
    )
    assert p.start_command.command == "gunicorn wsgi:app"
    assert p.start_command.source == "railway.toml:5"


def test_dockerfile_entrypoint_and_cmd_combine(tmp_path):
    p = project(
        tmp_path,
        {
            "Dockerfile": 'FROM python:3.12 AS build\nCMD ["nope"]\nFROM python:3.12-slim\nENTRYPOINT ["gunicorn"]\nCMD ["app:app"]\n',
            "Procfile": "web: flask run\n",
        },
    )
    assert p.start_command.command == "gunicorn app:app"
    assert p.start_command.source == "Dockerfile:4"
    assert p.server_run.kind == "gunicorn"
    assert p.server_run.expands_variables is False


def test_dockerfile_cmd_after_arg_takes_its_default(tmp_path):
    p = project(tmp_path, {"Dockerfile": "FROM python:3.12\nARG MODULE=shop.wsgi:app\nCMD gunicorn $MODULE\n"})
    assert p.server_run.target == "shop.wsgi:app"


def test_another_builder_ignores_the_dockerfile(tmp_path):
    p = project(
        tmp_path,
        {
            "railway.json": '{"build": {"builder": "RAILPACK"}}',
            "Dockerfile": "FROM python:3.12\nCMD python app.py\n",
            "Procfile": "web: gunicorn app:app\n",
        },
    )
    assert p.start_command.source == "Procfile:1"


def test_nixpacks_then_procfile_web_then_worker(tmp_path):
    p = project(tmp_path, {"nixpacks.toml": '[start]\ncmd = "gunicorn a:b"\n', "Procfile": "web: x\n"})
    assert p.start_command.source == "nixpacks.toml:2"
    p = project(tmp_path / "2", {"Procfile": "release: flask db upgrade\nworker: rq worker\n"})
    assert p.start_command.command == "rq worker"


def test_railpack_infers_main_app_literally(tmp_path):
    p = project(tmp_path, {"requirements.txt": "Flask==3.0\ngunicorn\n", "app.py": APP})
    assert p.start_command.command == "gunicorn --bind 0.0.0.0:${PORT:-8000} main:app"
    assert p.start_command.source == "inferred by Railpack"
    assert not p.wsgi_target.target.resolved


def test_railpack_without_gunicorn_runs_python_file(tmp_path):
    p = project(tmp_path, {"requirements.txt": "flask\n", "server.py": APP, "start.py": APP})
    assert p.start_command.command == "python start.py"


def test_no_command_at_all(tmp_path):
    assert project(tmp_path, {"app.py": APP}).start_command is None


def test_start_script_is_read_and_earlier_commands_count_as_before(tmp_path):
    p = project(
        tmp_path,
        {
            "Procfile": "web: ./bin/start.sh\n",
            "bin/start.sh": "#!/bin/sh\nset -e\nflask db upgrade\nexec gunicorn --chdir src wsgi:app\n",
            "src/wsgi.py": APP,
        },
    )
    run = p.server_run
    assert run.kind == "gunicorn" and run.script == "bin/start.sh"
    assert [c.argv for c in run.before][-1] == ["flask", "db", "upgrade"]
    assert p.wsgi_target.target.path == "src/wsgi.py"


def test_wsgi_app_from_gunicorn_conf(tmp_path):
    p = project(
        tmp_path,
        {
            "Procfile": "web: gunicorn -c gunicorn.conf.py\n",
            "gunicorn.conf.py": "wsgi_app = 'pkg.web:app'\n",
            "pkg/web.py": APP,
        },
    )
    assert p.wsgi_target.origin == "gunicorn.conf.py:1"
    assert p.wsgi_target.target.path == "pkg/web.py"


def test_app_root_scopes_deploy_files(tmp_path):
    p = project(
        tmp_path,
        {"Procfile": "web: gunicorn root:app\n", "svc/Procfile": "web: gunicorn api:app\n", "svc/api.py": APP},
        app_root="svc",
    )
    assert p.start_command.path == "svc/Procfile"
    assert p.wsgi_target.target.path == "svc/api.py"


def test_flask_apps_found_through_aliases_and_factories(tmp_path):
    p = project(
        tmp_path,
        {
            "a.py": "import flask as fl\nweb = fl.Flask(__name__)\n",
            "b/__init__.py": "from flask import Flask as F\n\ndef make():\n    x = F(__name__, static_folder='assets')\n    return x\n",
            "c.py": "from b import make\napplication = make()\n",
            "d.py": "class Flask:\n    pass\n\nnot_flask = Flask()\n",
        },
    )
    targets = sorted(app.target for app in p.flask_apps)
    assert targets == ["a:web", "b:make()", "c:application"]
    factory = next(site for site in p.discovery.apps if site.app.kind == "factory")
    assert factory.static_folder == "assets"
