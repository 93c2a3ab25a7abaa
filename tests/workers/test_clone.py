"""Fetching and checking out from real git servers on loopback: git daemon, http-backend with basic auth, ssh."""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

from tests.workers.gitservers import DEPLOY_KEY, FLASK_APP, TOKEN, commit, git, make_repo
from workers import clone

PUBLIC = clone.Credentials("none")


def test_it_fetches_the_default_branch_head_shallow(git_daemon, git_root, repo_name):
    bare = make_repo(git_root, repo_name, FLASK_APP, branch="trunk", message="Initial import")
    second = commit(bare, {"Procfile": "web: gunicorn app:app\n"}, branch="trunk", message="Add a Procfile")

    fetched = clone.fetch(1, git_daemon.url(repo_name), "", PUBLIC)

    assert fetched.sha == second
    assert fetched.branch == "trunk"
    assert fetched.message == "Add a Procfile"
    assert fetched.author == "Ada Lovelace <ada@example.org>"
    mirror = clone.mirror_path(1)
    assert git("--git-dir", str(mirror), "rev-list", "--count", clone.LOCAL_REF).strip() == "1"
    assert (mirror / "shallow").read_text().strip() == second


def test_it_fetches_the_tracked_branch_and_follows_new_commits(git_daemon, git_root, repo_name):
    bare = make_repo(git_root, repo_name, FLASK_APP)
    commit(bare, {"app.py": "print('release')\n"}, branch="release", message="Release")
    assert clone.fetch(2, git_daemon.url(repo_name), "release", PUBLIC).message == "Release"

    newer = commit(bare, {"Procfile": "web: gunicorn app:app\n"}, branch="release", message="Procfile")

    assert clone.fetch(2, git_daemon.url(repo_name), "release", PUBLIC).sha == newer


def test_it_checks_out_into_a_temporary_folder_that_is_removed(git_daemon, git_root, repo_name):
    make_repo(git_root, repo_name, {**FLASK_APP, "docs/readme.md": "hello\n"})
    fetched = clone.fetch(3, git_daemon.url(repo_name), "", PUBLIC)

    with clone.checkout(3, fetched.sha) as folder:
        assert (folder / "app.py").read_text() == FLASK_APP["app.py"]
        assert (folder / "docs" / "readme.md").exists()
        assert not (folder / ".git").exists()
    assert not folder.exists()

    with pytest.raises(RuntimeError), clone.checkout(3, fetched.sha) as folder:
        raise RuntimeError("the analyzer blew up")
    assert not folder.exists()
    assert list(clone.scratch_dir().iterdir()) == []


def test_it_checks_out_symlinks_as_plain_files(git_daemon, git_root, repo_name, tmp_path):
    work = tmp_path / "work"
    git("init", "-q", "-b", "main", str(work))
    (work / "app.py").write_text("x = 1\n")
    os.symlink("/etc/passwd", work / "settings.py")
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "link", cwd=work)
    git("clone", "-q", "--bare", str(work), str(git_root / f"{repo_name}.git"))
    fetched = clone.fetch(4, git_daemon.url(repo_name), "", PUBLIC)

    with clone.checkout(4, fetched.sha) as folder:
        assert not (folder / "settings.py").is_symlink()
        assert (folder / "settings.py").read_text() == "/etc/passwd"


def test_it_does_not_fetch_submodules(git_daemon, git_root, repo_name, tmp_path):
    make_repo(git_root, f"{repo_name}-sub", {"secret.txt": "inner\n"})
    work = tmp_path / "work"
    git("init", "-q", "-b", "main", str(work))
    (work / "app.py").write_text("x = 1\n")
    git(
        "-c",
        "protocol.file.allow=always",
        "submodule",
        "add",
        "-q",
        str(git_root / f"{repo_name}-sub.git"),
        "vendor",
        cwd=work,
    )
    git("add", "-A", cwd=work)
    git("commit", "-q", "-m", "with submodule", cwd=work)
    git("clone", "-q", "--bare", str(work), str(git_root / f"{repo_name}.git"))
    fetched = clone.fetch(5, git_daemon.url(repo_name), "", PUBLIC)

    with clone.checkout(5, fetched.sha) as folder:
        assert (folder / "app.py").exists()
        assert not (folder / "vendor" / "secret.txt").exists()


def test_it_explains_a_missing_branch(git_daemon, git_root, repo_name):
    make_repo(git_root, repo_name, FLASK_APP)

    with pytest.raises(clone.CloneError, match="The branch 'nope' does not exist"):
        clone.fetch(6, git_daemon.url(repo_name), "nope", PUBLIC)


def test_it_explains_a_missing_repository(git_daemon):
    with pytest.raises(clone.CloneError, match=r"Repository not found at git://127\.0\.0\.1"):
        clone.fetch(7, git_daemon.url("no-such-repo"), "main", PUBLIC)


def test_it_refuses_a_branch_name_that_could_be_an_option(git_daemon):
    with pytest.raises(clone.CloneError, match="not a valid branch name"):
        clone.fetch(8, git_daemon.url("x"), "--upload-pack=touch /tmp/pwned", PUBLIC)


