"""What the project and scan pages show, read in a constant number of queries; scans rebuilt from stored rows.

A scan stores the analyzer's JSON minus its findings in `Scan.report` and one
`Finding` row per finding; a scan that reused an earlier result may point at
that scan's rows through `reused_from` instead of holding its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from posixpath import basename
from urllib.parse import quote, urlsplit

from django.db.models import Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from analyzer.autofix import Edit
from analyzer.report import Finding as AnalyzerFinding
from analyzer.report import FlaskApp, Report, Severity, Skipped, StartCommand
from analyzer.rules import catalog
from dashboard.models import Finding, Project, Scan, ScanStatus, Triage

SEVERITIES = ("blocker", "high", "medium", "low")
SCAN_LIST_LIMIT = 50
HISTORY_POINTS = 100
STAGES = ("queued", "cloning", "analyzing", "storing")


# Guidance: the rules' markdown, rendered minimally and escaped throughout.


@dataclass(frozen=True)
class RuleInfo:
    id: str
    title: str
    guidance: SafeString


@cache
def rule_info(rule_id: str) -> RuleInfo:
    rule = catalog().by_id(rule_id)
    if rule is None:
        return RuleInfo(rule_id, rule_id, mark_safe(""))
    return RuleInfo(rule.id, rule.title, markdown_html(rule.guidance()))


_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_CODE_SPAN = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    # Escaped first: backticks survive escaping, so code spans are found in safe text.
    return _CODE_SPAN.sub(r"<code>\1</code>", escape(text))


def markdown_html(text: str) -> SafeString:
    """Headings, paragraphs, bullet lists, code fences and `code` spans; everything else is escaped text."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    fence: list[str] | None = None

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in items) + "</ul>")
            items.clear()

    for line in text.splitlines():
        stripped = line.strip()
        if fence is not None:
            if stripped.startswith("```"):
                out.append(f"<pre><code>{escape(chr(10).join(fence))}</code></pre>")
                fence = None
            else:
                fence.append(line)
            continue
        heading = _HEADING.match(stripped)
        if stripped.startswith("```"):
            flush()
            fence = []
        elif heading:
            flush()
            level = min(len(heading.group(1)) + 2, 6)
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif stripped.startswith(("- ", "* ")):
            if paragraph:
                flush()
            items.append(stripped[2:])
        elif not stripped:
            flush()
        elif items and line[:1].isspace():
            items[-1] += " " + stripped
        else:
            if items:
                flush()
            paragraph.append(stripped)
    if fence is not None:
        out.append(f"<pre><code>{escape(chr(10).join(fence))}</code></pre>")
    flush()
    return mark_safe("".join(out))


# Links to the file on the repository's host.

_WEB_HOSTS = {"github.com": "github", "gitlab.com": "gitlab", "bitbucket.org": "bitbucket"}
_SHA = re.compile(r"^[0-9a-f]{7,64}$")


@dataclass(frozen=True)
class RepoWeb:
    kind: str  # github, gitlab, bitbucket
    base: str  # https://github.com/owner/repo

    def commit_url(self, sha: str) -> str:
        if self.kind == "bitbucket":
            return f"{self.base}/commits/{sha}"
        return f"{self.base}/-/commit/{sha}" if self.kind == "gitlab" else f"{self.base}/commit/{sha}"

    def file_url(self, sha: str, path: str, line: int | None) -> str:
        quoted = quote(path, safe="/")
        if self.kind == "gitlab":
            url = f"{self.base}/-/blob/{sha}/{quoted}"
        elif self.kind == "bitbucket":
            return f"{self.base}/src/{sha}/{quoted}" + (f"#lines-{line}" if line else "")
        else:
            url = f"{self.base}/blob/{sha}/{quoted}"
        return url + (f"#L{line}" if line else "")


