"""The rule catalog: one module per rule, discovered automatically.

A rule module defines one subclass of `Rule`. Adding a rule touches that one
new file: the registry, the docs and the example tests pick it up.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from analyzer.project import Project
from analyzer.report import Finding, Severity


@dataclass
class Example:
    """A small repository: file name -> content, plus optional platform settings.

    `expect` is a substring the finding's message must contain (INVALID only).
    `fixed` maps file names to their content after the rule's autofix.
    """

    files: dict[str, str | bytes]
    platform: dict | None = None
    app_root: str = "."
    expect: str | None = None
    fixed: dict[str, str] | None = None
    note: str = ""


def example(files: dict[str, str | bytes] | Example, **extra) -> Example:
    return files if isinstance(files, Example) else Example(files, **extra)


class Rule:
    """Base class. Subclasses set the metadata, write guidance in the docstring
    under ruff's headings, implement `check`, and list VALID/INVALID examples."""

    id: str = ""
    slug: str = ""
    severity: Severity = Severity.LOW
    title: str = ""
    VALID: list = []
    INVALID: list = []

    def check(self, project: Project) -> Iterator[Finding]:
        raise NotImplementedError

    def finding(
        self,
        message: str,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
        *,
        subject: str = "",
        severity: Severity | None = None,
        evidence: list[str] | None = None,
    ) -> Finding:
        return Finding(
            rule=self.id,
            severity=severity or self.severity,
            message=message,
            path=path,
            line=line,
            column=column if column is not None else (1 if line else None),
            subject=subject,
            evidence=evidence or [],
        )

    @classmethod
    def guidance(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        """The first paragraph of the 'What it does' section."""
        text = cls.guidance()
        match = re.search(r"## What it does\s*\n(.+?)(\n\n|$)", text, re.S)
        return " ".join((match.group(1) if match else cls.title).split())

    @classmethod
    def fix_summary(cls) -> str:
        """A one-line fix, from the first paragraph of 'Use instead' or 'How to fix'."""
        text = cls.guidance()
        match = re.search(r"## (?:How to fix|Fix)\s*\n(.+?)(\n\n|$)", text, re.S)
        return " ".join(match.group(1).split()) if match else ""


@dataclass
class Catalog:
    rules: list[type[Rule]] = field(default_factory=list)

    def by_id(self, rule_id: str) -> type[Rule] | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


@cache
def catalog() -> Catalog:
    found: list[type[Rule]] = []
    for info in pkgutil.iter_modules(__path__):
        if not re.match(r"pf\d{3}_", info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rules = [
            obj
            for obj in vars(module).values()
            if inspect.isclass(obj) and issubclass(obj, Rule) and obj is not Rule and obj.__module__ == module.__name__
        ]
        if len(rules) != 1:
            raise RuntimeError(f"{module.__name__} must define exactly one rule, found {len(rules)}")
        found.append(rules[0])
    found.sort(key=lambda rule: rule.id)
    return Catalog(found)
