"""Output formats. Each one renders a `Report` to a string; all of them consume the same report model."""

from __future__ import annotations

from analyzer.formats import json_format, sarif, text
from analyzer.report import Report

FORMATS = ("text", "json", "sarif")
ENV_CONTRACT_FORMATS = ("text", "json")


def render(report: Report, output_format: str, *, color: bool = False) -> str:
    """The report as `text`, `json` or `sarif`; `color` only affects text."""
    if output_format == "text":
        return text.render(report, color=color)
    if output_format == "json":
        return json_format.render(report)
    if output_format == "sarif":
        return sarif.render(report)
    raise ValueError(f"unknown output format {output_format!r}; known: {', '.join(FORMATS)}")


def render_env_contract(report: Report, output_format: str) -> str:
    """The report's environment contract alone, as `text` or `json`."""
    if output_format == "text":
        return text.render_env_contract(report)
    if output_format == "json":
        return json_format.render_env_contract(report)
    raise ValueError(f"the environment contract is printed as {' or '.join(ENV_CONTRACT_FORMATS)}, not {output_format}")


__all__ = ["ENV_CONTRACT_FORMATS", "FORMATS", "render", "render_env_contract"]
