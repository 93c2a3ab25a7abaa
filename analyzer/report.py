"""The analyzer's results: findings, the report, and scoring (RULES.md "Scoring")."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from enum import StrEnum

SCHEMA_VERSION = 1
# Where rule pages live: a self-hosted dashboard serves them at /rules/<id>/, so an
# operator points this at their own instance.
RULES_URL = os.environ.get("PREFLIGHT_RULES_URL", "https://preflight.dev/rules/").rstrip("/") + "/"


def rule_help_uri(rule_id: str) -> str:
    """The rule's guidance page."""
    return f"{RULES_URL}{rule_id}/"


class Severity(StrEnum):
    BLOCKER = "blocker"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def penalty(self) -> int:
        return {"blocker": 40, "high": 15, "medium": 5, "low": 1}[self.value]

    @property
    def rank(self) -> int:
        """Higher is worse; used to sort and to compare with --fail-on."""
        return {"blocker": 4, "high": 3, "medium": 2, "low": 1}[self.value]


@dataclass
class Finding:
    rule: str
    severity: Severity
    message: str
    path: str | None = None
    line: int | None = None
    column: int | None = None
    # What the finding is about, independent of where it sits (a key name, a
    # process type). Fingerprints hash it instead of the line, so a finding
    # keeps its identity when unrelated lines move.
    subject: str = ""
    # 2, 3, ... for a rule's later findings with the same subject in the same file, in source order.
    occurrence: int = field(default=1, repr=False)
    evidence: list[str] = field(default_factory=list)
    patch: str | None = None
    fix_title: str | None = None
    fix_safety: str | None = None
    suppressed: bool = False
    suppression_reason: str | None = None
    # The rule's proposed fix (analyzer.autofix.Fix); it becomes `patch` only once verified.
    fix: object | None = field(default=None, repr=False, compare=False)
    fix_problem: str | None = None  # why a proposed fix is not offered
    fix_edits: list = field(default_factory=list, repr=False, compare=False)  # the verified fix, for SARIF

    @property
    def identity(self) -> tuple[str, str, str]:
        """What the finding is about, whatever its place among repeats of it."""
        return self.rule, self.path or "", self.subject or self.message

    @property
    def fingerprint(self) -> str:
        subject = self.subject or self.message
        if self.occurrence > 1:
            subject += f" #{self.occurrence}"
        raw = "\x1f".join((self.rule, self.path or "", subject))
        return hashlib.sha256(raw.encode()).hexdigest()[:20]

    @property
    def help_uri(self) -> str:
        return rule_help_uri(self.rule)

    @property
    def location(self) -> str:
        if not self.path:
            return "(repository)"
        if self.line:
            return f"{self.path}:{self.line}"
        return self.path

    def as_dict(self) -> dict:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "help_uri": self.help_uri,
            "fingerprint": self.fingerprint,
            "evidence": list(self.evidence),
            "patch": self.patch,
            "fix_title": self.fix_title,
            "fix_safety": self.fix_safety,
            "fix_unavailable": self.fix_problem,
            "suppressed": self.suppressed,
            "suppression_reason": self.suppression_reason,
        }


@dataclass
class StartCommand:
    """The command Railway runs for the web process, and where it came from."""

    command: str
    source: str  # "Procfile:1", "railway.toml:7", "platform settings", "inferred by Railpack"
    path: str | None = None
    line: int | None = None
    kind: str = ""  # platform, railway, dockerfile, nixpacks, railpack, procfile, inferred

    def as_dict(self) -> dict:
        return {
            "command": self.command,
            "source": self.source,
            "path": self.path,
            "line": self.line,
            "kind": self.kind,
        }


@dataclass
class FlaskApp:
    """A Flask application found in the code: a module-level app or a factory."""

    module: str
    name: str
    kind: str  # "app" (a module-level binding) or "factory" (a function returning one)
    path: str
    line: int

    @property
    def target(self) -> str:
        return f"{self.module}:{self.name}()" if self.kind == "factory" else f"{self.module}:{self.name}"

    def as_dict(self) -> dict:
        return {
            "module": self.module,
            "name": self.name,
            "kind": self.kind,
            "path": self.path,
            "line": self.line,
            "target": self.target,
        }


@dataclass
class Skipped:
    path: str
    reason: str

    def as_dict(self) -> dict:
        return {"path": self.path, "reason": self.reason}


def score_findings(findings: list[Finding]) -> tuple[int, str]:
    """Score and verdict: each rule counts once, suppressed findings not at all."""
    worst_by_rule: dict[str, Severity] = {}
    for finding in findings:
        if finding.suppressed:
            continue
        known = worst_by_rule.get(finding.rule)
        if known is None or finding.severity.rank > known.rank:
            worst_by_rule[finding.rule] = finding.severity
    score = max(0, 100 - sum(severity.penalty for severity in worst_by_rule.values()))
    if Severity.BLOCKER in worst_by_rule.values():
        return score, "not ready"
    return score, "ready" if score >= 80 else "needs work"


@dataclass
class Report:
    findings: list[Finding]
    start_command: StartCommand | None
    apps: list[FlaskApp]
    skipped: list[Skipped]
    analyzer_version: str
    app_root: str = "."
    env_contract: list[dict] = field(default_factory=list)
    fix_all_patch: str | None = None
    fix_all_problem: str | None = None  # why there is no fix-all patch although fixes exist

    @property
    def score(self) -> int:
        return score_findings(self.findings)[0]

    @property
    def verdict(self) -> str:
        return score_findings(self.findings)[1]

    def active(self) -> list[Finding]:
        return [finding for finding in self.findings if not finding.suppressed]

    def as_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "analyzer_version": self.analyzer_version,
            "app_root": self.app_root,
            "score": self.score,
            "verdict": self.verdict,
            "start_command": self.start_command.as_dict() if self.start_command else None,
            "apps": [app.as_dict() for app in self.apps],
            "skipped": [skip.as_dict() for skip in self.skipped],
            "env_contract": list(self.env_contract),
            "findings": [finding.as_dict() for finding in self.findings],
            "fix_all_patch": self.fix_all_patch,
            "fix_all_unavailable": self.fix_all_problem,
        }
