"""Output formats. Each one renders a `Report` to a string; all of them consume the same report model."""

from __future__ import annotations

from analyzer.formats import json_format, sarif, text
from analyzer.report import Report

FORMATS = ("text", "json", "sarif")


def render(report: Report, output_format: str, *, color: bool = False) -> str:
    """The report as `text`, `json` or `sarif`; `color` only affects text."""
    if output_format == "text":
        return text.render(report, color=color)
    if output_format == "json":
        return json_format.render(report)
    if output_format == "sarif":
        return sarif.render(report)
    raise ValueError(f"unknown output format {output_format!r}; known: {', '.join(FORMATS)}")


__all__ = ["FORMATS", "render"]
