"""The JSON report: `Report.as_dict()` as documented in docs/report-schema.md."""

from __future__ import annotations

import json

from analyzer.report import Report


def render(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2) + "\n"


def render_env_contract(report: Report) -> str:
    """The `env_contract` array alone, for `--env-contract --format json`."""
    return json.dumps(report.env_contract, indent=2) + "\n"
