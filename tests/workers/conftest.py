"""Git servers on loopback (git daemon, http-backend behind basic auth), repositories, and projects to scan."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from dashboard.crypto import encrypt
from dashboard.models import Project, Scan, Team
from tests.workers.gitservers import FLASK_APP, TOKEN, GitDaemon, GitHTTPServer, install_fake_ssh, make_repo


@pytest.fixture(scope="session")
def git_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("git-served")


@pytest.fixture(scope="session")
def git_daemon(git_root):
    daemon = GitDaemon(git_root)
    yield daemon
    daemon.stop()


@pytest.fixture(scope="session")
def private_http(tmp_path_factory):
    """git http-backend that wants TOKEN as the basic-auth password."""
    server = GitHTTPServer(tmp_path_factory.mktemp("git-private"), password=TOKEN)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def git_cache(settings, tmp_path) -> Path:
    settings.GIT_CACHE_DIR = tmp_path / "git-cache"
    return settings.GIT_CACHE_DIR


@pytest.fixture
def repo_name(request) -> str:
    # One repository per test: the served folders are shared by the session's servers.
    return request.node.name.replace("[", "-").replace("]", "").replace("/", "-")[:80]


@pytest.fixture
def team(db):
    return Team.objects.create(name="Workers team")


@pytest.fixture
def make_project(team):
    def make(url: str, **fields) -> Project:
        credential = fields.pop("credential", "")
        return Project.objects.create(
            team=team, name=fields.pop("name", "shop"), repo_url=url, credential=encrypt(credential), **fields
        )

    return make


@pytest.fixture
def public_project(git_daemon, git_root, repo_name, make_project):
    make_repo(git_root, repo_name, FLASK_APP)
    return make_project(git_daemon.url(repo_name))


@pytest.fixture
def queued_scan():
    def make(project: Project) -> Scan:
        return Scan.objects.create(project=project, trigger="manual")

    return make


@pytest.fixture
def fake_ssh(tmp_path, monkeypatch, git_root):
    """An `ssh` on PATH that accepts one deploy key and serves git_root's repositories."""
    install_fake_ssh(tmp_path / "bin", sys.executable)
    authorised = tmp_path / "authorised_key"
    log = tmp_path / "ssh.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SSH_AUTHORIZED", str(authorised))
    monkeypatch.setenv("FAKE_SSH_LOG", str(log))
    monkeypatch.setenv("FAKE_SSH_ROOT", str(git_root))
    return authorised, log
