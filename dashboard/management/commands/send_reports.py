"""`manage.py send_reports [--dry-run] [--team T]`: queue the digests that are due, or one team's digest now.

The e-mail workers send what is queued. Each address gets one digest per
period however often this runs, alongside the beat or not.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from dashboard.models import Team
from workers import report_schedule


def find_team(name_or_id: str) -> Team:
    """The team with this id, or the one team with this name (case-insensitive)."""
    if name_or_id.isdigit():
        team = Team.objects.filter(pk=int(name_or_id)).first()
        if team is not None:
            return team
    matches = list(Team.objects.filter(name__iexact=name_or_id).order_by("pk")[:10])
    if not matches:
        raise CommandError(f"No team has the id or name {name_or_id!r}.")
    if len(matches) > 1:
        raise CommandError(
            f"Several teams are named {name_or_id!r}: pass the id of one of {', '.join(str(t.pk) for t in matches)}."
        )
    return matches[0]


class Command(BaseCommand):
    help = "Queue the readiness digests that are due (or, with --team, that team's digest now) for the e-mail workers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Say who would get which digest; queue nothing.")
        parser.add_argument("--team", help="A team's id or name: its digest for the current period, due or not.")

    def handle(self, *args, dry_run: bool, team: str | None, **options) -> None:
        now = timezone.now()
        if team:
            plans = [report_schedule.plan_team_digest(find_team(team), now)]
        else:
            plans = [
                report_schedule.plan_team_digest(report.team, now, scheduled_at=report.next_digest_at)
                for report in report_schedule.due_reports(now)
            ]
        if not plans:
            self.stdout.write("No digest is due.")
        for plan in plans:
            self.describe(plan)
        if dry_run:
            self.stdout.write("Dry run: nothing was queued.")
            return
        if team:
            queued = len(report_schedule.send_team_digest_now(plans[0].team, now))
        else:
            queued = report_schedule.send_readiness_reports(now)["deliveries"]
        self.stdout.write(self.style.SUCCESS(f"Queued {queued} digest(s); the e-mail workers send them."))

    def describe(self, plan: report_schedule.DigestPlan) -> None:
        waiting = {address: ids for address, ids in plan.recipients.items() if address not in plan.already}
        self.stdout.write(f"{plan.team.name} (team {plan.team.pk}), period {plan.period}: {len(waiting)} to send")
        names = dict(plan.team.projects.values_list("pk", "name"))
        for address, ids in waiting.items():
            self.stdout.write(f"  {address}: {', '.join(names[pk] for pk in ids)}")
        for address in sorted(plan.already & set(plan.recipients)):
            self.stdout.write(f"  {address}: already sent for this period")
