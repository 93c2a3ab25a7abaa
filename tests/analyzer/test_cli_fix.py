"""`--diff` prints the verified patches; `--fix` applies them, refusing a dirty tree without --force."""

from __future__ import annotations

import subprocess
import sys

from tests.analyzer.conftest import write_repo

FILES = {
    "Procfile": "web: gunicorn app:app\n",
    "requirements.txt": "flask==3.0.3\n",
    "app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    ".python-version": "3.12\n",
}


def git_repo(tmp_path):
    root = write_repo(tmp_path / "repo", FILES)
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "x"]):
        subprocess.run(["git", *command], cwd=root, check=True)
    return root


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True, text=True, cwd=cwd)


def test_it_prints_a_diff_git_applies(tmp_path):
    root = git_repo(tmp_path)
    result = run(str(root), "--diff")
    assert result.returncode == 0
    assert "+gunicorn" in result.stdout and "PF202" in result.stderr
    subprocess.run(["git", "apply", "--check", "-"], cwd=root, input=result.stdout, text=True, check=True)


def test_it_fixes_the_tree_and_reports_what_is_left(tmp_path):
    root = git_repo(tmp_path)
    result = run(str(root), "--fix", "--fail-on", "blocker")
    assert "changed files: requirements.txt" in result.stderr
    assert (root / "requirements.txt").read_text() == "flask==3.0.3\ngunicorn\n"
    assert "PF202" not in result.stdout
    assert result.returncode == 0


def test_it_refuses_a_dirty_tree_without_force(tmp_path):
    root = git_repo(tmp_path)
    (root / "notes.txt").write_text("work in progress\n")
    refused = run(str(root), "--fix")
    assert refused.returncode == 2 and "uncommitted changes" in refused.stderr
    assert (root / "requirements.txt").read_text() == "flask==3.0.3\n"
    forced = run(str(root), "--fix", "--force", "--fail-on", "never")
    assert forced.returncode == 0
    assert (root / "requirements.txt").read_text().endswith("gunicorn\n")


def test_it_refuses_a_folder_that_is_not_a_git_tree(tmp_path):
    root = write_repo(tmp_path / "plain", FILES)
    result = run(str(root), "--fix")
    assert result.returncode == 2 and "not a git work tree" in result.stderr
