"""Every rule's VALID and INVALID examples, turned into tests automatically."""

from __future__ import annotations

import subprocess

import pytest

from analyzer import analyze
from analyzer.rules import catalog
from tests.analyzer.conftest import write_repo

# Rules that issue 6 gives an automatic fix.
FIXABLE = frozenset(
    [
        "PF101",
        "PF102",
        "PF104",
        "PF105",
        "PF107",
        "PF108",
        "PF202",
        "PF203",
        "PF301",
        "PF302",
        "PF303",
        "PF305",
        "PF306",
        "PF307",
        "PF308",
        "PF401",
        "PF403",
        "PF405",
        "PF501",
        "PF502",
        "PF601",
        "PF603",
    ]
)

CASES_VALID = [
    pytest.param(rule, index, example, id=f"{rule.id}-valid-{index}")
    for rule in catalog().rules
    for index, example in enumerate(rule.VALID)
]
CASES_INVALID = [
    pytest.param(rule, index, example, id=f"{rule.id}-invalid-{index}")
    for rule in catalog().rules
    for index, example in enumerate(rule.INVALID)
]


@pytest.mark.parametrize(("rule", "index", "example"), CASES_VALID)
def test_valid_example_is_not_flagged(tmp_path, rule, index, example):
    root = write_repo(tmp_path / "repo", example.files)
    report = analyze(root, app_root=example.app_root, platform=example.platform, select=[rule.id])
    flagged = [f for f in report.findings if f.rule == rule.id]
    assert not flagged, [f.message for f in flagged]


@pytest.mark.parametrize(("rule", "index", "example"), CASES_INVALID)
def test_invalid_example_is_flagged(tmp_path, rule, index, example):
    root = write_repo(tmp_path / "repo", example.files)
    report = analyze(root, app_root=example.app_root, platform=example.platform, select=[rule.id])
    flagged = [f for f in report.findings if f.rule == rule.id]
    assert flagged, f"{rule.id} did not flag INVALID example {index}"
    if example.expect:
        assert any(example.expect in f.message for f in flagged), [f.message for f in flagged]


@pytest.mark.parametrize("rule", catalog().rules, ids=lambda rule: rule.id)
def test_rule_has_metadata_guidance_and_enough_examples(rule):
    assert rule.id and rule.slug and rule.title
    guidance = rule.guidance()
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## References"):
        assert heading in guidance, f"{rule.id} guidance lacks {heading}"
    assert len(rule.VALID) >= 4 and len(rule.INVALID) >= 4


CASES_FIXED = [
    pytest.param(rule, index, example, id=f"{rule.id}-fixed-{index}")
    for rule in catalog().rules
    for index, example in enumerate(rule.INVALID)
    if example.fixed is not None
]


@pytest.mark.parametrize(("rule", "index", "example"), CASES_FIXED)
def test_fix_round_trip(tmp_path, rule, index, example):
    """Patch, apply with git, compare to the declared fixed text, re-analyze: the finding is gone."""
    root = write_repo(tmp_path / "repo", example.files)
    report = analyze(root, app_root=example.app_root, platform=example.platform, select=[rule.id])
    patches = [f.patch for f in report.findings if f.rule == rule.id and f.patch]
    unavailable = [f.fix_problem for f in report.findings if f.rule == rule.id and f.fix_problem]
    assert patches, f"{rule.id} offered no verified patch: {unavailable}"
    patch = report.fix_all_patch if len(patches) > 1 else patches[0]
    subprocess.run(["git", "apply", "-"], cwd=root, input=patch.encode(), check=True)
    # `git rm --cached` is not in the diff: a clone of the fixed repository no longer has these files.
    for finding in report.findings:
        if finding.rule == rule.id and finding.patch and finding.fix is not None:
            for path in finding.fix.untrack:
                (root / path).unlink(missing_ok=True)
    for name, expected in example.fixed.items():
        assert (root / name).read_bytes().decode("utf-8") == expected, name
    after = analyze(root, app_root=example.app_root, platform=example.platform, select=[rule.id])
    assert not [f for f in after.findings if f.rule == rule.id and not f.suppressed]


@pytest.mark.parametrize("rule", [r for r in catalog().rules if r.id in FIXABLE], ids=lambda rule: rule.id)
def test_autofixable_rule_has_three_round_trip_examples(rule):
    assert sum(example.fixed is not None for example in rule.INVALID) >= 3
