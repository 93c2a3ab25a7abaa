"""Finished scans stored the way the pipeline stores them, for the page and export tests."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from analyzer import analyze
from analyzer.report import Report
from dashboard.models import Finding, Project, Scan, ScanStatus
from workers.pipeline import finding_rows

FLASK_DEV_SERVER = {
    "app.py": "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get('/')\ndef index():\n    return 'hi'\n\n\napp.run(debug=True)\n",
    "requirements.txt": "flask\n",
    "Procfile": "web: gunicorn app:app\n",
}
FLASK_GUNICORN = {
    "app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    "requirements.txt": "flask\ngunicorn\n",
    "Procfile": "web: gunicorn app:app\n",
}


def analyzed(files: dict[str, str]) -> tuple[Report, list[Finding]]:
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            Path(folder, name).parent.mkdir(parents=True, exist_ok=True)
            Path(folder, name).write_text(text)
        report = analyze(folder)
        return report, finding_rows(report, Path(folder))


def store_scan(
    project: Project,
    files: dict[str, str] = FLASK_DEV_SERVER,
    *,
    sha: str = "a" * 40,
    when=None,
    trigger: str = "manual",
) -> tuple[Scan, Report]:
    """A succeeded scan of `files` with the analyzer's own findings, as the pipeline stores it."""
    report, rows = analyzed(files)
    document = report.as_dict()
    document.pop("findings")
    finished = when or timezone.now()
    scan = Scan.objects.create(
        project=project,
        status=ScanStatus.SUCCEEDED,
        stage="done",
        progress=100,
        trigger=trigger,
        commit_sha=sha,
        commit_message="Deploy on Railway",
        commit_author="Alice <alice@example.org>",
        analyzer_version=report.analyzer_version,
        score=report.score,
        verdict=report.verdict,
        counts={},
        report=document,
        created_at=finished - timedelta(seconds=4),
        started_at=finished - timedelta(seconds=3),
        finished_at=finished,
    )
    for row in rows:
        row.scan = scan
    Finding.objects.bulk_create(rows)
    Project.objects.filter(pk=project.pk).update(last_scan=scan)
    return scan, report


def bulk_history(project: Project, scans: int, findings_per_scan: int) -> None:
    """Many finished scans with many findings each, quickly: for the query-count tests."""
    start = timezone.now() - timedelta(days=scans)
    created = Scan.objects.bulk_create(
        Scan(
            project=project,
            status=ScanStatus.SUCCEEDED if i % 7 else ScanStatus.FAILED,
            stage="done",
            progress=100,
            commit_sha=f"{i:040x}",
            score=None if i % 7 == 0 else 50 + i % 50,
            verdict="" if i % 7 == 0 else "needs work",
            error="" if i % 7 else "Repository not found",
            report={"start_command": None, "fix_all_patch": None, "apps": [], "skipped": []},
            created_at=start + timedelta(days=i),
            started_at=start + timedelta(days=i),
            finished_at=start + timedelta(days=i, seconds=5),
        )
        for i in range(scans)
    )
    Finding.objects.bulk_create(
        Finding(
            scan=scan,
            rule="PF104",
            severity=("blocker", "high", "medium", "low")[j % 4],
            path=f"app/module_{j}.py",
            line=j + 1,
            message=f"the server binds port `{j}`",
            fingerprint=f"{j:020x}",
            excerpt=[[j + 1, f"app.run(port={j})"]],
            patch="--- a/x\n+++ b/x\n" if j % 2 else "",
        )
        for scan in created
        if scan.status == ScanStatus.SUCCEEDED
        for j in range(findings_per_scan)
    )
