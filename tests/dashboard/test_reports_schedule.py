"""When a team's digest is due, on the team's wall clock, and which period it reports on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dashboard import reports
from dashboard.models import DigestFrequency, ReportSettings, Team

NOON = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday


def _next(frequency: str, after: datetime, *, zone: str = "UTC", weekday: int = 0, hour: int = 8):
    team = Team(name="t", timezone=zone)
    return reports.next_digest_time(ReportSettings(frequency=frequency, weekday=weekday, hour=hour), team, after)


def test_it_sends_daily_digests_at_the_hour_on_the_teams_clock_across_daylight_saving():
    assert _next(DigestFrequency.DAILY, NOON) == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    assert _next(DigestFrequency.DAILY, NOON, zone="Europe/Paris") == datetime(2026, 1, 15, 7, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert _next(DigestFrequency.DAILY, summer, zone="Europe/Paris") == datetime(2026, 7, 2, 6, 0, tzinfo=UTC)
    assert _next(DigestFrequency.DAILY, NOON, hour=13) == datetime(2026, 1, 14, 13, 0, tzinfo=UTC)


def test_it_sends_weekly_digests_on_the_chosen_day():
    friday = _next(DigestFrequency.WEEKLY, NOON, weekday=4, hour=17, zone="America/New_York")
    assert friday == datetime(2026, 1, 16, 22, 0, tzinfo=UTC)
    monday = _next(DigestFrequency.WEEKLY, NOON, weekday=0)
    assert monday == datetime(2026, 1, 19, 8, 0, tzinfo=UTC)
    sunday = _next(DigestFrequency.WEEKLY, NOON, weekday=6)
    assert sunday == datetime(2026, 1, 18, 8, 0, tzinfo=UTC)


def test_it_has_no_next_digest_when_digests_are_off():
    assert _next(DigestFrequency.OFF, NOON) is None


def test_it_names_the_period_by_the_local_day_or_the_iso_week():
    tokyo = Team(name="t", timezone="Asia/Tokyo")
    late = datetime(2026, 1, 14, 23, 30, tzinfo=UTC)  # already the 15th in Tokyo
    assert reports.period_key(DigestFrequency.DAILY, tokyo, late) == "2026-01-15"
    assert reports.period_key(DigestFrequency.WEEKLY, tokyo, late) == "2026-W03"
    assert reports.period_key(DigestFrequency.WEEKLY, tokyo, datetime(2027, 1, 1, 12, tzinfo=UTC)) == "2026-W53"


def test_it_reports_since_the_last_digest_or_one_period_back():
    assert reports.digest_since(ReportSettings(last_digest_at=NOON), NOON + timedelta(days=3)) == NOON
    weekly = ReportSettings(frequency=DigestFrequency.WEEKLY)
    assert reports.digest_since(weekly, NOON) == NOON - timedelta(days=7)
    assert reports.digest_since(ReportSettings(), NOON) == NOON - timedelta(days=1)
