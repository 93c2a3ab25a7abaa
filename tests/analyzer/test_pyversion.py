"""Python version pins: the files Railpack reads, and a Docker build's FROM tag."""

from __future__ import annotations

import pytest

from analyzer.project import Project

APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def pins_of(repo, files, app_root=".", platform=None):
    from analyzer.platform import Platform

    return Project(repo(files), app_root, Platform.from_dict(platform)).python_pins


@pytest.mark.parametrize(
    ("name", "content", "version", "line"),
    [
        (".python-version", "3.12\n", "3.12", 1),
        (".python-version", "# pyenv\n\n3.11.9\n3.10.14\n", "3.11.9", 3),
        (".python-version", "python-3.13.1\n", "3.13.1", 1),
        (".tool-versions", "nodejs 20.11.0\npython 3.12.3 3.11.9\n", "3.12.3", 2),
        ("mise.toml", '[env]\nFLASK_APP = "app"\n\n[tools]\npython = "3.13"\n', "3.13", 5),
        ("mise.toml", '[tools]\npython = ["3.12", "3.11"]\n', "3.12", 2),
        ("mise.toml", '[tools]\npython = { version = "3.12.4" }\n', "3.12.4", 2),
        ("runtime.txt", "python-3.12.3\n", "3.12.3", 1),
        ("runtime.txt", "3.11.9", "3.11.9", 1),
        ("Pipfile", '[packages]\nflask = "*"\n\n[requires]\npython_version = "3.12"\n', "3.12", 5),
        ("Pipfile", '[requires]\npython_version = "3.12"\npython_full_version = "3.12.3"\n', "3.12.3", 3),
    ],
)
def test_it_reads_each_pin_file(repo, name, content, version, line):
    pins = pins_of(repo, {name: content, "requirements.txt": "flask\n", "app.py": APP})
    (pin,) = pins.pins
    assert (pin.path, pin.version, pin.line, pin.parses) == (name, version, line, True)
    assert pins.effective is pin


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        (".python-version", "system\n", "`system` is not a Python version"),
        (".python-version", "\n", "the file is empty"),
        (".python-version", "pypy3.10-7.3.17\n", "is not a Python version"),
        ("runtime.txt", "python3.12\n", "is not a Python version"),
        (".tool-versions", "python\n", "`python` has no version"),
        ("mise.toml", "[tools]\npython = \n", "invalid TOML"),
        ("mise.toml", "[tools]\npython = 3.12\n", "no version string"),
    ],
)
def test_it_reports_a_pin_that_does_not_parse(repo, name, content, problem):
    (pin,) = pins_of(repo, {name: content}).pins
    assert not pin.parses
    assert problem in pin.problem


def test_files_without_a_python_entry_are_not_pins(repo):
    pins = pins_of(
        repo,
        {
            ".tool-versions": "nodejs 20.11.0\n",
            "mise.toml": '[tools]\nnode = "20"\n',
            "Pipfile": '[packages]\nflask = "*"\n',
        },
    )
    assert pins.pins == []
    assert pins.effective is None


@pytest.mark.parametrize(
    ("version", "offered"),
    [("3.9", False), ("3.10", True), ("3.12.3", True), ("3.14", True), ("3.15", False), ("2.7.18", False)],
)
def test_it_knows_which_versions_railpack_offers(repo, version, offered):
    (pin,) = pins_of(repo, {".python-version": f"{version}\n"}).pins
    assert pin.offered_by_railpack() is offered


def test_it_reads_pins_from_the_app_root_only(repo):
    pins = pins_of(repo, {".python-version": "3.12\n", "api/requirements.txt": "flask\n"}, app_root="api")
    assert pins.pins == []


def test_a_platform_variable_pins_the_version(repo):
    pins = pins_of(repo, {"requirements.txt": "flask\n"}, platform={"variables": ["RAILPACK_PYTHON_VERSION"]})
    assert pins.variable == "RAILPACK_PYTHON_VERSION"


@pytest.mark.parametrize(
    ("pyproject", "label"),
    [
        ('[project]\nname = "a"\nversion = "1"\nrequires-python = ">=3.11"\n', '`requires-python = ">=3.11"`'),
        ('[tool.poetry]\nname = "a"\n[tool.poetry.dependencies]\npython = "^3.11"\n', '`python = "^3.11"` (Poetry)'),
    ],
)
def test_it_notes_requires_python_which_railpack_ignores(repo, pyproject, label):
    pins = pins_of(repo, {"pyproject.toml": pyproject})
    assert pins.pins == []
    path, line, _spec, found = pins.requires_python
    assert (path, line, found) == ("pyproject.toml", 4, label)


# -- Docker --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dockerfile", "version", "line"),
    [
        ("FROM python:3.12-slim\nCMD gunicorn app:app\n", "3.12", 1),
        ("FROM docker.io/library/python:3.11.9-slim-bookworm AS app\nCMD gunicorn app:app\n", "3.11.9", 1),
        (
            "ARG PYTHON_VERSION=3.13\nFROM python:${PYTHON_VERSION}-alpine AS base\nRUN pip install gunicorn\n\n"
            "FROM base AS final\nCMD gunicorn app:app\n",
            "3.13",
            2,
        ),
        (
            "FROM python:3.10 AS build\nRUN pip wheel -r requirements.txt -w /w\n"
            "FROM python:3.12-slim\nCOPY --from=build /w /w\nCMD gunicorn app:app\n",
            "3.12",
            3,
        ),
    ],
)
def test_a_docker_build_is_pinned_by_the_final_stages_from(repo, dockerfile, version, line):
    pins = pins_of(repo, {"Dockerfile": dockerfile, ".python-version": "3.9\n"})
    assert pins.docker_build
    assert (pins.docker.version, pins.docker.line) == (version, line)
    assert pins.effective is pins.docker


@pytest.mark.parametrize(
    ("dockerfile", "problem"),
    [
        ("FROM python\n", "`python:latest` moves"),
        ("FROM python:latest\n", "`python:latest` moves"),
        ("FROM python:3-slim\n", "`python:3-slim` moves"),
        ("FROM python:slim\n", "`python:slim` moves"),
        ("ARG PY\nFROM python:${PY}-slim\n", "an ARG with no default"),
    ],
)
def test_a_floating_docker_tag_does_not_pin(repo, dockerfile, problem):
    pin = pins_of(repo, {"Dockerfile": dockerfile}).docker
    assert not pin.parses and problem in pin.problem


def test_a_docker_image_that_is_not_python_has_no_pin(repo):
    pins = pins_of(repo, {"Dockerfile": "FROM ubuntu:24.04\nRUN apt-get install -y python3\n"})
    assert pins.docker_build and pins.docker is None and not pins.docker_python_image


def test_a_builder_override_ignores_the_dockerfile(repo):
    pins = pins_of(
        repo,
        {
            "Dockerfile": "FROM python:latest\n",
            "railway.toml": '[build]\nbuilder = "NIXPACKS"\n',
            ".python-version": "3.12\n",
        },
    )
    assert not pins.docker_build and pins.effective.version == "3.12"
