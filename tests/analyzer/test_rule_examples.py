"""Every rule's VALID and INVALID examples, turned into tests automatically."""

from __future__ import annotations

import pytest

from analyzer import analyze
from analyzer.rules import catalog
from tests.analyzer.conftest import write_repo

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