def test_it_checks_the_url_again_before_cloning(settings):
    settings.ALLOW_LOOPBACK_GIT = False

    with pytest.raises(clone.CloneError, match=r"not allowed: .*loopback"):
        clone.fetch(9, "https://127.0.0.1/owner/repo.git", "", PUBLIC)


def test_it_clones_a_private_repository_with_a_token(private_http, repo_name):
    make_repo(private_http.root, repo_name, FLASK_APP, message="Private")

    fetched = clone.fetch(10, private_http.url(repo_name), "", clone.Credentials("token", TOKEN))

    assert fetched.message == "Private"
    assert private_http.attempts[-1] == ("x-access-token", TOKEN)


def test_it_reports_a_refused_token_without_revealing_it(private_http, repo_name, caplog):
    make_repo(private_http.root, repo_name, FLASK_APP)
    wrong = "pf-wrong-token-Xk29Qv81Zt"
    caplog.set_level("DEBUG")

    with pytest.raises(clone.CloneError) as failure:
        clone.fetch(11, private_http.url(repo_name), "", clone.Credentials("token", wrong))

    assert str(failure.value).startswith("Authentication failed: the server refused the project's token")
    assert wrong not in str(failure.value)
    assert wrong not in caplog.text
    assert caplog.text  # git's refusal was logged, redacted


def test_it_asks_for_credentials_when_a_private_repository_has_none(private_http, repo_name):
    make_repo(private_http.root, repo_name, FLASK_APP)

    with pytest.raises(clone.CloneError, match="asked for credentials: the repository is private, or the URL is wrong"):
        clone.fetch(12, private_http.url(repo_name), "", PUBLIC)


def test_it_refuses_to_follow_a_redirect(private_http, repo_name):
    make_repo(private_http.root, repo_name, FLASK_APP)
    private_http.redirects[f"/old-{repo_name}.git"] = f"/{repo_name}.git"

    with pytest.raises(clone.CloneError, match=r"redirects .* elsewhere"):
        clone.fetch(13, private_http.url(f"old-{repo_name}"), "", clone.Credentials("token", TOKEN))


def test_it_clones_over_ssh_with_a_deploy_key_given_through_the_environment(fake_ssh, git_root, repo_name):
    authorised, log = fake_ssh
    authorised.write_text(DEPLOY_KEY)
    make_repo(git_root, repo_name, FLASK_APP, message="Over ssh")

    fetched = clone.fetch(14, f"ssh://git@127.0.0.1:2222/{repo_name}.git", "", clone.Credentials("ssh_key", DEPLOY_KEY))

    assert fetched.message == "Over ssh"
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls and all(call["key_mode"] == 0o600 for call in calls)
    assert all("StrictHostKeyChecking=accept-new" in call["argv"] for call in calls)
    assert not any(DEPLOY_KEY.splitlines()[1] in " ".join(call["argv"]) for call in calls)
    assert not any(Path(call["key_path"]).exists() for call in calls)


def test_it_reports_a_refused_deploy_key(fake_ssh, git_root, repo_name):
    authorised, _log = fake_ssh
    authorised.write_text("another key")
    make_repo(git_root, repo_name, FLASK_APP)

    with pytest.raises(clone.CloneError, match="refused the project's deploy key"):
        clone.fetch(15, f"git@127.0.0.1:{repo_name}.git", "main", clone.Credentials("ssh_key", DEPLOY_KEY))


def test_it_stops_a_fetch_that_grows_past_the_size_cap(settings, git_daemon, git_root, repo_name):
    settings.GIT_MAX_MB = 1
    make_repo(git_root, repo_name, {**FLASK_APP, "data.bin": os.urandom(6 * 1024 * 1024)})

    with pytest.raises(clone.CloneError, match="larger than the 1 MB limit"):
        clone.fetch(16, git_daemon.url(repo_name), "", PUBLIC)
    assert not clone.mirror_path(16).exists()


def test_it_refuses_to_check_out_a_tree_that_inflates_past_the_size_cap(settings, git_daemon, git_root, repo_name):
    settings.GIT_MAX_MB = 1
    make_repo(git_root, repo_name, {**FLASK_APP, "zeros.txt": b"\0" * (8 * 1024 * 1024)})
    fetched = clone.fetch(17, git_daemon.url(repo_name), "", PUBLIC)

    with pytest.raises(clone.CloneError, match="larger than the 1 MB limit"), clone.checkout(17, fetched.sha):
        pass
    assert list(clone.scratch_dir().iterdir()) == []


def test_it_stops_a_fetch_that_takes_too_long(settings):
    settings.GIT_TIMEOUT = 1
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(silent.accept()[0]), daemon=True).start()
    try:
        with pytest.raises(clone.CloneError, match="took longer than 1 s"):
            clone.fetch(18, f"git://127.0.0.1:{silent.getsockname()[1]}/slow.git", "main", PUBLIC)
    finally:
        for connection in accepted:
            connection.close()
        silent.close()