def repo_web(repo_url: str) -> RepoWeb | None:
    """The web page of a GitHub, GitLab or Bitbucket repository, from its https, ssh:// or git@ URL."""
    url = repo_url.strip()
    if "://" in url:
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return None
        if parts.scheme not in ("https", "http", "ssh"):
            return None
        path = parts.path
    else:
        match = re.match(r"^(?:[^@/:]+@)?(?P<host>[^@/:]+):(?P<path>.+)$", url)
        if match is None:
            return None
        host, path = match.group("host").lower(), match.group("path")
    kind = _WEB_HOSTS.get(host.removeprefix("www."))
    repo = path.strip("/").removesuffix(".git")
    if kind is None or repo.count("/") < 1 or any(part in ("", ".", "..") for part in repo.split("/")):
        return None
    return RepoWeb(kind, f"https://{host.removeprefix('www.')}/{quote(repo, safe='/')}")


# Findings as the pages show them.


@dataclass
class FindingView:
    finding: Finding
    source_url: str = ""
    triage: Triage | None = None

    @property
    def rule(self) -> RuleInfo:
        return rule_info(self.finding.rule)

    @property
    def message_html(self) -> SafeString:
        return mark_safe(_inline(self.finding.message))

    @property
    def fix_title_html(self) -> SafeString:
        return mark_safe(_inline(self.finding.fix_title or "Suggested fix"))

    @property
    def evidence_html(self) -> list[SafeString]:
        return [mark_safe(_inline(str(item))) for item in self.finding.evidence or []]

    @property
    def location(self) -> str:
        finding = self.finding
        if not finding.path:
            return "(repository)"
        return f"{finding.path}:{finding.line}" if finding.line else finding.path

    @property
    def excerpt(self) -> list[tuple[int, str, bool]]:
        return [(number, text, number == self.finding.line) for number, text in (self.finding.excerpt or [])]

    @property
    def patch_filename(self) -> str:
        stem = basename(self.finding.path or "") or "repository"
        return f"{self.finding.rule.lower()}-{stem}.patch"


def _views(
    findings: Iterable[Finding], scan: Scan, web: RepoWeb | None, triage: dict[str, Triage]
) -> list[FindingView]:
    sha = scan.commit_sha if _SHA.match(scan.commit_sha or "") else ""
    views = []
    for finding in findings:
        url = web.file_url(sha, finding.path, finding.line) if web and sha and finding.path else ""
        views.append(FindingView(finding, url, triage.get(finding.fingerprint)))
    return views


def _severity_rank(finding: Finding) -> int:
    return SEVERITIES.index(finding.severity) if finding.severity in SEVERITIES else len(SEVERITIES)


def _sorted(views: list[FindingView]) -> list[FindingView]:
    return sorted(views, key=lambda v: (_severity_rank(v.finding), v.finding.path, v.finding.line or 0, v.finding.pk))


def stored_findings(scans: Iterable[Scan]) -> dict[int, list[Finding]]:
    """Each scan's finding rows in the analyzer's order, in one query; a reused result reads its origin's rows."""
    scans = list(scans)
    ids = {scan.pk for scan in scans} | {scan.reused_from_id for scan in scans if scan.reused_from_id}
    by_scan: dict[int, list[Finding]] = defaultdict(list)
    for finding in Finding.objects.filter(scan_id__in=ids).order_by("scan_id", "pk"):
        by_scan[finding.scan_id].append(finding)
    return {scan.pk: by_scan.get(scan.pk) or by_scan.get(scan.reused_from_id, []) for scan in scans}


# The project page.


@dataclass
class ProjectPage:
    project: Project
    latest: Scan | None  # the latest successful scan: the findings shown
    last_failure: Scan | None  # the newest finished scan, when it failed after `latest`
    pending: Scan | None
    scans: list[Scan]
    history: list[tuple[datetime, int]]
    groups: list[tuple[str, list[FindingView]]] = field(default_factory=list)
    triaged: list[FindingView] = field(default_factory=list)
    suppressed: list[FindingView] = field(default_factory=list)
    triage: list[Triage] = field(default_factory=list)

    @property
    def start_command(self) -> dict | None:
        return (self.latest.report or {}).get("start_command") if self.latest else None

    @property
    def fix_all_patch(self) -> str:
        return ((self.latest.report or {}).get("fix_all_patch") or "") if self.latest else ""

    @property
    def failure_error(self) -> str:
        return public_error(self.last_failure) if self.last_failure else ""

    @property
    def open_count(self) -> int:
        return sum(len(views) for _, views in self.groups)


