"""The analyzer on repositories built to break it: it skips what it cannot read, says why, and goes on.

Every case writes real files (and real symlinks and FIFOs) and runs the whole
analysis with every rule, as a scan of a stranger's repository would.
"""

from __future__ import annotations

import builtins
import io
import os
import sys
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.files import MAX_FILE_BYTES, MAX_NESTING
from tests.analyzer.conftest import write_repo

FLASK_APP = "from flask import Flask\n\napp = Flask(__name__)\n"
PROCFILE = "web: gunicorn app:app\n"


def skip_reasons(report) -> dict[str, str]:
    return {skip.path: skip.reason for skip in report.skipped}


def app_targets(report) -> list[str]:
    return [app.target for app in report.apps]


def test_python_file_over_one_mib_is_skipped(tmp_path):
    padding = "# " + "x" * 98 + "\n"
    big = FLASK_APP + padding * (MAX_FILE_BYTES // len(padding) + 1)
    root = write_repo(tmp_path / "repo", {"Procfile": "web: gunicorn big:app\n", "big.py": big, "app.py": FLASK_APP})
    report = analyze(root)
    assert "larger than 1 MiB" in skip_reasons(report)["big.py"]
    assert app_targets(report) == ["app:app"]


def test_binary_file_named_py_is_skipped(tmp_path):
    garbage = b"\x7fELF\x02\x01\x01\x00\x00\x00Flask Blueprint" + bytes(range(256)) * 40
    root = write_repo(tmp_path / "repo", {"Procfile": PROCFILE, "app.py": FLASK_APP, "blob.py": garbage})
    report = analyze(root)
    assert skip_reasons(report)["blob.py"] == "binary file"
    assert app_targets(report) == ["app:app"]


def test_non_utf8_python_without_coding_cookie_is_skipped(tmp_path):
    latin1 = (FLASK_APP + "GREETING = 'Grüß Gott, café'\n").encode("latin-1")
    root = write_repo(tmp_path / "repo", {"Procfile": PROCFILE, "app.py": latin1})
    report = analyze(root)
    assert "undecodable Python source" in skip_reasons(report)["app.py"]


def test_latin1_python_with_pep263_cookie_is_decoded(tmp_path):
    latin1 = ("# -*- coding: latin-1 -*-\n" + FLASK_APP + "GREETING = 'Grüß Gott, café'\n").encode("latin-1")
    root = write_repo(tmp_path / "repo", {"Procfile": PROCFILE, "app.py": latin1})
    report = analyze(root)
    assert report.skipped == []
    assert app_targets(report) == ["app:app"]


def test_python_syntax_error_is_skipped_with_its_line(tmp_path):
    broken = FLASK_APP + "\n@app.route('/')\ndef index(:\n    return 'hi'\n"
    root = write_repo(tmp_path / "repo", {"Procfile": PROCFILE, "app.py": FLASK_APP, "views.py": broken})
    report = analyze(root)
    assert "syntax error" in skip_reasons(report)["views.py"]
    assert app_targets(report) == ["app:app"]


def test_binary_requirements_file_is_skipped(tmp_path):
    garbage = bytes((index * 151 + 7) % 256 for index in range(4096))
    root = write_repo(tmp_path / "repo", {"main.py": FLASK_APP, "requirements.txt": garbage})
    report = analyze(root)
    assert skip_reasons(report)["requirements.txt"] == "binary file"


def test_fifo_named_like_deploy_files_is_skipped_without_blocking(tmp_path):
    root = write_repo(tmp_path / "repo", {"app.py": FLASK_APP})
    os.mkfifo(root / "Procfile")
    os.mkfifo(root / "wsgi.py")
    report = analyze(root)
    reasons = skip_reasons(report)
    assert reasons["Procfile"] == "not a regular file"
    assert reasons["wsgi.py"] == "not a regular file"


class OpenedFiles:
    """Records every file opened through open() while installed."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_open = io.open

        def recording_open(file, *args, **kwargs):
            if isinstance(file, str | os.PathLike):
                self.paths.append(Path(os.fspath(file)).resolve())
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(io, "open", recording_open)
        monkeypatch.setattr(builtins, "open", recording_open)


def test_symlinks_out_of_the_repo_are_never_followed(tmp_path, monkeypatch):
    outside = write_repo(
        tmp_path / "outside",
        {
            "Procfile": "web: gunicorn secret_app:app\n",
            "secret_app.py": FLASK_APP,
            "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n",
            "railway.json": '{"deploy": {"startCommand": "gunicorn secret_app:app"}}',
        },
    )
    root = write_repo(tmp_path / "repo", {"main.py": "print('hello')\n"})
    os.symlink(outside / "Procfile", root / "Procfile")
    os.symlink(outside / "railway.json", root / "railway.json")
    os.symlink(outside / "requirements.txt", root / "requirements.txt")
    os.symlink(outside / "secret_app.py", root / "secret_app.py")
    os.symlink(outside, root / "vendor")
    os.symlink("/etc/passwd", root / ".env")
    opened = OpenedFiles()
    opened.install(monkeypatch)

    report = analyze(root)

    reasons = skip_reasons(report)
    for link in ("Procfile", "railway.json", "requirements.txt", "secret_app.py", "vendor", ".env"):
        assert reasons[link] == "symlink pointing outside the repository", link
    assert report.start_command is None
    assert report.apps == []
    assert root.resolve() / "main.py" in opened.paths, "the spy saw no read at all"
    outside_real = outside.resolve()
    leaked = [path for path in opened.paths if path == outside_real or outside_real in path.parents]
    assert leaked == []
    assert Path("/etc/passwd") not in opened.paths
    for finding in report.findings:
        assert "secret_app" not in finding.message
        assert not (finding.path or "").startswith("vendor")


def test_symlink_inside_the_repo_is_followed(tmp_path):
    root = write_repo(tmp_path / "repo", {"deploy/Procfile": PROCFILE, "app.py": FLASK_APP})
    os.symlink(root / "deploy" / "Procfile", root / "Procfile")
    report = analyze(root)
    assert report.start_command is not None
    assert report.start_command.command == "gunicorn app:app"


def test_symlink_loops_do_not_hang_or_crash(tmp_path):
    root = write_repo(tmp_path / "repo", {"Procfile": PROCFILE, "app.py": FLASK_APP})
    os.symlink(root / "loop.py", root / "loop.py")
    os.symlink(root / "ping", root / "pong")
    os.symlink(root / "pong", root / "ping")
    os.symlink(root, root / "self")
    report = analyze(root)
    reasons = skip_reasons(report)
    assert {"loop.py", "ping", "pong"} <= reasons.keys()
    assert app_targets(report) == ["app:app"]


def test_twenty_thousand_files_are_analyzed(tmp_path):
    files: dict[str, str] = {"Procfile": PROCFILE, "app.py": FLASK_APP, "requirements.txt": "flask\ngunicorn\n"}
    for folder in range(200):
        for index in range(100):
            stem = f"pkg{folder:03d}/mod{index:03d}"
            if index == 0:
                files[f"{stem}.py"] = f"from flask import Blueprint\n\nbp = Blueprint('b{folder}', __name__)\n"
            elif index % 4 == 0:
                files[f"{stem}.html"] = f"<p>{folder}-{index}</p>\n"
            else:
                files[f"{stem}.py"] = f"VALUE = {folder * 100 + index}\n"
    root = write_repo(tmp_path / "repo", files)
    assert sum(1 for path in root.rglob("*") if path.is_file()) == len(files) > 20_000

    report = analyze(root)

    assert report.start_command is not None
    assert report.start_command.command == "gunicorn app:app"
    assert app_targets(report) == ["app:app"]
    assert report.skipped == []


DEEP_SOURCES = {
    "5000 nested parentheses": "x = " + "(" * 5000 + "1" + ")" * 5000,
    "5000 nested lists": "x = " + "[" * 5000 + "]" * 5000,
    "5000 nested calls": "x = " + "f(" * 5000 + ")" * 5000,
    "100k-term sum": "x = " + "+".join(["1"] * 100_000),
    "10k-long attribute chain": "x = a" + ".b" * 10_000,
    "10k stacked nots": "x = " + "not " * 10_000 + "y",
    "10k unary minuses": "x = " + "-" * 10_000 + "1",
    "300-deep dict": "x = " + "{'k': " * 300 + "1" + "}" * 300,
    "150 elifs": "if a:\n    pass\n" + "".join(f"elif a == {i}:\n    pass\n" for i in range(150)),
    "sum split over lines": "x = (\n" + "\n".join(["    1 +"] * 20_000) + "\n    1\n)",
}


@pytest.mark.parametrize("source", DEEP_SOURCES.values(), ids=DEEP_SOURCES.keys())
def test_deeply_nested_source_is_skipped_not_crashed_on(tmp_path, source):
    # A module that builds an app gets the full libcst parse, where the nesting guard stands.
    module = "from flask import Flask\n\nsite = Flask(__name__)\n" + source + "\n"
    root = write_repo(tmp_path / "repo", {"Procfile": PROCFILE, "app.py": FLASK_APP, "deep.py": module})
    report = analyze(root)
    assert skip_reasons(report)["deep.py"].startswith("not parsed: ")
    assert app_targets(report) == ["app:app"]


def test_deep_nesting_in_syntax_this_python_may_not_parse_is_skipped(tmp_path):
    # A PEP 695 alias is a syntax error before Python 3.12: the textual check guards that path.
    module = "from flask import Flask\n\nsite = Flask(__name__)\n\ntype Handler = int\n\nx = " + "-" * 10_000 + "1\n"
    root = write_repo(tmp_path / "repo", {"Procfile": PROCFILE, "app.py": FLASK_APP, "deep.py": module})
    report = analyze(root)
    assert skip_reasons(report)["deep.py"].startswith("not parsed: ")


NESTED_BELOW_LIMIT = {
    "calls": "handler = " + "wrap(" * (MAX_NESTING - 5) + "view" + ")" * (MAX_NESTING - 5),
    "subscripts": "handler = table" + "[0]" * (MAX_NESTING - 5),
    "sum": "handler = " + " + ".join(["1"] * (MAX_NESTING - 5)),
}


@pytest.mark.parametrize("source", NESTED_BELOW_LIMIT.values(), ids=NESTED_BELOW_LIMIT.keys())
def test_nesting_just_below_the_limit_is_analyzed(tmp_path, source):
    module = FLASK_APP + source + "\n"
    root = write_repo(tmp_path / "repo", {"Procfile": PROCFILE, "app.py": module})
    report = analyze(root)
    assert report.skipped == []
    assert app_targets(report) == ["app:app"]


def test_repository_code_is_never_executed_or_imported(tmp_path):
    marker = tmp_path / "executed.txt"
    payload = f"import pathlib\npathlib.Path({str(marker)!r}).open('a').write(__name__ + '\\n')\n"
    flask_module = payload + "from flask import Flask\n\napp = Flask(__name__)\n"
    factory = payload + "from flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n    return app\n"
    files = {
        "Procfile": "web: gunicorn 'app:create_app()'\nrelease: python manage.py migrate\n",
        "railway.json": '{"deploy": {"startCommand": "gunicorn -c gunicorn.conf.py wsgi:app"}}',
        "requirements.txt": "-e .\nflask==3.0.3\ngunicorn==23.0.0\n",
        "pyproject.toml": '[project]\nname = "demo"\nversion = "0.1"\ndependencies = ["flask"]\n',
        "app/__init__.py": factory,
        "app/views.py": payload + "from flask import Blueprint\n\nbp = Blueprint('views', __name__)\n",
        "main.py": flask_module,
        "wsgi.py": payload + "from app import create_app\n\napp = create_app()\n",
        "manage.py": flask_module,
        "config.py": payload + "import os\n\n\nclass Config:\n    SECRET_KEY = os.environ.get('SECRET_KEY')\n",
        "gunicorn.conf.py": payload + "bind = '0.0.0.0:8000'\nworkers = 2\n",
        "setup.py": payload + "from setuptools import setup\n\nsetup(name='demo', install_requires=['flask'])\n",
        "conftest.py": flask_module,
        "sitecustomize.py": flask_module,
        "usercustomize.py": flask_module,
        "demo.pth": f"import pathlib; pathlib.Path({str(marker)!r}).write_text('pth')\n",
    }
    root = write_repo(tmp_path / "repo", files)
    modules_before = set(sys.modules)

    report = analyze(root)

    assert not marker.exists(), marker.read_text()
    assert report.apps, "the modules were not even read, so the test proves nothing"
    new_modules = set(sys.modules) - modules_before
    assert not new_modules & {"app", "app.views", "main", "wsgi", "manage", "config", "setup", "conftest"}
    assert str(root) not in sys.path
