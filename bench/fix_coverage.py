"""Share of findings that get a verified patch, per rule and in total, across every INVALID example.

    python bench/fix_coverage.py

Each INVALID example repo is analyzed with its own rule selected; a finding
counts as covered when the analyzer offers a patch that passed every check
(git apply --check, parse, re-analysis clears it, nothing new appears).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analyzer import analyze
from analyzer.rules import catalog
from tests.analyzer.conftest import write_repo


def main() -> int:
    rows = []
    total_findings = total_patched = 0
    with tempfile.TemporaryDirectory() as scratch:
        for rule in catalog().rules:
            findings = patched = 0
            problems: dict[str, int] = {}
            for index, example in enumerate(rule.INVALID):
                root = write_repo(Path(scratch, rule.id, str(index)), example.files)
                report = analyze(root, app_root=example.app_root, platform=example.platform, select=[rule.id])
                for finding in report.findings:
                    if finding.rule != rule.id:
                        continue
                    findings += 1
                    patched += bool(finding.patch)
                    if finding.fix_problem:
                        problems[finding.fix_problem.split(":")[0]] = (
                            problems.get(finding.fix_problem.split(":")[0], 0) + 1
                        )
            rows.append((rule.id, findings, patched, problems))
            total_findings += findings
            total_patched += patched
    print(f"{'rule':6} {'findings':>8} {'patched':>8} {'share':>7}  not offered because")
    for rule_id, findings, patched, problems in rows:
        share = patched / findings if findings else 0.0
        why = "; ".join(f"{reason} ({count})" for reason, count in problems.items())
        print(f"{rule_id:6} {findings:8d} {patched:8d} {share:7.0%}  {why}")
    print(f"{'total':6} {total_findings:8d} {total_patched:8d} {total_patched / max(total_findings, 1):7.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