def project_page(project: Project) -> ProjectPage:
    """Five queries whatever the number of scans and findings.

    The recent scans (without their reports), the latest successful scan (with
    its report), its finding rows, the project's triage marks, and the score
    history.
    """
    scans = list(Scan.objects.filter(project=project).defer("report").order_by("-created_at", "-pk")[:SCAN_LIST_LIMIT])
    latest = Scan.objects.filter(project=project, status=ScanStatus.SUCCEEDED).order_by("-created_at", "-pk").first()
    pending = next((scan for scan in scans if scan.pending), None)
    finished = next((scan for scan in scans if not scan.pending), None)
    last_failure = finished if finished and finished.status == ScanStatus.FAILED else None
    if last_failure and latest and (latest.created_at, latest.pk) > (last_failure.created_at, last_failure.pk):
        last_failure = None
    history_rows = (
        Scan.objects.filter(project=project, status=ScanStatus.SUCCEEDED, score__isnull=False)
        .order_by("-created_at", "-pk")
        .values_list("finished_at", "created_at", "score")[:HISTORY_POINTS]
    )
    history = [(finished_at or created_at, score) for finished_at, created_at, score in reversed(history_rows)]
    triage = list(Triage.objects.filter(project=project).select_related("created_by").order_by("-created_at"))
    page = ProjectPage(project, latest, last_failure, pending, scans, history, triage=triage)
    if latest is None:
        return page

    now = timezone.now()
    marks = {mark.fingerprint: mark for mark in triage}
    views = _views(stored_findings([latest])[latest.pk], latest, repo_web(project.repo_url), marks)
    by_severity: dict[str, list[FindingView]] = {severity: [] for severity in SEVERITIES}
    for view in _sorted(views):
        # An expired mark stays shown on its finding, which counts again.
        if view.triage is not None and view.triage.active(now):
            page.triaged.append(view)
        elif view.finding.suppressed:
            page.suppressed.append(view)
        else:
            by_severity.setdefault(view.finding.severity, []).append(view)
    page.groups = [(severity, found) for severity, found in by_severity.items() if found]
    return page


# The scan page.


@dataclass
class ScanPage:
    scan: Scan
    previous: Scan | None
    new: list[FindingView] = field(default_factory=list)
    fixed: list[FindingView] = field(default_factory=list)
    unchanged: list[FindingView] = field(default_factory=list)

    @property
    def start_command(self) -> dict | None:
        return (self.scan.report or {}).get("start_command")

    @property
    def fix_all_patch(self) -> str:
        return (self.scan.report or {}).get("fix_all_patch") or ""

    @property
    def commit_url(self) -> str:
        web = repo_web(self.scan.project.repo_url)
        sha = self.scan.commit_sha or ""
        return web.commit_url(sha) if web and _SHA.match(sha) else ""

    @property
    def duration(self) -> str:
        return duration_text(self.scan)

    @property
    def error(self) -> str:
        return public_error(self.scan)


def previous_scan(scan: Scan) -> Scan | None:
    """The successful scan of the same project just before this one."""
    earlier = Q(created_at__lt=scan.created_at) | Q(created_at=scan.created_at, pk__lt=scan.pk)
    return (
        Scan.objects.filter(earlier, project_id=scan.project_id, status=ScanStatus.SUCCEEDED)
        .defer("report")
        .order_by("-created_at", "-pk")
        .first()
    )


def scan_page(scan: Scan) -> ScanPage:
    """What changed since the previous successful scan, matched by line-independent fingerprint: two queries."""
    if scan.status != ScanStatus.SUCCEEDED:
        return ScanPage(scan, None)
    previous = previous_scan(scan)
    rows = stored_findings([scan, previous] if previous else [scan])
    web = repo_web(scan.project.repo_url)
    current = _sorted(_views(rows[scan.pk], scan, web, {}))
    before = _sorted(_views(rows[previous.pk], previous, web, {})) if previous else []
    known = {view.finding.fingerprint for view in before}
    still = {view.finding.fingerprint for view in current}
    return ScanPage(
        scan,
        previous,
        new=[view for view in current if view.finding.fingerprint not in known],
        fixed=[view for view in before if view.finding.fingerprint not in still],
        unchanged=[view for view in current if view.finding.fingerprint in known],
    )


