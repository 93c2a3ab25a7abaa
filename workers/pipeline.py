"""One scan, start to finish: claim it, fetch the commit, analyze it (or reuse the last result), store it.

Claiming is a compare-and-swap on the scan's status, so whatever Celery
delivers twice runs once. Every way out of `scan_project` leaves the scan
succeeded or failed with a short error the user can act on; a worker that
dies mid-scan leaves it running, and `recover_stale_scans` or the
redelivered message finishes the job.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from functools import partial
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from analyzer import PlatformError, Report, analyze
from analyzer import __version__ as analyzer_version
from dashboard.crypto import decrypt
from dashboard.models import PENDING, Finding, Project, Scan, ScanStatus
from dashboard.reports import scan_finished
from dashboard.triage import score_rows
from workers import clone

logger = logging.getLogger(__name__)

# A scan may be claimed this many times; a repository that kills its worker every time fails instead of looping.
MAX_ATTEMPTS = 3
# Past the hard time limit, how long before a running scan counts as abandoned.
RECOVERY_MARGIN = timedelta(seconds=60)
# A queued scan unclaimed this long probably lost its message (broker down when it was sent).
REQUEUE_AFTER = timedelta(minutes=5)
EXCERPT_CONTEXT = 2
EXCERPT_MAX_FILE = 2 * 1024 * 1024

WORKER_STOPPED = "The worker stopped before finishing (time limit or crash). Start a new scan."
TIMED_OUT = (
    "The scan took longer than the time limit and was stopped. Start a new scan; if it keeps happening, the "
    "repository may be too large to scan."
)
ANALYZER_FAILED = (
    "The analyzer failed on this repository (an internal error; the details are in the worker's log for the "
    "operator). Start a new scan; if it fails again, report it."
)
CREDENTIAL_UNREADABLE = (
    "The project's stored credential cannot be decrypted with the configured keys. Enter the token or deploy key again."
)


class ScanFailed(Exception):
    """The scan cannot finish; the message is what the user reads."""


def scan_project(scan_id: int, *, redelivered: bool = False) -> str:
    """Run the scan if this call claims it: "succeeded", "failed", or "skipped" (someone else has it)."""
    scan = claim_scan(scan_id, redelivered=redelivered)
    if scan is None:
        return "skipped"
    try:
        run_scan(scan)
    except ScanFailed as failure:
        fail_scan(scan.pk, str(failure))
        return "failed"
    except SoftTimeLimitExceeded:
        fail_scan(scan.pk, TIMED_OUT)
        return "failed"
    except Exception:
        logger.exception("scan %s of project %s failed", scan.pk, scan.project_id)
        fail_scan(scan.pk, ANALYZER_FAILED)
        return "failed"
    return "succeeded"


def claim_scan(scan_id: int, *, redelivered: bool = False) -> Scan | None:
    """The scan, now running and ours; None when it is not ours to run."""
    now = timezone.now()
    running = {"status": ScanStatus.RUNNING, "stage": "cloning", "progress": 5, "started_at": now, "error": ""}
    claimed = Scan.objects.filter(pk=scan_id, status=ScanStatus.QUEUED).update(attempts=F("attempts") + 1, **running)
    if not claimed and redelivered:
        # Redelivery means the message was never acknowledged: the worker that claimed the scan died.
        scan = Scan.objects.filter(pk=scan_id, status=ScanStatus.RUNNING).only("attempts").first()
        if scan is None:
            return None
        if scan.attempts >= MAX_ATTEMPTS:
            _fail(Q(pk=scan_id, status=ScanStatus.RUNNING, attempts=scan.attempts), WORKER_STOPPED)
            return None
        claimed = Scan.objects.filter(pk=scan_id, status=ScanStatus.RUNNING, attempts=scan.attempts).update(
            attempts=scan.attempts + 1, **running
        )
        if claimed:
            logger.warning("scan %s re-claimed after its worker was lost (attempt %s)", scan_id, scan.attempts + 1)
    if not claimed:
        return None
    return Scan.objects.select_related("project").get(pk=scan_id)


def run_scan(scan: Scan) -> None:
    project = scan.project
    try:
        credentials = clone.Credentials(project.auth_kind, decrypt(project.credential))
    except ValueError:
        raise ScanFailed(CREDENTIAL_UNREADABLE) from None
    try:
        fetched = clone.fetch(project.pk, project.repo_url, project.branch, credentials)
    except clone.CloneError as error:
        raise ScanFailed(str(error)) from None
    Scan.objects.filter(pk=scan.pk, status=ScanStatus.RUNNING).update(
        commit_sha=fetched.sha,
        commit_message=fetched.message,
        commit_author=fetched.author,
        analyzer_version=analyzer_version,
        stage="cloning",
        progress=35,
    )
    inputs = scan_inputs(project)
    previous = reusable_scan(scan, fetched.sha, inputs)
    if previous is not None:
        reuse_result(scan, previous)
        return
    try:
        with clone.checkout(project.pk, fetched.sha) as folder:
            report_progress(scan.pk, "analyzing", 45)
            try:
                report = analyze(folder, app_root=project.app_root or ".", platform=project.platform_settings())
            except PlatformError as error:
                raise ScanFailed(
                    f"The project's Railway settings are invalid: {error}. Fix them and scan again."
                ) from None
            report_progress(scan.pk, "storing", 85)
            rows = finding_rows(report, folder)
    except clone.CloneError as error:
        raise ScanFailed(str(error)) from None
    store_result(scan, report, rows, inputs)


def report_progress(scan_id: int, stage: str, percent: int) -> None:
    Scan.objects.filter(pk=scan_id, status=ScanStatus.RUNNING).update(stage=stage, progress=percent)


def scan_inputs(project: Project) -> dict:
    """What besides the commit decides the result; a result is reused only when these match."""
    return {"app_root": project.app_root or ".", "platform": project.platform_settings()}


def reusable_scan(scan: Scan, sha: str, inputs: dict) -> Scan | None:
    candidates = (
        Scan.objects.filter(
            project_id=scan.project_id,
            status=ScanStatus.SUCCEEDED,
            commit_sha=sha,
            analyzer_version=analyzer_version,
        )
        .exclude(pk=scan.pk)
        .order_by("-finished_at")
        .only("pk", "report", "inputs", "reused_from_id")[:5]
    )
    return next((candidate for candidate in candidates if candidate.inputs == inputs), None)


def reuse_result(scan: Scan, previous: Scan) -> None:
    """Store the previous result again: same commit, analyzer and inputs give the same findings."""
    report_progress(scan.pk, "storing", 85)
    rows = []
    for finding in Finding.objects.filter(scan=previous).order_by("pk"):
        finding.pk = None
        finding.scan_id = scan.pk
        rows.append(finding)
    _store(scan, previous.report, previous.inputs, rows, reused_from_id=previous.reused_from_id or previous.pk)


def store_result(scan: Scan, report: Report, rows: list[Finding], inputs: dict) -> None:
    document = report.as_dict()
    document.pop("findings", None)
    _store(scan, document, inputs, rows, reused_from_id=None)


def _store(
    scan: Scan, document: dict | None, inputs: dict | None, rows: list[Finding], *, reused_from_id: int | None
) -> None:
    # Findings, score and status land together or not at all; the CAS keeps a scan failed meanwhile failed.
    with transaction.atomic():
        score, verdict, counts = score_rows(scan.project_id, rows)
        updated = Scan.objects.filter(pk=scan.pk, status=ScanStatus.RUNNING).update(
            status=ScanStatus.SUCCEEDED,
            stage="done",
            progress=100,
            score=score,
            verdict=verdict,
            counts=counts,
            report=document,
            inputs=inputs,
            reused_from_id=reused_from_id,
            finished_at=timezone.now(),
            error="",
        )
        if not updated:
            logger.warning("scan %s was no longer running when its result was ready; result dropped", scan.pk)
            return
        for row in rows:
            row.scan_id = scan.pk
        Finding.objects.bulk_create(rows, batch_size=500)
        Project.objects.filter(pk=scan.project_id).update(last_scan_id=scan.pk)
        transaction.on_commit(partial(scan_finished, scan.pk))


def finding_rows(report: Report, folder: Path) -> list[Finding]:
    return [
        Finding(
            rule=finding.rule,
            severity=finding.severity.value,
            path=(finding.path or "")[:500],
            line=finding.line,
            column=finding.column,
            message=finding.message,
            fingerprint=finding.fingerprint,
            evidence=[str(item) for item in finding.evidence],
            patch=finding.patch or "",
            fix_title=(finding.fix_title or "")[:300],
            fix_safety=finding.fix_safety or "",
            fix_unavailable=(finding.fix_problem or "")[:500],
            fix_edits=[[edit.path, edit.start, edit.end, edit.text] for edit in finding.fix_edits],
            suppressed=finding.suppressed,
            suppression_reason=(finding.suppression_reason or "")[:500],
            excerpt=excerpt(folder, finding.path, finding.line),
        )
        for finding in report.findings
    ]


_SECRET_WORD = re.compile(r"(?i)secret|token|passw|pwd|api[_-]?key|private[_-]?key|credential|dsn|_url\b|\bauth")
# A quoted literal in value position (after `=`, `:` or `,`), not a key name in brackets or a call's first argument.
_QUOTED_VALUE = re.compile(r"""(?P<lead>[=:,]\s*[rbuf]?)(?P<quote>["'])(?P<body>[^"']{4,})(?P=quote)""")
_DOTENV_VALUE = re.compile(r"^(?P<lead>\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*[=:]\s*)(?P<value>[^\s#].*)$")
_URL_PASSWORD = re.compile(r"(?P<lead>[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@")


def excerpt(folder: Path, path: str | None, line: int | None) -> list[list]:
    """A few numbered lines around `line` of the checked-out file, with literal secrets masked."""
    if not path or not line:
        return []
    root = folder.resolve()
    target = (folder / path).resolve()
    if root not in target.parents or not target.is_file() or target.stat().st_size > EXCERPT_MAX_FILE:
        return []
    lines = target.read_bytes().decode("utf-8", "replace").splitlines()
    first, last = max(1, line - EXCERPT_CONTEXT), min(len(lines), line + EXCERPT_CONTEXT)
    dotenv = Path(path).name.startswith(".env") or Path(path).name.endswith(".env")
    return [[number, mask_secrets(lines[number - 1], dotenv=dotenv)[:300]] for number in range(first, last + 1)]


def mask_secrets(text: str, *, dotenv: bool = False) -> str:
    """Hide what looks like a literal secret: pages show the line, never the value."""
    text = _URL_PASSWORD.sub(r"\g<lead>********@", text)
    if not _SECRET_WORD.search(text):
        return text
    if dotenv:
        return _DOTENV_VALUE.sub(r"\g<lead>********", text)
    return _QUOTED_VALUE.sub(r"\g<lead>\g<quote>********\g<quote>", text)


def fail_scan(scan_id: int, message: str) -> bool:
    """Mark a pending scan failed with `message`; False if it had already finished."""
    return _fail(Q(pk=scan_id, status__in=PENDING), message)


def _fail(condition: Q, message: str) -> bool:
    scan = Scan.objects.filter(condition).only("pk", "project_id").first()
    if scan is None:
        return False
    with transaction.atomic():
        updated = Scan.objects.filter(condition, pk=scan.pk).update(
            status=ScanStatus.FAILED, stage="failed", error=message[:500], finished_at=timezone.now()
        )
        if updated:
            Project.objects.filter(pk=scan.project_id).update(last_scan_id=scan.pk)
    return bool(updated)


def recover_stale_scans() -> dict[str, int]:
    """Fail scans running past the time limit, re-send queued scans nobody claimed, clear worker leftovers."""
    now = timezone.now()
    abandoned = now - timedelta(seconds=settings.SCAN_TIME_LIMIT) - RECOVERY_MARGIN
    failed = 0
    for scan_id in Scan.objects.filter(status=ScanStatus.RUNNING, started_at__lt=abandoned).values_list(
        "pk", flat=True
    ):
        failed += _fail(Q(pk=scan_id, status=ScanStatus.RUNNING, started_at__lt=abandoned), WORKER_STOPPED)

    from dashboard.enqueue import enqueue_scan

    forgotten = now - REQUEUE_AFTER
    unclaimed = Q(status=ScanStatus.QUEUED) & (
        Q(enqueued_at__lt=forgotten) | Q(enqueued_at__isnull=True, created_at__lt=forgotten)
    )
    requeued = 0
    for scan_id in Scan.objects.filter(unclaimed).values_list("pk", flat=True):
        # The CAS on enqueued_at keeps two beats from sending the same scan twice.
        if Scan.objects.filter(unclaimed, pk=scan_id).update(enqueued_at=now):
            enqueue_scan(scan_id)
            requeued += 1
    cleaned = clone.remove_stale_scratch(older_than=settings.SCAN_TIME_LIMIT + RECOVERY_MARGIN.total_seconds())
    if failed or requeued:
        logger.info("recovered scans: %s failed as abandoned, %s re-sent", failed, requeued)
    return {"failed": failed, "requeued": requeued, "cleaned": cleaned}
