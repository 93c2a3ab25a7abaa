"""The JSON report: `Report.as_dict()` as documented in docs/report-schema.md."""

from __future__ import annotations

import json

from analyzer.report import Report


def render(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2) + "\n"
