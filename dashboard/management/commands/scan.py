"""`manage.py scan <project> [--wait]`: request a scan as an operator, and optionally follow it to the end."""

from __future__ import annotations

from time import monotonic, sleep

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.models import Project, Scan, ScanStatus
from dashboard.pages import public_error
from dashboard.scans import request_scan

TRIGGER = "command"


def find_project(name_or_id: str) -> Project:
    """The project with this id, or the one project with this name (case-insensitive)."""
    if name_or_id.isdigit():
        project = Project.objects.filter(pk=int(name_or_id)).select_related("team").first()
        if project is not None:
            return project
    matches = list(Project.objects.filter(name__iexact=name_or_id).select_related("team").order_by("pk")[:10])
    if not matches:
        raise CommandError(f"No project has the id or name {name_or_id!r}.")
    if len(matches) > 1:
        listed = ", ".join(f"{project.pk} (team {project.team.name})" for project in matches)
        raise CommandError(f"Several projects are named {name_or_id!r}: pass the id of one of {listed}.")
    return matches[0]


def describe(scan: Scan) -> str:
    if scan.status == ScanStatus.SUCCEEDED:
        counts = ", ".join(f"{count} {severity}" for severity, count in (scan.counts or {}).items() if count)
        reused = f", result reused from scan {scan.reused_from_id}" if scan.reused_from_id else ""
        return (
            f"scan {scan.pk} succeeded: {scan.verdict}, score {scan.score}"
            f" ({counts or 'no findings'}) at {scan.commit_sha[:12]}{reused}"
        )
    return f"scan {scan.pk} failed: {public_error(scan)}"


class Command(BaseCommand):
    help = "Request a scan of a project (by id or name); with --wait, follow it and exit non-zero if it fails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("project", help="the project's id, or its name when no other project has it")
        parser.add_argument("--wait", action="store_true", help="wait for the scan to finish, printing its progress")
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="seconds to wait at most (default: the scan time limit plus five minutes in the queue)",
        )
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between progress checks")

    def handle(self, *args, project: str, wait: bool, timeout: float | None, interval: float, **options) -> None:
        found = find_project(project)
        if found.archived_at is not None:
            raise CommandError(f"Project {found.pk} ({found.name}) is archived; unarchive it to scan it.")
        scan, created = request_scan(found, TRIGGER)
        if created:
            self.stdout.write(f"scan {scan.pk} of {found.name} queued")
        else:
            self.stdout.write(f"scan {scan.pk} of {found.name} was already {scan.status}; following that one")
        if not wait:
            return
        limit = timeout if timeout is not None else settings.SCAN_TIME_LIMIT + 300
        scan = self.follow(scan.pk, limit, interval)
        if scan.status == ScanStatus.SUCCEEDED:
            self.stdout.write(self.style.SUCCESS(describe(scan)))
        else:
            raise CommandError(describe(scan))

    def follow(self, scan_id: int, limit: float, interval: float) -> Scan:
        """Poll the scan until it finishes, printing each new stage and percentage."""
        deadline = monotonic() + limit
        shown = None
        while True:
            scan = Scan.objects.defer("report").get(pk=scan_id)
            state = (scan.stage, scan.progress)
            if scan.pending and state != shown:
                self.stdout.write(f"  {scan.stage} {scan.progress}%")
                shown = state
            if not scan.pending:
                return scan
            if monotonic() >= deadline:
                raise CommandError(
                    f"scan {scan_id} is still {scan.status} ({scan.stage}) after {limit:.0f} s; is a worker running?",
                    returncode=2,
                )
            sleep(interval)
