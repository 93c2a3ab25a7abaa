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
    if report.env_contract:
        lines.append(f"environment:   {_env_summary(report.env_contract)}")
    lines.append(f"skipped files: {len(report.skipped)}")
    verdict = report.verdict
    lines.append(f"verdict:       {paint(verdict, verdict)}, score {report.score}/100")
    return "\n".join(lines) + "\n"


def render_env_contract(report: Report) -> str:
    """`--env-contract`: one line per environment read, what sets it and what happens when it is unset."""
    entries = report.env_contract
    if not entries:
        return "environment contract: the production path reads no environment variables\n"
    names = {entry["name"] for entry in entries}
    rows = [("variable", "read at", "set by", "when unset")]
    for entry in entries:
        where = f"{entry['path']}:{entry['line']}"
        rows.append((entry["name"], where, _set_by(entry), entry["note"]))
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = [f"environment contract: {len(names)} variable(s), {len(entries)} read(s)"]
    for name, where, set_by, note in rows:
        lines.append(f"  {name.ljust(widths[0])}  {where.ljust(widths[1])}  {set_by.ljust(widths[2])}  {note}")
    return "\n".join(lines) + "\n"


def _set_by(entry: dict) -> str:
    if entry["set_by"]:
        return entry["set_by"]
    if entry["missing"]:
        return "missing"
    # Required at startup, and the platform settings do not list the service's variables.
    return "unknown" if entry["missing"] is None else "-"


def _env_summary(entries: list[dict]) -> str:
    names = sorted({entry["name"] for entry in entries})
    required = sorted(
        {
            entry["name"]
            for entry in entries
            if entry["required"] and entry["at_startup"] and not entry["platform_managed"]
        }
    )
    summary = f"{len(names)} variable(s) read"
    if required:
        summary += f", required at startup: {', '.join(required)}"
    return summary + " (--env-contract lists them)"


def _fix(finding: Finding) -> str:
    """The finding's own fix title when the rule gave one, else the rule's one-line fix."""
    if finding.fix_title:
        return finding.fix_title
    rule = catalog().by_id(finding.rule)
    return rule.fix_summary() if rule is not None else ""
