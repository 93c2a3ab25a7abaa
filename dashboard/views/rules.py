"""The rule catalog pages, generated from the analyzer's rule metadata: the same for every user."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString
from django.views.decorators.http import require_safe

from analyzer.rules import Example, Rule, catalog
from dashboard.markdown import render as render_markdown
from dashboard.markdown import render_inline

# RULES.md's sections; a rule id's first digit names its family.
FAMILIES = {
    "PF1": "Start command",
    "PF2": "Dependencies and build",
    "PF3": "Secrets and debug",
    "PF4": "Database",
    "PF5": "Static files and proxy",
    "PF6": "Processes and migrations",
    "PF7": "Leaving Heroku",
}


@dataclass(frozen=True)
class RuleRow:
    id: str
    slug: str
    title: str
    severity: str
    penalty: int
    summary: SafeString

    @property
    def family(self) -> str:
        return family_name(self.id)


@dataclass(frozen=True)
class ExampleFile:
    name: str
    text: str  # empty when the content is not text
    note: str = ""  # e.g. "binary, 12 bytes"


@dataclass(frozen=True)
class ExampleView:
    files: list[ExampleFile]
    fixed: list[ExampleFile]
    platform: list[tuple[str, str]]
    app_root: str
    expect: SafeString
    note: SafeString


def family_name(rule_id: str) -> str:
    prefix = rule_id[:3]
    return FAMILIES.get(prefix, f"Other ({prefix}xx)")


def _row(rule: type[Rule]) -> RuleRow:
    return RuleRow(
        rule.id, rule.slug, rule.title, rule.severity.value, rule.severity.penalty, render_inline(rule.summary())
    )


def _file(name: str, content: str | bytes) -> ExampleFile:
    if isinstance(content, str):
        return ExampleFile(name, content)
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return ExampleFile(name, "", f"{len(content)} bytes, not UTF-8 text")
    if "\x00" in text:
        return ExampleFile(name, "", f"binary, {len(content)} bytes")
    return ExampleFile(name, text)


def _example(example: Example) -> ExampleView:
    platform = [
        (key, value if isinstance(value, str) else json.dumps(value))
        for key, value in (example.platform or {}).items()
        if value not in (None, "", [], False)
    ]
    return ExampleView(
        files=[_file(name, content) for name, content in example.files.items()],
        fixed=[_file(name, content) for name, content in (example.fixed or {}).items()],
        platform=platform,
        app_root="" if example.app_root in ("", ".") else example.app_root,
        expect=render_inline(example.expect or ""),
        note=render_inline(example.note),
    )


@cache
def rule_families() -> list[tuple[str, str, list[RuleRow]]]:
    """(prefix, name, rules) per family, in id order."""
    grouped: dict[str, list[RuleRow]] = {}
    for rule in catalog().rules:
        grouped.setdefault(rule.id[:3], []).append(_row(rule))
    return [(prefix, family_name(prefix), rows) for prefix, rows in sorted(grouped.items())]


def rule_page(rule_id: str) -> dict | None:
    """The rule page's context; None for an unknown id (checked first, so junk ids never fill the cache)."""
    return _rule_page(rule_id) if catalog().by_id(rule_id) is not None else None


@cache
def _rule_page(rule_id: str) -> dict:
    rule = catalog().by_id(rule_id)
    return {
        "rule": _row(rule),
        "guidance": render_markdown(rule.guidance()),
        "example_groups": [
            ("Flagged", "flagged", [_example(example) for example in rule.INVALID]),
            ("Not flagged", "not-flagged", [_example(example) for example in rule.VALID]),
        ],
    }


@login_required
@require_safe
def rule_list(request: HttpRequest) -> HttpResponse:
    families = rule_families()
    count = sum(len(rows) for _, _, rows in families)
    return render(request, "dashboard/rules.html", {"families": families, "count": count})


@login_required
@require_safe
def rule(request: HttpRequest, rule_id: str) -> HttpResponse:
    page = rule_page(rule_id)
    if page is None:
        if rule_id != rule_id.upper() and rule_page(rule_id.upper()) is not None:
            return redirect("rule", rule_id=rule_id.upper())
        raise Http404("No such rule")
    return render(request, "dashboard/rule.html", dict(page))
