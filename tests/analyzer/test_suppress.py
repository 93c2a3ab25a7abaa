"""Inline suppression: `# preflight: ignore[RULE] reason` on the flagged line or the line above."""

from __future__ import annotations

import json

import pytest

from analyzer import analyze
from analyzer.project import Project
from analyzer.report import Finding, Severity
from analyzer.suppress import apply_suppressions, directives
from tests.analyzer.conftest import write_repo
from tests.analyzer.test_cli import run_cli

CONFIG = 'import os\n\nSECRET_KEY = "dev"{same}\nDEBUG = False\n'


def _apply(tmp_path, text: str, finding: Finding, name: str = "config.py") -> Finding:
    root = write_repo(tmp_path / "repo", {name: text})
    apply_suppressions(Project(root), [finding])
    return finding


def _secret(line: int = 3, rule: str = "PF303", path: str = "config.py") -> Finding:
    return Finding(rule, Severity.BLOCKER, "`SECRET_KEY` is a literal", path, line, 1, subject="SECRET_KEY")


def test_a_directive_on_the_flagged_line_suppresses_it(tmp_path):
    text = CONFIG.format(same="  # preflight: ignore[PF303] only the test suite imports this module")
    finding = _apply(tmp_path, text, _secret())
    assert finding.suppressed
    assert finding.suppression_reason == "only the test suite imports this module"


def test_a_directive_on_the_line_above_suppresses_it(tmp_path):
    text = 'import os\n# preflight: ignore[PF303] rotated demo key\nSECRET_KEY = "dev"\n'
    assert _apply(tmp_path, text, _secret()).suppressed


def test_a_directive_two_lines_above_does_not(tmp_path):
    text = '# preflight: ignore[PF303] too far away\nimport os\nSECRET_KEY = "dev"\n'
    assert not _apply(tmp_path, text, _secret()).suppressed


def test_a_directive_for_another_rule_does_not(tmp_path):
    text = CONFIG.format(same="  # preflight: ignore[PF308] not this one")
    assert not _apply(tmp_path, text, _secret()).suppressed


def test_a_directive_below_the_line_does_not(tmp_path):
    text = CONFIG.format(same="").replace("DEBUG = False", "DEBUG = False  # preflight: ignore[PF303] below")
    assert not _apply(tmp_path, text, _secret()).suppressed


def test_one_directive_can_name_several_rules_in_any_case(tmp_path):
    text = CONFIG.format(same="  # preflight: ignore[pf308, PF303] placeholder values")
    finding = _apply(tmp_path, text, _secret())
    assert finding.suppressed and finding.suppression_reason == "placeholder values"
    assert directives(text) == {3: {"PF308": "placeholder values", "PF303": "placeholder values"}}


def test_a_directive_without_a_reason_still_suppresses_and_says_so(tmp_path):
    finding = _apply(tmp_path, CONFIG.format(same="  # preflight: ignore[PF303]"), _secret())
    assert finding.suppressed and finding.suppression_reason == "no reason given"


def test_a_finding_without_a_path_cannot_be_suppressed(tmp_path):
    finding = Finding("PF101", Severity.BLOCKER, "no start command")
    root = write_repo(tmp_path / "repo", {"Procfile": "# preflight: ignore[PF101] we deploy by hand\n"})
    apply_suppressions(Project(root), [finding])
    assert not finding.suppressed


def test_a_directive_in_a_file_other_than_the_findings_does_not_count(tmp_path):
    root = write_repo(
        tmp_path / "repo", {"config.py": CONFIG.format(same=""), "other.py": "# preflight: ignore[PF303]\n"}
    )
    finding = _secret()
    apply_suppressions(Project(root), [finding])
    assert not finding.suppressed


# End to end, through the real rules and the CLI.

REQUIREMENTS = "flask==3.0.3\ngunicorn==23.0.0\n"
APP = "from flask import Flask\n\napp = Flask(__name__)\n"


def test_it_suppresses_a_python_finding_end_to_end(repo):
    root = repo(
        {
            "Procfile": "web: gunicorn app:app\n",
            "requirements.txt": REQUIREMENTS,
            ".python-version": "3.12\n",
            "app.py": APP + "app.run()  # preflight: ignore[PF103] the container runs gunicorn; kept for laptops\n",
        }
    )
    result = run_cli(root, "--format", "json", "--select", "PF103")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    (finding,) = report["findings"]
    assert finding["rule"] == "PF103" and finding["path"] == "app.py" and finding["line"] == 4
    assert finding["suppressed"] is True
    assert finding["suppression_reason"] == "the container runs gunicorn; kept for laptops"
    assert (report["score"], report["verdict"]) == (100, "ready")

    text = run_cli(root, "--select", "PF103").stdout
    assert "suppressed (1)\n  app.py:4  PF103 " in text
    assert "      reason: the container runs gunicorn; kept for laptops\n" in text
    assert "No findings." in text


def test_it_suppresses_a_procfile_finding_from_a_comment_line_above(tmp_path):
    files = {"requirements.txt": REQUIREMENTS, "app.py": APP}
    procfile = "web: gunicorn --bind 127.0.0.1:8000 app:app\n"
    plain = analyze(write_repo(tmp_path / "plain", {**files, "Procfile": procfile}), select=["PF104"])
    commented = "# preflight: ignore[PF104] an nginx sidecar proxies to it\n" + procfile
    report = analyze(write_repo(tmp_path / "commented", {**files, "Procfile": commented}), select=["PF104"])
    (finding,) = report.findings
    assert (finding.path, finding.line, finding.suppressed) == ("Procfile", 2, True)
    assert finding.suppression_reason == "an nginx sidecar proxies to it"
    assert plain.score == 85 and report.score == 100


def test_it_suppresses_a_railway_toml_finding(tmp_path):
    toml = '[deploy]\n# preflight: ignore[PF108] a CI job reads this key\nreleaseCommand = "flask db upgrade"\n'
    root = write_repo(tmp_path / "repo", {"railway.toml": toml, "requirements.txt": REQUIREMENTS, "app.py": APP})
    (finding,) = analyze(root, select=["PF108"]).findings
    assert (finding.path, finding.line, finding.suppressed) == ("railway.toml", 3, True)


@pytest.mark.parametrize("fail_on", ["blocker", "low"])
def test_a_suppressed_finding_does_not_fail_the_run(repo, fail_on):
    root = repo(
        {"Procfile": "web: gunicorn app:app\n", "requirements.txt": REQUIREMENTS, "app.py": APP + "app.run()\n"}
    )
    assert run_cli(root, "--select", "PF103", "--fail-on", fail_on).returncode == 1
    (root / "app.py").write_text(APP + "app.run()  # preflight: ignore[PF103] guarded by the entrypoint\n")
    assert run_cli(root, "--select", "PF103", "--fail-on", fail_on).returncode == 0
