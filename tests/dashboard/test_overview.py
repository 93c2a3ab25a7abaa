from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from dashboard.models import Membership, Project, Role, Scan, ScanStatus, Team

START = timezone.now() - timedelta(days=60)


def _scan(project: Project, score: int, *, day: int, verdict: str = "", counts=None, sha: str = "") -> Scan:
    verdict = verdict or ("ready" if score >= 80 else "needs work")
    when = START + timedelta(days=day)
    scan = Scan.objects.create(
        project=project,
        status=ScanStatus.SUCCEEDED,
        score=score,
        verdict=verdict,
        counts=counts or {},
        commit_sha=sha or f"{day:07d}" + "f" * 33,
        report={"findings_omitted": True},
        created_at=when,
        started_at=when,
        finished_at=when + timedelta(seconds=5),
    )
    Project.objects.filter(pk=project.pk).update(last_scan=scan)
    return scan


def _project(team: Team, name: str, scores=(), **kwargs) -> Project:
    project = Project.objects.create(team=team, name=name, repo_url=f"https://github.com/example/{name}.git")
    for day, score in enumerate(scores):
        _scan(project, score, day=day, **(kwargs if day == len(scores) - 1 else {}))
    return project


def _names(response) -> list[str]:
    return re.findall(r'data-project="([^"]+)"', response.content.decode())


def test_it_lists_the_team_projects_worst_first(client, alice, team, charlie):
    _project(team, "ready-app", [90])
    _project(team, "needs-work-low", [40, 50])
    _project(team, "needs-work-high", [70])
    _project(team, "broken", [95, 30], verdict="not ready")
    _project(team, "fresh")
    Project.objects.create(team=team, name="old", repo_url="https://x/old.git", archived_at=timezone.now())
    _project(Team.objects.get(name="Charlie's team"), "charlies-app", [10])
    client.force_login(alice)
    response = client.get("/")
    assert _names(response) == ["broken", "needs-work-low", "needs-work-high", "ready-app", "fresh"]


def test_it_shows_verdict_score_counts_and_the_last_commit(client, alice, team):
    _project(team, "shop", [60, 35], verdict="not ready", counts={"blocker": 1, "high": 2, "low": 3}, sha="abcdef1234")
    client.force_login(alice)
    html = client.get("/").content.decode()
    row = html[html.index('data-project="shop"') :]
    row = row[: row.index("</tr>")]
    assert "Not ready" in row
    assert ">35<" in row
    assert "abcdef1" in row and "abcdef12" not in row
    counts = re.findall(r'class="count sev-(\w+)[^"]*"[^>]*>(\d+)<', row)
    assert counts == [("blocker", "1"), ("high", "2"), ("medium", "0"), ("low", "3")]


def test_it_draws_the_trend_of_the_last_twenty_scores_oldest_first(client, alice, team):
    _project(team, "shop", list(range(1, 26)))
    client.force_login(alice)
    html = client.get("/").content.decode()
    label = re.search(r'class="sparkline"[^>]*aria-label="Score trend, oldest to newest: ([\d, ]+)"', html)
    assert label is not None
    assert label.group(1) == ", ".join(str(score) for score in range(6, 26))


def test_it_searches_by_name_and_repository_url(client, alice, team):
    _project(team, "shop", [50])
    _project(team, "blog", [50])
    Project.objects.filter(name="blog").update(repo_url="https://gitlab.com/acme/weblog.git")
    client.force_login(alice)
    assert _names(client.get("/", {"q": "SHO"})) == ["shop"]
    assert _names(client.get("/", {"q": "gitlab.com/acme"})) == ["blog"]
    assert "No project matches" in client.get("/", {"q": "nothing"}).content.decode()


def test_it_filters_by_verdict(client, alice, team):
    _project(team, "ready-app", [90])
    _project(team, "needs-work", [50])
    _project(team, "broken", [20], verdict="not ready")
    _project(team, "fresh")
    client.force_login(alice)
    assert _names(client.get("/", {"verdict": "not-ready"})) == ["broken"]
    assert _names(client.get("/", {"verdict": "needs-work"})) == ["needs-work"]
    assert _names(client.get("/", {"verdict": "ready"})) == ["ready-app"]
    assert _names(client.get("/", {"verdict": "unscanned"})) == ["fresh"]
    assert len(_names(client.get("/", {"verdict": "bogus"}))) == 4


def test_it_shows_a_scan_in_progress(client, alice, team):
    project = _project(team, "shop", [50])
    Scan.objects.create(project=project, status=ScanStatus.RUNNING, stage="cloning")
    client.force_login(alice)
    assert "scanning: cloning" in client.get("/").content.decode()


def test_it_shows_the_current_team_only(client, alice, team, charlie):
    charlies_team = Team.objects.get(name="Charlie's team")
    Membership.objects.create(user=alice, team=charlies_team, role=Role.VIEWER)
    _project(team, "shop")
    _project(charlies_team, "charlies-app")
    client.force_login(alice)
    session = client.session
    session["team_id"] = charlies_team.pk
    session.save()
    assert _names(client.get("/")) == ["charlies-app"]


def test_it_tells_a_user_without_a_team_what_to_do(client, alice):
    Membership.objects.filter(user=alice).delete()
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 200
    assert "You are not in a team" in response.content.decode()


def test_it_sends_anonymous_visitors_to_log_in(client, alice):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("projects", [3, 30])
def test_it_runs_a_constant_number_of_queries(client, alice, team, projects, django_assert_max_num_queries):
    verdicts = ["not ready", "needs work", "ready"]
    for index in range(projects):
        project = _project(team, f"app-{index:02d}")
        for day in range(6):
            _scan(project, 20 + index + day, day=day, verdict=verdicts[index % 3], counts={"high": day, "low": 1})
        if index % 4 == 0:
            Scan.objects.create(project=project, status=ScanStatus.QUEUED)
    _project(team, "never-scanned")
    client.force_login(alice)
    with django_assert_max_num_queries(9):
        response = client.get("/")
    assert len(_names(response)) == projects + 1
