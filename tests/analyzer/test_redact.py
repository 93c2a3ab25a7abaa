"""Secret values never reach a report's text, even when evidence quotes the code around them."""

from __future__ import annotations

import json

from analyzer import analyze
from analyzer.formats.text import render as render_text
from tests.analyzer.conftest import write_repo

SECRET = "s3cr3t-value-do-not-print"


def test_it_masks_secret_literals_everywhere_in_the_report(tmp_path):
    root = write_repo(
        tmp_path / "repo",
        {
            "Procfile": "web: gunicorn app:app\n",
            "requirements.txt": "flask\ngunicorn\n",
            "app.py": (
                "import os\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                f'app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "{SECRET}")\n'
                f'app.config["API_TOKEN"] = "{SECRET}-2"\n'
            ),
            ".env": f"SECRET_KEY={SECRET}\n",
        },
    )
    report = analyze(root)
    assert {"PF303", "PF305"} <= {finding.rule for finding in report.findings}
    # Patches are the exception: a diff quotes the lines it removes, to people who can read the repository.
    shown = json.dumps({k: v for k, v in report.as_dict().items() if k not in ("findings", "fix_all_patch")})
    shown += render_text(report)
    for finding in report.findings:
        shown += json.dumps({k: v for k, v in finding.as_dict().items() if k != "patch"})
    assert SECRET not in shown


def test_it_masks_a_secret_that_evidence_quotes(tmp_path):
    from analyzer.project import Project
    from analyzer.redact import redact_findings
    from analyzer.report import Finding, Severity

    root = write_repo(
        tmp_path / "repo",
        {
            "Procfile": "web: gunicorn app:app\n",
            "app.py": f'import os\nfrom flask import Flask\n\napp = Flask(__name__)\napp.secret_key = os.getenv("SECRET_KEY", "{SECRET}")\n',
        },
    )
    finding = Finding(
        "PF999", Severity.LOW, f"quoted {SECRET}", "app.py", 5, evidence=[f'os.getenv("SECRET_KEY", "{SECRET}")']
    )
    contract = [{"default": SECRET, "note": f"optional: falls back to {SECRET}"}]
    redact_findings(Project(root), [finding], contract)
    assert SECRET not in finding.message + "".join(finding.evidence) + json.dumps(contract)
    assert "***" in finding.message
