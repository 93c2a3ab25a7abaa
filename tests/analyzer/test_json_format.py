"""The JSON report matches its documented schema, docs/report-schema.md, field for field."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.formats import json_format
from analyzer.report import SCHEMA_VERSION
from tests.analyzer.conftest import write_repo

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "report-schema.md"

APP = (
    "from flask import Flask\n\napp = Flask(__name__)\napp.run()  # preflight: ignore[PF103] only under python app.py\n"
    "import os\n\nGREETING = os.environ.get('GREETING', 'hello')\n"
)


def documented_fields() -> list[str]:
    """The first column of every field table: `score`, `start_command.command`, `findings[].rule`."""
    return re.findall(r"^\| `([a-z_.\[\]]+)` \|", SCHEMA_DOC.read_text(encoding="utf-8"), re.M)


@pytest.fixture
def report_dict(tmp_path) -> dict:
    """A report in which every documented list and object is non-empty, so every field can be checked."""
    root = write_repo(
        tmp_path / "repo",
        {
            "Procfile": "web: gunicorn --bind 127.0.0.1:8000 app:app\n",
            "requirements.txt": "flask==3.0.3\ngunicorn==23.0.0\n",
            "app.py": APP,
        },
    )
    os.symlink("/etc/hostname", root / "leak.txt")
    data = json.loads(json_format.render(analyze(root)))
    assert data["start_command"] and data["apps"] and data["skipped"] and data["env_contract"]
    assert any(f["suppressed"] for f in data["findings"]) and any(not f["suppressed"] for f in data["findings"])
    return data


def _values(data: dict, field: str) -> list:
    """The values at a documented path; `findings[].rule` reads `rule` in every finding."""
    values = [data]
    for part in field.split("."):
        name, is_list = part.removesuffix("[]"), part.endswith("[]")
        assert all(name in value for value in values), f"{field}: `{name}` missing"
        values = [value[name] for value in values]
        if is_list:
            values = [item for value in values for item in value]
    return values


def test_the_document_lists_the_fields():
    fields = documented_fields()
    assert len(fields) == len(set(fields))
    assert {"schema_version", "findings[].fingerprint", "start_command.source", "apps[].target"} <= set(fields)


def test_the_document_states_the_current_schema_version():
    assert SCHEMA_DOC.read_text(encoding="utf-8").startswith(f"# The JSON report (schema version {SCHEMA_VERSION})")


def test_every_documented_field_is_in_the_output(report_dict):
    for field in documented_fields():
        _values(report_dict, field)


def test_every_field_in_the_output_is_documented(report_dict):
    documented = set(documented_fields())
    emitted = set(report_dict)
    for name in ("start_command",):
        emitted |= {f"{name}.{key}" for key in report_dict[name]}
    for name in ("apps", "skipped", "env_contract", "findings"):
        emitted |= {f"{name}[].{key}" for item in report_dict[name] for key in item}
    assert emitted <= documented, sorted(emitted - documented)


def test_the_output_is_report_as_dict(tmp_path):
    report = analyze(write_repo(tmp_path / "repo", {"wsgi.py": APP}))
    text = json_format.render(report)
    assert json.loads(text) == report.as_dict()
    assert text.endswith("}\n")


def test_suppressed_findings_keep_their_reason(report_dict):
    (suppressed,) = [f for f in report_dict["findings"] if f["suppressed"]]
    assert suppressed["rule"] == "PF103"
    assert suppressed["suppression_reason"] == "only under python app.py"
    assert suppressed["fingerprint"] and suppressed["path"] == "app.py" and suppressed["line"] == 4


def test_the_env_contract_lists_each_read(report_dict):
    (greeting,) = report_dict["env_contract"]
    assert greeting["name"] == "GREETING"
    assert (greeting["path"], greeting["line"]) == ("app.py", 7)
    assert greeting["required"] is False and greeting["default"] == "'hello'"
    assert greeting["missing"] is False and greeting["at_startup"] is True
