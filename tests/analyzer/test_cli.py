"""`python -m analyzer`: options, output formats, exit codes and usage errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer import __version__
from analyzer.cli import exit_status, main
from analyzer.formats import text
from analyzer.report import Finding, FlaskApp, Report, Severity, Skipped, StartCommand
from analyzer.rules import catalog
from tests.analyzer.conftest import write_repo

PROJECT_ROOT = Path(__file__).resolve().parents[2]

APP = "from flask import Flask\n\napp = Flask(__name__)\n"
# Deployable as it stands: gunicorn on a real target, declared, Python pinned.
CLEAN = {
    "Procfile": "web: gunicorn app:app\n",
    "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n",
    ".python-version": "3.12\n",
    "app.py": APP,
}
# No start command anywhere and nothing Railpack can infer: PF101, a blocker.
NO_START = {"requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n", ".python-version": "3.12\n", "wsgi.py": APP}
# gunicorn bound to localhost: PF104, high.
LOCAL_BIND = {**CLEAN, "Procfile": "web: gunicorn --bind 127.0.0.1:8000 app:app\n"}


def run_cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analyzer", *map(str, args)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_main(capsys, *args: str | Path) -> tuple[int, str, str]:
    """main() in-process, for speed: exit code, stdout, stderr."""
    try:
        code = main([str(arg) for arg in args])
    except SystemExit as exit_info:
        code = exit_info.code
    out, err = capsys.readouterr()
    return code, out, err


def test_it_exits_1_and_prints_the_blocker(repo):
    result = run_cli(repo(NO_START), "--select", "PF101")
    assert result.returncode == 1, result.stderr
    assert "blocker (1)" in result.stdout
    assert "PF101" in result.stdout
    assert "verdict:       not ready, score 60/100" in result.stdout
    assert result.stderr == ""


def test_it_exits_0_on_a_deployable_repo(repo):
    result = run_cli(repo(CLEAN))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "start command: gunicorn app:app  (Procfile:1)" in result.stdout
    assert "Flask apps:    app:app (app.py:3)" in result.stdout


def test_it_exits_0_with_fail_on_never_whatever_it_finds(repo):
    result = run_cli(repo(NO_START), "--fail-on", "never")
    assert result.returncode == 0
    assert "PF101" in result.stdout


@pytest.mark.parametrize(("fail_on", "expected"), [("blocker", 0), ("high", 1), ("medium", 1), ("low", 1)])
def test_it_fails_on_a_high_finding_only_at_or_below_the_threshold(repo, capsys, fail_on, expected):
    code, out, _ = run_main(capsys, repo(LOCAL_BIND), "--select", "PF104", "--fail-on", fail_on)
    assert code == expected, out


def test_it_defaults_to_failing_on_high(repo):
    assert run_cli(repo(LOCAL_BIND), "--select", "PF104").returncode == 1
    assert "(default: high)" in run_cli("--help").stdout


def _report(*severities: Severity, suppressed: bool = False) -> Report:
    findings = [
        Finding(f"PF9{index:02d}", severity, "thing", suppressed=suppressed)
        for index, severity in enumerate(severities)
    ]
    return Report(findings=findings, start_command=None, apps=[], skipped=[], analyzer_version=__version__)


@pytest.mark.parametrize(
    ("severity", "fail_on", "expected"),
    [
        (Severity.LOW, "low", 1),
        (Severity.LOW, "medium", 0),
        (Severity.MEDIUM, "medium", 1),
        (Severity.MEDIUM, "high", 0),
        (Severity.HIGH, "high", 1),
        (Severity.HIGH, "blocker", 0),
        (Severity.BLOCKER, "blocker", 1),
        (Severity.BLOCKER, "never", 0),
    ],
)
def test_exit_status_compares_the_worst_finding_with_fail_on(severity, fail_on, expected):
    assert exit_status(_report(severity), fail_on) == expected


def test_exit_status_ignores_suppressed_findings():
    assert exit_status(_report(Severity.BLOCKER, suppressed=True), "low") == 0
    assert exit_status(_report(), "low") == 0


def test_select_and_ignore_choose_the_rules(repo, capsys):
    root = repo(NO_START)
    assert "PF101" not in run_main(capsys, root, "--ignore", "PF101", "--select", "PF1")[1]
    assert "PF101" in run_main(capsys, root, "--select", "pf1")[1]
    assert "PF101" in run_main(capsys, root, "--select", "PF104,PF101")[1]
    assert "PF101" in run_main(capsys, root, "--select", "PF104", "PF101")[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "the following arguments are required: PATH"),
        (("{missing}",), "no such folder"),
        (("{file}",), "is a file; give the repository's folder"),
        (("{root}", "--select", "PF999"), "unknown rule id 'PF999' in --select"),
        (("{root}", "--ignore", "E501"), "unknown rule id 'E501' in --ignore"),
        (("{root}", "--select", ","), "--select needs at least one rule id"),
        (("{root}", "--platform", "{missing}"), "cannot read platform settings"),
        (("{root}", "--platform", "{bad_json}"), "are not valid JSON"),
        (("{root}", "--platform", "{unknown_key}"), "unknown platform setting(s): start_cmd"),
        (("{root}", "--platform", "{wrong_type}"), "variables must be a list of variable names"),
        (("{root}", "--app-root", "services/none"), "--app-root services/none: no such folder"),
        (("{root}", "--app-root", "../.."), "--app-root ../.. leaves the repository"),
        (("{root}", "--format", "html"), "invalid choice: 'html'"),
        (("{root}", "--fail-on", "critical"), "invalid choice: 'critical'"),
        (("{root}", "--env-contract", "--format", "sarif"), "--env-contract prints text or json, not sarif"),
    ],
)
def test_usage_errors_exit_2_with_a_message(tmp_path, capsys, args, message):
    root = write_repo(tmp_path / "repo", NO_START)
    settings = {
        "bad_json": "{start_command: gunicorn}",
        "unknown_key": '{"start_cmd": "gunicorn app:app"}',
        "wrong_type": '{"variables": "SECRET_KEY"}',
        "file": "",
    }
    paths = {"root": root, "missing": tmp_path / "missing"}
    for name, content in settings.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(content)
    code, out, err = run_main(capsys, *(arg.format(**paths) for arg in args))
    assert code == 2
    assert message in err
    assert out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "the following arguments are required: PATH"),
        (("does/not/exist",), "does/not/exist: no such folder"),
        (("tests", "--select", "PF999"), "unknown rule id 'PF999' in --select"),
    ],
)
def test_usage_errors_exit_2_from_the_command_line(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_platform_settings_override_the_repo(repo, tmp_path):
    settings = tmp_path / "platform.json"
    settings.write_text(json.dumps({"start_command": "gunicorn wsgi:app", "variables": ["SECRET_KEY"]}))
    result = run_cli(repo(NO_START), "--platform", settings, "--select", "PF101")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "start command: gunicorn wsgi:app  (platform settings)" in result.stdout


def test_app_root_reads_the_deploy_files_of_a_monorepo_service(tmp_path, capsys):
    files = {f"services/api/{name}": content for name, content in CLEAN.items()}
    root = write_repo(tmp_path / "repo", {**files, "README.md": "# monorepo\n"})
    assert main([str(root), "--app-root", "services/api", "--select", "PF101"]) == 0
    out = capsys.readouterr().out
    assert "start command: gunicorn app:app  (services/api/Procfile:1)" in out
    assert "app root:      services/api" in out
    assert main([str(root), "--select", "PF101"]) == 1


def test_json_format_is_the_report(repo, capsys):
    assert main([str(repo(NO_START)), "--format", "json", "--select", "PF101"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["schema_version"] == 1
    assert report["analyzer_version"] == __version__
    assert report["verdict"] == "not ready"
    assert [finding["rule"] for finding in report["findings"]] == ["PF101"]


def test_sarif_format_is_a_sarif_log(repo, capsys):
    assert main([str(repo(NO_START)), "--format", "sarif", "--fail-on", "never"]) == 0
    log = json.loads(capsys.readouterr().out)
    assert log["version"] == "2.1.0"
    assert "PF101" in [result["ruleId"] for result in log["runs"][0]["results"]]


# Reads SECRET_KEY at import, GREETING in a request handler, PORT from Railway; no Python pin (PF203).
ENV_READS = {
    **NO_START,
    "Procfile": "web: gunicorn wsgi:app\n",
    "wsgi.py": "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
    "app.secret_key = os.environ['SECRET_KEY']\nPORT = int(os.environ.get('PORT', '8000'))\n\n\n"
    "@app.route('/')\ndef index():\n    return os.environ['GREETING']\n",
}


def test_env_contract_prints_each_read_instead_of_the_findings(repo, tmp_path):
    settings = tmp_path / "platform.json"
    settings.write_text(json.dumps({"variables": ["DATABASE_URL"]}))
    result = run_cli(repo(ENV_READS), "--env-contract", "--platform", settings, "--fail-on", "low")
    assert result.returncode == 0, "printing the contract is not a check"
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "environment contract: 3 variable(s), 3 read(s)"
    assert lines[1].split() == ["variable", "read", "at", "set", "by", "when", "unset"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert sorted(rows) == ["GREETING", "PORT", "SECRET_KEY"]
    assert rows["SECRET_KEY"].split()[1:3] == ["wsgi.py:5", "missing"]
    assert rows["SECRET_KEY"].endswith("required at startup: the app raises `KeyError` at import when it is unset")
    assert rows["PORT"].split()[1:3] == ["wsgi.py:6", "Railway"]
    assert rows["GREETING"].split()[1:3] == ["wsgi.py:11", "-"]
    assert "not at startup: the app boots without it" in rows["GREETING"]
    assert "PF309" not in result.stdout


def test_env_contract_says_unknown_without_platform_variables(repo, capsys):
    code, out, _ = run_main(capsys, repo(ENV_READS), "--env-contract")
    assert code == 0
    (secret,) = [line for line in out.splitlines() if line.lstrip().startswith("SECRET_KEY")]
    assert secret.split()[2] == "unknown"


def test_env_contract_as_json_is_the_reports_array(repo, capsys):
    root = repo(ENV_READS)
    code, out, _ = run_main(capsys, root, "--env-contract", "--format", "json")
    assert code == 0
    entries = json.loads(out)
    assert [entry["name"] for entry in entries] == ["GREETING", "PORT", "SECRET_KEY"]
    _, report, _ = run_main(capsys, root, "--format", "json", "--fail-on", "never")
    assert json.loads(report)["env_contract"] == entries


def test_env_contract_of_a_repo_that_reads_nothing(repo, capsys):
    code, out, _ = run_main(capsys, repo(CLEAN), "--env-contract")
    assert (code, out) == (0, "environment contract: the production path reads no environment variables\n")


def test_the_text_report_summarises_the_env_contract(repo, capsys):
    _, out, _ = run_main(capsys, repo(ENV_READS), "--fail-on", "never")
    assert (
        "environment:   3 variable(s) read, required at startup: SECRET_KEY (--env-contract lists them)"
        in out.splitlines()
    )


def test_output_writes_the_report_to_a_file(repo, tmp_path, capsys):
    target = tmp_path / "report.json"
    assert main([str(repo(NO_START)), "--format", "json", "--select", "PF101", "--output", str(target)]) == 1
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["findings"][0]["rule"] == "PF101"


def test_output_to_an_unwritable_place_is_a_usage_error(repo, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([str(repo(NO_START)), "--output", str(tmp_path / "no" / "such" / "dir" / "out.txt")])
    assert exit_info.value.code == 2
    assert "cannot write" in capsys.readouterr().err


def test_an_analyzer_crash_is_not_reported_as_findings(repo, monkeypatch, capsys):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("analyzer.cli.analyze", explode)
    assert main([str(repo(CLEAN))]) == 2
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err
    assert "internal error" in err


def test_text_output_has_no_colour_when_not_a_terminal(repo):
    assert "\x1b[" not in run_cli(repo(NO_START)).stdout


def _rich_report() -> Report:
    findings = [
        Finding("PF101", Severity.BLOCKER, "no start command", subject="none"),
        Finding("PF104", Severity.HIGH, "gunicorn binds `127.0.0.1`", "Procfile", 1, 1, fix_title="Bind `0.0.0.0`"),
        Finding("PF105", Severity.MEDIUM, "no `web` process", "Procfile", 2, 1),
        Finding("PF203", Severity.LOW, "no Python version pinned"),
        Finding("PF303", Severity.BLOCKER, "`SECRET_KEY` literal", "app.py", 5, 1, suppressed=True),
    ]
    findings[-1].suppression_reason = "rotated, test-only key"
    return Report(
        findings=findings,
        start_command=StartCommand("gunicorn app:app", "Procfile:1", "Procfile", 1, "procfile"),
        apps=[
            FlaskApp("app", "app", "app", "app.py", 3),
            FlaskApp("factory", "create_app", "factory", "factory.py", 4),
        ],
        skipped=[
            Skipped("big.py", "larger than 1 MiB"),
            Skipped("link.txt", "symlink pointing outside the repository"),
        ],
        analyzer_version=__version__,
    )


def test_text_output_groups_by_severity_with_fixes_then_the_facts():
    out = text.render(_rich_report())
    lines = out.splitlines()
    headings = [line for line in lines if line and not line.startswith(" ")]
    assert headings[:5] == ["blocker (1)", "high (1)", "medium (1)", "low (1)", "suppressed (1)"]
    blocker_at = lines.index("blocker (1)")
    assert lines[blocker_at + 1] == "  (repository)  PF101 no start command"
    assert lines[blocker_at + 2] == f"      fix: {catalog().by_id('PF101').fix_summary()}"
    assert "  Procfile:1  PF104 gunicorn binds `127.0.0.1`" in lines
    assert "      fix: Bind `0.0.0.0`" in lines, "a finding's own fix title wins over the rule's"
    suppressed_at = lines.index("suppressed (1)")
    assert lines[suppressed_at + 1 : suppressed_at + 3] == [
        "  app.py:5  PF303 `SECRET_KEY` literal",
        "      reason: rotated, test-only key",
    ]
    assert lines[-4:] == [
        "start command: gunicorn app:app  (Procfile:1)",
        "Flask apps:    app:app (app.py:3), factory:create_app() (factory.py:4)",
        "skipped files: 2",
        "verdict:       not ready, score 39/100",
    ]


def test_text_output_of_an_empty_report():
    report = Report(findings=[], start_command=None, apps=[], skipped=[], analyzer_version=__version__)
    out = text.render(report)
    assert out.startswith("No findings.\n")
    assert "start command: none found" in out
    assert "Flask apps:    none found" in out
    assert out.endswith("verdict:       ready, score 100/100\n")


def test_text_output_colours_only_when_asked():
    assert "\x1b[1;31mblocker (1)\x1b[0m" in text.render(_rich_report(), color=True)
    assert "\x1b[" not in text.render(_rich_report())
