"""Dependency manifests: requirements files, pyproject.toml, Pipfile, setup.py/cfg."""

from __future__ import annotations

DEPENDENCY_FILE_NAMES = frozenset(
    {
        "requirements.txt",
        "pyproject.toml",
        "Pipfile",
        "Pipfile.lock",
        "setup.py",
        "setup.cfg",
        "poetry.lock",
        "uv.lock",
        "pdm.lock",
    }
)


def read_manifests(project):
    raise NotImplementedError
