"""SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

Every rule of the catalog is a `reportingDescriptor`; every finding a result that
points at it. GitHub rejects a whole upload when one result has no location, so a
finding about an absence (no start command, no manifest) is anchored at the app
root folder instead of being left without one.
"""

from __future__ import annotations

import json
from urllib.parse import quote

from analyzer.report import Finding, Report, Severity, rule_help_uri
from analyzer.rules import catalog

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://preflight.dev/"
# partialFingerprints key: versioned so that changing how fingerprints are computed
# starts a new series instead of silently re-keying existing alerts.
FINGERPRINT_KEY = "preflight/v1"

LEVELS = {Severity.BLOCKER: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}


def render(report: Report) -> str:
    return json.dumps(sarif_log(report), indent=2) + "\n"


def sarif_log(report: Report) -> dict:
    rules = catalog().rules
    rule_index = {rule.id: index for index, rule in enumerate(rules)}
    run = {
        "tool": {
            "driver": {
                "name": "Preflight",
                "version": report.analyzer_version,
                "semanticVersion": report.analyzer_version,
                "informationUri": INFORMATION_URI,
                "rules": [_descriptor(rule) for rule in rules],
            }
        },
        # Finding columns count characters of the decoded text, not UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, rule_index, report.app_root) for finding in report.findings],
        "properties": {
            "score": report.score,
            "verdict": report.verdict,
            "appRoot": report.app_root,
            "startCommand": report.start_command.as_dict() if report.start_command else None,
            "envContract": list(report.env_contract),
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _descriptor(rule) -> dict:
    guidance = rule.guidance()
    return {
        "id": rule.id,
        "name": rule.slug,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.summary()},
        "help": {"text": guidance, "markdown": guidance},
        "helpUri": rule_help_uri(rule.id),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {"severity": rule.severity.value},
    }


def _result(finding: Finding, rule_index: dict[str, int], app_root: str) -> dict:
    result: dict = {"ruleId": finding.rule}
    if finding.rule in rule_index:
        result["ruleIndex"] = rule_index[finding.rule]
    result |= {
        "level": LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location(finding, app_root)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {"severity": finding.severity.value},
    }
    if finding.suppressed:
        result["suppressions"] = [{"kind": "inSource", "justification": finding.suppression_reason or ""}]
    if finding.patch and finding.fix_edits:
        result["fixes"] = [_fix(finding)]
    return result


def _fix(finding: Finding) -> dict:
    """The verified patch as SARIF replacements, by character offsets into the original files."""
    changes: dict[str, list[dict]] = {}
    for edit in finding.fix_edits:
        changes.setdefault(edit.path, []).append(
            {
                "deletedRegion": {"charOffset": edit.start, "charLength": edit.end - edit.start},
                "insertedContent": {"text": edit.text},
            }
        )
    return {
        "description": {"text": finding.fix_title or "Apply the verified patch"},
        "artifactChanges": [
            {"artifactLocation": {"uri": quote(path, safe="/")}, "replacements": replacements}
            for path, replacements in sorted(changes.items())
        ],
    }


def _location(finding: Finding, app_root: str) -> dict:
    if not finding.path:
        # GitHub needs a non-empty URI; an absence belongs to the folder Railway deploys.
        return {"physicalLocation": {"artifactLocation": {"uri": quote(app_root, safe="/")}}}
    physical: dict = {"artifactLocation": {"uri": quote(finding.path, safe="/")}}
    if finding.line:
        region = {"startLine": finding.line}
        if finding.column:
            region["startColumn"] = finding.column
        physical["region"] = region
    return {"physicalLocation": physical}
