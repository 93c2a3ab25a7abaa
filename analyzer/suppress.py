"""Inline suppression: `# preflight: ignore[PF303] reason` on the line or the line above."""

from __future__ import annotations

import re

from analyzer.project import Project
from analyzer.report import Finding

_DIRECTIVE = re.compile(r"#\s*preflight:\s*ignore\[(?P<ids>[A-Za-z0-9,\s]+)\]\s*(?P<reason>[^\n]*)")


def directives(text: str) -> dict[int, dict[str, str]]:
    """line number -> {rule id: reason} for every suppression comment in a file."""
    found: dict[int, dict[str, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _DIRECTIVE.search(line)
        if match:
            reason = match.group("reason").strip()
            for rule_id in re.split(r"[,\s]+", match.group("ids").strip()):
                if rule_id:
                    found.setdefault(number, {})[rule_id.upper()] = reason
    return found


def apply_suppressions(project: Project, findings: list[Finding]) -> None:
    cache: dict[str, dict[int, dict[str, str]]] = {}
    for finding in findings:
        if not finding.path or not finding.line or finding.path not in project.files.paths:
            continue
        if finding.path not in cache:
            text = project.read_text(finding.path)
            if text is None:
                module = project.python(finding.path) if finding.path.endswith(".py") else None
                text = module.text if module is not None else ""
            cache[finding.path] = directives(text)
        marks = cache[finding.path]
        for line in (finding.line, finding.line - 1):
            reason = marks.get(line, {}).get(finding.rule)
            if reason is not None:
                finding.suppressed = True
                finding.suppression_reason = reason or "no reason given"
                break
