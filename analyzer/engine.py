"""Running the rules over one repository and assembling the report."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from analyzer.autofix import verify_fixes
from analyzer.envcontract import environment_contract
from analyzer.gcpause import collector_paused
from analyzer.platform import Platform
from analyzer.project import Project
from analyzer.redact import redact_findings
from analyzer.report import Finding, Report
from analyzer.rules import catalog
from analyzer.suppress import apply_suppressions
from analyzer.version import __version__


def analyze(
    path: str | Path,
    app_root: str = ".",
    platform: Platform | dict | None = None,
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    fixes: bool = True,
) -> Report:
    """Analyze the repository at `path` and return its report. Never runs repo code."""
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"{path} is not a directory")
    with collector_paused():
        return _analyze(root, app_root, platform, select, ignore, fixes)


def _analyze(root: Path, app_root: str, platform, select, ignore, fixes: bool) -> Report:
    if not isinstance(platform, Platform):
        platform = Platform.from_dict(platform)
    project = Project(root, app_root, platform)
    project.builds_fixes = fixes
    chosen = _chosen_rules(select, ignore)
    findings = _run_rules(project, chosen)
    fix_all, fix_all_problem = None, None
    if fixes and any(finding.fix is not None for finding in findings):
        everything = catalog().rules
        baseline = findings if len(chosen) == len(everything) else _run_rules(project, everything)
        fix_all, fix_all_problem = verify_fixes(project, findings, baseline, lambda p: _run_rules(p, everything))
    findings.sort(key=lambda f: (-f.severity.rank, f.rule, f.path or "", f.line or 0))
    env_contract = environment_contract(project)
    redact_findings(project, findings, env_contract)
    return Report(
        findings=findings,
        start_command=project.start_command,
        apps=project.flask_apps,
        skipped=sorted(project.files.skipped, key=lambda skip: skip.path),
        analyzer_version=__version__,
        app_root=project.app_root or ".",
        env_contract=env_contract,
        fix_all_patch=fix_all,
        fix_all_problem=fix_all_problem,
    )


def _run_rules(project: Project, rules) -> list[Finding]:
    """Every finding of the given rules, with inline suppressions applied."""
    findings: list[Finding] = []
    for rule_class in rules:
        findings.extend(rule_class().check(project))
    _number_repeated_subjects(findings)
    apply_suppressions(project, findings)
    return findings


def _number_repeated_subjects(findings: list[Finding]) -> None:
    """Give each finding its own fingerprint: when a rule reports the same subject twice in one file
    (two fallbacks of `REDIS_URL` in config.py), the later ones are occurrences 2, 3, ... in source
    order. Baselines and triage tell findings apart by fingerprint."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.identity, []).append(finding)
    for repeated in groups.values():
        repeated.sort(key=lambda finding: (finding.line or 0, finding.column or 0))
        for number, finding in enumerate(repeated, start=1):
            finding.occurrence = number


def _chosen_rules(select: Iterable[str] | None, ignore: Iterable[str] | None):
    selected = {rule_id.upper() for rule_id in select} if select else None
    ignored = {rule_id.upper() for rule_id in ignore} if ignore else set()

    def wanted(rule_id: str, chosen: set[str]) -> bool:
        # "PF1" selects the whole PF1xx family, as ruff's prefixes do.
        return any(rule_id.startswith(prefix) for prefix in chosen)

    return [
        rule
        for rule in catalog().rules
        if (selected is None or wanted(rule.id, selected)) and not wanted(rule.id, ignored)
    ]