def duration_text(scan: Scan) -> str:
    if scan.duration is None:
        return ""
    seconds = scan.duration.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def public_error(scan: Scan) -> str:
    """The stored error's first line: what the user can act on, never a traceback that slipped through."""
    if scan.status != ScanStatus.FAILED:
        return ""
    first = (scan.error or "").strip().splitlines()[:1]
    if not first or first[0].startswith("Traceback"):
        return "The scan failed; an operator can find the details in the worker's log."
    return first[0][:300]


def progress(scan: Scan) -> dict:
    """The live state of a scan, for the progress bar."""
    finished = not scan.pending
    stage = scan.stage if scan.stage in (*STAGES, "done", "failed") else ("done" if finished else "queued")
    return {
        "id": scan.pk,
        "status": scan.status,
        "stage": stage,
        "progress": 100 if finished else min(int(scan.progress or 0), 99),
        "finished": finished,
        "error": public_error(scan),
    }


# Exports: the analyzer's report, rebuilt from what was stored.


@dataclass
class _StoredFinding(AnalyzerFinding):
    """A finding read back from its row: the fingerprint was computed at scan time from a subject not stored."""

    stored_fingerprint: str = ""

    @property
    def fingerprint(self) -> str:
        return self.stored_fingerprint


def stored_report(scan: Scan, findings: list[Finding]) -> Report:
    """The analyzer's Report for a finished scan, so every analyzer format renders it as the CLI would."""
    data = scan.report or {}
    start = data.get("start_command")
    return Report(
        findings=[_analyzer_finding(row) for row in findings],
        start_command=StartCommand(**_known(start, StartCommand)) if start else None,
        apps=[FlaskApp(**_known(app, FlaskApp)) for app in data.get("apps") or []],
        skipped=[Skipped(**_known(skip, Skipped)) for skip in data.get("skipped") or []],
        analyzer_version=data.get("analyzer_version") or scan.analyzer_version,
        app_root=data.get("app_root") or scan.project.app_root or ".",
        env_contract=list(data.get("env_contract") or []),
        fix_all_patch=data.get("fix_all_patch"),
    )


def _known(values: dict, cls) -> dict:
    return {name: value for name, value in values.items() if name in cls.__dataclass_fields__}


def _analyzer_finding(row: Finding) -> AnalyzerFinding:
    return _StoredFinding(
        rule=row.rule,
        severity=Severity(row.severity),
        message=row.message,
        path=row.path or None,
        line=row.line,
        column=row.column,
        evidence=list(row.evidence or []),
        patch=row.patch or None,
        fix_title=row.fix_title or None,
        fix_safety=row.fix_safety or None,
        fix_problem=row.fix_unavailable or None,
        fix_edits=[Edit(*edit) for edit in row.fix_edits or []],
        suppressed=row.suppressed,
        suppression_reason=row.suppression_reason or None,
        stored_fingerprint=row.fingerprint,
    )


# The public badge.

_BADGE_COLOURS = {"ready": "#067647", "needs work": "#b54708", "not ready": "#b42318"}


def badge_svg(scan: Scan | None) -> str:
    """A shields-style badge: "preflight | ready 92"; "unknown" until a scan has a result."""
    if scan is not None and scan.status == ScanStatus.SUCCEEDED and scan.score is not None:
        value, colour = f"{scan.verdict} {scan.score}", _BADGE_COLOURS.get(scan.verdict, "#475467")
    else:
        value, colour = "unknown", "#98a2b3"
    label = "preflight"
    left, right = 10 + 7 * len(label), 10 + 7 * len(value)
    width = left + right
    text = escape(f"{label}: {value}")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{text}">'
        f"<title>{text}</title>"
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        '<g fill="#fff" font-family="Verdana,DejaVu Sans,sans-serif" font-size="11" text-anchor="middle">'
        f'<text x="{left / 2}" y="14">{escape(label)}</text>'
        f'<text x="{left + right / 2}" y="14">{escape(value)}</text>'
        "</g></svg>"
    )
