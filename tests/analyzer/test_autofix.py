"""The patch machinery: diffs git accepts, combining fixes, and the verification checks."""

from __future__ import annotations

import subprocess

from analyzer import analyze
from analyzer.autofix import Fix, apply_edits, git_apply_check, minimal_edits, overlaps, unified_diff, verify
from analyzer.fixes.pycode import ModuleEdit
from analyzer.project import Project
from analyzer.report import Finding, Severity


def apply_with_git(tmp_path, originals, patch):
    for path, text in originals.items():
        if text is not None:
            (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / path).write_bytes(text.encode())
    subprocess.run(["git", "apply", "-"], input=patch.encode(), cwd=tmp_path, check=True)
    return {p.relative_to(tmp_path).as_posix(): p.read_bytes().decode() for p in tmp_path.rglob("*") if p.is_file()}


def test_it_diffs_a_file_without_a_final_newline(tmp_path):
    originals = {"requirements.txt": "flask==3.0.3"}
    patch = unified_diff(originals, {"requirements.txt": "flask==3.0.3\ngunicorn\n"})
    assert "\\ No newline at end of file" in patch
    assert apply_with_git(tmp_path, originals, patch)["requirements.txt"] == "flask==3.0.3\ngunicorn\n"


def test_it_keeps_windows_line_endings(tmp_path):
    originals = {"Procfile": "web: gunicorn wsgi:app\r\nworker: rq worker\r\n"}
    new = "web: gunicorn wsgi:application\r\nworker: rq worker\r\n"
    patch = unified_diff(originals, {"Procfile": new})
    assert apply_with_git(tmp_path, originals, patch)["Procfile"] == new


def test_it_creates_new_files(tmp_path):
    patch = unified_diff({}, {"Procfile": "web: gunicorn app:app\n"})
    assert "new file mode" in patch and "--- /dev/null" in patch
    assert apply_with_git(tmp_path, {}, patch)["Procfile"] == "web: gunicorn app:app\n"


def test_git_apply_check_rejects_a_patch_for_other_content():
    patch = unified_diff({"a.txt": "one\n"}, {"a.txt": "two\n"})
    assert git_apply_check({"a.txt": "one\n"}, patch) is None
    assert "rejects" in git_apply_check({"a.txt": "something else\n"}, patch)


def test_independent_fixes_to_one_file_combine():
    original = {"config.py": "A = 1\nB = 2\nC = 3\n"}
    first = minimal_edits(original, Fix("a", "", {"config.py": "A = 10\nB = 2\nC = 3\n"}))
    second = minimal_edits(original, Fix("c", "", {"config.py": "A = 1\nB = 2\nC = 30\n"}))
    assert not overlaps(first, second)
    assert apply_edits(original, first + second) == {"config.py": "A = 10\nB = 2\nC = 30\n"}
    clash = minimal_edits(original, Fix("a2", "", {"config.py": "A = 11\nB = 2\nC = 3\n"}))
    assert overlaps(first, clash)


def finding(rule="PF999", subject="x"):
    return Finding(rule, Severity.LOW, "message", "f.py", 1, subject=subject)


def test_verify_refuses_a_fix_that_leaves_the_finding():
    target = finding()
    result = verify(
        Fix("t", "", {"f.py": "x = 2\n"}), [target], [target], {"f.py": "x = 1\n"}, lambda overlay: [target]
    )
    assert result.patch is None and "still reports PF999" in result.problem


def test_verify_refuses_a_fix_that_adds_a_finding():
    target, other = finding(), finding("PF998", "y")
    result = verify(Fix("t", "", {"f.py": "x = 2\n"}), [target], [target], {"f.py": "x = 1\n"}, lambda overlay: [other])
    assert result.patch is None and "new finding: PF998" in result.problem


def test_verify_refuses_python_that_does_not_parse():
    target = finding()
    result = verify(Fix("t", "", {"f.py": "def (:\n"}), [target], [target], {"f.py": "x = 1\n"}, lambda overlay: [])
    assert result.patch is None and "does not parse" in result.problem


def test_verify_offers_a_fix_that_passes_every_check():
    target = finding()
    seen = {}

    def reanalyze(overlay):
        seen.update(overlay)
        return []

    result = verify(
        Fix("t", "", {"f.py": "x = 2\n"}, untrack=[".env"]), [target], [target], {"f.py": "x = 1\n"}, reanalyze
    )
    assert result.problem is None and result.patch.startswith("diff --git a/f.py b/f.py")
    assert seen == {"f.py": b"x = 2\n", ".env": None}


def test_lines_added_at_the_same_place_combine_and_identical_edits_merge():
    original = {"requirements.txt": "flask\n", "app.py": "x = 1\n"}
    gunicorn = minimal_edits(original, Fix("g", "", {"requirements.txt": "flask\ngunicorn\n"}))
    whitenoise = minimal_edits(original, Fix("w", "", {"requirements.txt": "flask\nwhitenoise\n"}))
    same_import = minimal_edits(original, Fix("i", "", {"app.py": "import os\nx = 1\n"}))
    assert not overlaps(gunicorn, whitenoise) and not overlaps(same_import, list(same_import))
    combined = apply_edits(original, gunicorn + whitenoise + same_import + same_import)
    assert combined == {"requirements.txt": "flask\ngunicorn\nwhitenoise\n", "app.py": "import os\nx = 1\n"}


def test_a_re_analysis_that_verifies_a_fix_builds_no_code_edits(repo):
    project = Project(repo({"app.py": "from flask import Flask\napp = Flask(__name__)\n"}))
    assert ModuleEdit.of(project, "app.py") is not None
    derived = project.derive({"Procfile": b"web: gunicorn app:app\n"})
    assert ModuleEdit.of(derived, "app.py") is None
    assert project.builds_fixes and not derived.builds_fixes


def test_repeats_of_one_subject_get_their_own_fingerprints_and_fixes(repo):
    root = repo(
        {
            "Procfile": "web: gunicorn app:app\n",
            "app.py": (
                "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
                "A = os.environ.get('REDIS_URL') or 'redis://localhost:6379/0'\n"
                "B = os.environ.get('REDIS_URL') or 'redis://localhost:6379/1'\n"
            ),
        }
    )
    first, second = analyze(root, select=["PF405"]).findings
    assert first.fingerprint != second.fingerprint
    assert first.patch and second.patch, (first.fix_problem, second.fix_problem)


def test_verify_accepts_a_finding_the_fix_uncovers_in_a_file_it_leaves_alone():
    target = finding()
    uncovered = Finding("PF998", Severity.HIGH, "hidden until now", "config.py", 3, subject="y")
    result = verify(
        Fix("t", "", {"f.py": "x = 2\n"}), [target], [target], {"f.py": "x = 1\n"}, lambda overlay: [uncovered]
    )
    assert result.problem is None and result.patch


def test_a_start_command_fix_is_offered_although_it_uncovers_the_app_code(repo):
    root = repo(
        {
            "Procfile": "web: gunicorn app:app\n",
            "app.py": (
                "import os\nfrom flask import Flask\n\n\ndef create_app():\n    app = Flask(__name__)\n"
                "    app.config['SECRET_KEY'] = os.getenv('SECRET_KEY', 'dev-secret-change-me')\n    return app\n"
            ),
            "wsgi.py": "from app import create_app\n\napp = create_app()\n",
            "requirements.txt": "flask\ngunicorn\n",
        }
    )
    (pf102,) = [f for f in analyze(root).findings if f.rule == "PF102"]
    assert pf102.patch and "wsgi:app" in pf102.patch
