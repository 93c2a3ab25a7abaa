"""The human-readable report: findings by severity, each with its one-line fix, then the facts and the verdict."""

from __future__ import annotations

from analyzer.report import Finding, Report, Severity
from analyzer.rules import catalog

_RESET = "\x1b[0m"
_COLORS = {
    Severity.BLOCKER: "\x1b[1;31m",
    Severity.HIGH: "\x1b[31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    "ready": "\x1b[1;32m",
    "needs work": "\x1b[1;33m",
    "not ready": "\x1b[1;31m",
}


def render(report: Report, *, color: bool = False) -> str:
    def paint(text: str, key: str) -> str:
        return f"{_COLORS[key]}{text}{_RESET}" if color else text

    lines: list[str] = []
    active = report.active()
    if not active:
        lines += ["No findings.", ""]
    for severity in Severity:
        group = [finding for finding in active if finding.severity is severity]
        if not group:
            continue
        lines.append(paint(f"{severity.value} ({len(group)})", severity))
        for finding in group:
            lines.append(f"  {finding.location}  {finding.rule} {finding.message}")
            fix = _fix(finding)
            if fix:
                lines.append(f"      fix: {fix}")
        lines.append("")

    suppressed = [finding for finding in report.findings if finding.suppressed]
    if suppressed:
        lines.append(f"suppressed ({len(suppressed)})")
        for finding in suppressed:
            lines.append(f"  {finding.location}  {finding.rule} {finding.message}")
            lines.append(f"      reason: {finding.suppression_reason}")
        lines.append("")

    start = report.start_command
    lines.append(f"start command: {start.command}  ({start.source})" if start else "start command: none found")
    apps = ", ".join(f"{app.target} ({app.path}:{app.line})" for app in report.apps)
    lines.append(f"Flask apps:    {apps or 'none found'}")
    if report.app_root != ".":
        lines.append(f"app root:      {report.app_root}")
    lines.append(f"skipped files: {len(report.skipped)}")
    verdict = report.verdict
    lines.append(f"verdict:       {paint(verdict, verdict)}, score {report.score}/100")
    return "\n".join(lines) + "\n"


def _fix(finding: Finding) -> str:
    """The finding's own fix title when the rule gave one, else the rule's one-line fix."""
    if finding.fix_title:
        return finding.fix_title
    rule = catalog().by_id(finding.rule)
    return rule.fix_summary() if rule is not None else ""
