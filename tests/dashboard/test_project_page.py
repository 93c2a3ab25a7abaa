"""The project page: findings by severity with links, excerpts, guidance and patches; history; scans; settings."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from dashboard import crypto, projects
from dashboard.models import Finding, Project, Scan, ScanStatus, Triage, TriageKind
from dashboard.pages import markdown_html, repo_web
from tests.dashboard.scandata import FLASK_DEV_SERVER, FLASK_GUNICORN, bulk_history, store_scan


def page(client, project) -> str:
    response = client.get(reverse("project", args=[project.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_it_groups_the_latest_findings_by_severity(client, bob, project):
    _, report = store_scan(project)
    client.force_login(bob)
    body = page(client, project)
    severities = [finding.severity.value for finding in report.findings]
    headings = re.findall(r'<h3 class="sev-(\w+)" id="severity-', body)
    assert headings == [s for s in ("blocker", "high", "medium", "low") if s in severities]
    for finding in report.findings:
        assert f'data-fingerprint="{finding.fingerprint}"' in body
    assert report.verdict.capitalize() in body and f"{report.score}<span" in body


def test_it_links_each_location_to_the_file_at_the_scanned_commit(client, bob, project):
    store_scan(project, sha="0123456789abcdef0123456789abcdef01234567")
    client.force_login(bob)
    body = page(client, project)
    assert 'href="https://github.com/example/shop/blob/0123456789abcdef0123456789abcdef01234567/app.py#L11"' in body


@pytest.mark.parametrize(
    ("repo_url", "expected"),
    [
        ("https://github.com/acme/shop.git", "https://github.com/acme/shop/blob/abc1234/src/app.py#L12"),
        ("git@github.com:acme/shop.git", "https://github.com/acme/shop/blob/abc1234/src/app.py#L12"),
        ("ssh://git@github.com:22/acme/shop", "https://github.com/acme/shop/blob/abc1234/src/app.py#L12"),
        (
            "https://gitlab.com/acme/platform/shop.git",
            "https://gitlab.com/acme/platform/shop/-/blob/abc1234/src/app.py#L12",
        ),
        ("git@gitlab.com:acme/shop.git", "https://gitlab.com/acme/shop/-/blob/abc1234/src/app.py#L12"),
        ("https://bitbucket.org/acme/shop.git", "https://bitbucket.org/acme/shop/src/abc1234/src/app.py#lines-12"),
        ("git@bitbucket.org:acme/shop.git", "https://bitbucket.org/acme/shop/src/abc1234/src/app.py#lines-12"),
    ],
)
def test_it_knows_the_file_urls_of_github_gitlab_and_bitbucket(repo_url, expected):
    assert repo_web(repo_url).file_url("abc1234", "src/app.py", 12) == expected


@pytest.mark.parametrize(
    "repo_url", ["https://git.example.com/acme/shop.git", "git@127.0.0.1:shop.git", "https://github.com/shop"]
)
def test_it_does_not_link_other_hosts(repo_url):
    assert repo_web(repo_url) is None


def test_it_shows_the_code_excerpt_the_guidance_and_the_patch(client, bob, project):
    scan, _ = store_scan(project)
    client.force_login(bob)
    body = page(client, project)
    dev_server = Finding.objects.get(scan=scan, rule="PF103")
    assert '<span class="line hit"><span class="ln">11</span>app.run(debug=True)</span>' in body
    assert "<h4>Why is this bad?</h4>" in body
    with_patch = Finding.objects.filter(scan=scan).exclude(patch="").first()
    assert with_patch is not None, "the sample repository must produce a patch"
    patch_id = f"patch-{with_patch.pk}"
    assert f'data-copy="{patch_id}"' in body and f'data-download="{patch_id}"' in body
    assert f'<pre class="patch" id="{patch_id}">' in body
    assert dev_server.message.split("`")[0] in body


def test_it_escapes_guidance_markdown():
    html = markdown_html("## Use <b>it</b>\nRun `x < y` now.\n\n```\n<script>alert(1)</script>\n```\n- one\n- two")
    assert html == (
        "<h4>Use &lt;b&gt;it&lt;/b&gt;</h4><p>Run <code>x &lt; y</code> now.</p>"
        "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;</code></pre><ul><li>one</li><li>two</li></ul>"
    )


def test_it_shows_the_effective_start_command_and_where_it_came_from(client, bob, project):
    store_scan(project, FLASK_GUNICORN)
    client.force_login(bob)
    body = page(client, project)
    assert '<code>gunicorn app:app</code> <span class="muted">from Procfile:1</span>' in body


def test_it_offers_the_fix_all_patch_when_the_scan_has_one(client, bob, project):
    scan, _ = store_scan(project)
    scan.report["fix_all_patch"] = "--- /dev/null\n+++ b/Procfile\n@@ -0,0 +1 @@\n+web: gunicorn app:app\n"
    scan.save()
    client.force_login(bob)
    body = page(client, project)
    assert 'data-download="fix-all-patch"' in body
    assert '<pre id="fix-all-patch" hidden>--- /dev/null\n+++ b/Procfile' in body


def test_it_lists_triaged_and_suppressed_findings_apart(client, bob, project):
    scan, _ = store_scan(project)
    accepted = Finding.objects.filter(scan=scan).first()
    Triage.objects.create(
        project=project, fingerprint=accepted.fingerprint, rule=accepted.rule, kind=TriageKind.ACCEPTED, reason="ok"
    )
    Finding.objects.filter(scan=scan).exclude(pk=accepted.pk).filter(rule="PF203").update(
        suppressed=True, suppression_reason="pinned elsewhere"
    )
    expired = Finding.objects.filter(scan=scan, suppressed=False).exclude(pk=accepted.pk).first()
    Triage.objects.create(
        project=project,
        fingerprint=expired.fingerprint,
        rule=expired.rule,
        kind=TriageKind.FALSE_POSITIVE,
        reason="old",
        expires_at=timezone.now() - timedelta(days=1),
    )
    client.force_login(bob)
    body = page(client, project)
    triaged = body.split('id="triaged"', 1)[1].split('id="suppressed"', 1)
    assert f'data-fingerprint="{accepted.fingerprint}"' in triaged[0] and "<strong>Accepted risk</strong>" in triaged[0]
    assert "pinned elsewhere" in triaged[1]
    open_part = body.split('id="triaged"', 1)[0]
    assert f'data-fingerprint="{expired.fingerprint}"' in open_part, "an expired mark no longer hides a finding"
    assert "the finding counts again" in open_part
    marks = body.split('id="triage"', 1)[1]
    assert marks.count("Undo</button>") == 2, "every mark is listed with its undo button"


def test_it_draws_the_score_history(client, bob, project):
    start = timezone.now() - timedelta(days=3)
    for day in range(3):
        store_scan(project, FLASK_GUNICORN if day else FLASK_DEV_SERVER, when=start + timedelta(days=day))
    client.force_login(bob)
    body = page(client, project)
    assert 'class="history-chart"' in body and 'data-points="3"' in body


def test_it_lists_the_scans_with_status_trigger_commit_and_score(client, bob, project):
    scan, report = store_scan(project, sha="fedcba9876543210fedcba9876543210fedcba98", trigger="push")
    Scan.objects.create(
        project=project,
        status=ScanStatus.FAILED,
        error="Repository not found",
        trigger="schedule",
        finished_at=timezone.now(),
    )
    client.force_login(bob)
    body = page(client, project)
    row = body.split(f'data-scan="{scan.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Succeeded" in row and "push" in row and "fedcba9" in row and f">{report.score}<" in row
    assert "The last scan failed" in body and "Repository not found" in body
    assert "The findings below are from the last successful scan." in body


def test_it_shows_a_running_scan_with_a_live_progress_bar(client, bob, project):
    scan = Scan.objects.create(project=project, status=ScanStatus.RUNNING, stage="analyzing", progress=45)
    client.force_login(bob)
    body = page(client, project)
    assert f'data-progress-url="{reverse("scan_progress", args=[scan.pk])}"' in body
    assert 'aria-valuenow="45"' in body and "analyzing" in body


def test_it_requests_a_scan_and_returns_the_pending_one_when_asked_again(client, bob, project):
    client.force_login(bob)
    response = client.post(reverse("scan_now", args=[project.pk]))
    assert response.status_code == 302 and response.url == reverse("project", args=[project.pk])
    scan = Scan.objects.get()
    assert (scan.status, scan.trigger) == ("queued", "manual")
    response = client.post(reverse("scan_now", args=[project.pk]), follow=True)
    assert Scan.objects.count() == 1
    assert "already queued or running" in response.content.decode()


def test_it_shows_the_webhook_urls_and_secret_to_members_only(client, bob, vic, project):
    projects.regenerate_webhook(project)
    secret = projects.webhook_secret(project)
    client.force_login(bob)
    body = page(client, project)
    for name in ("hook_github", "hook_gitlab", "hook_generic"):
        assert "http://testserver" + reverse(name, kwargs={"token": project.webhook_token}) in body
    assert secret in body
    client.force_login(vic)
    body = page(client, project)
    assert secret not in body and project.webhook_token not in body


def test_it_regenerates_the_webhook_url_and_secret(client, alice, project):
    projects.regenerate_webhook(project)
    old_token, old_secret = project.webhook_token, projects.webhook_secret(project)
    client.force_login(alice)
    response = client.post(reverse("webhook_regenerate", args=[project.pk]))
    assert response.status_code == 302
    project.refresh_from_db()
    assert project.webhook_token != old_token
    assert projects.webhook_secret(project) not in ("", old_secret)
    assert old_secret not in project.webhook_secret, "stored encrypted"


def test_it_serves_an_opt_in_revocable_badge(client, alice, project):
    _, report = store_scan(project, FLASK_GUNICORN)
    client.force_login(alice)
    assert "Enable the badge" in page(client, project)
    client.post(reverse("badge_enable", args=[project.pk]))
    project.refresh_from_db()
    badge_url = reverse("badge", kwargs={"token": project.badge_token})
    assert len(project.badge_token) >= 32 and badge_url in page(client, project)

    client.logout()
    response = client.get(badge_url)
    assert response.status_code == 200 and response["Content-Type"].startswith("image/svg+xml")
    assert f"{report.verdict} {report.score}" in response.content.decode()

    client.force_login(alice)
    client.post(reverse("badge_revoke", args=[project.pk]))
    client.logout()
    assert client.get(badge_url).status_code == 404


def test_it_refuses_every_write_to_a_viewer(client, vic, project):
    client.force_login(vic)
    for name in ("scan_now", "webhook_regenerate", "badge_enable", "badge_revoke"):
        assert client.post(reverse(name, args=[project.pk])).status_code == 403, name
    body = page(client, project)
    assert "Scan now" not in body and "Settings" not in body
    assert not Scan.objects.exists()


def test_it_hides_the_project_from_a_stranger(client, charlie, project):
    client.force_login(charlie)
    assert client.get(reverse("project", args=[project.pk])).status_code == 404
    for name in ("scan_now", "webhook_regenerate", "badge_enable", "badge_revoke"):
        assert client.post(reverse(name, args=[project.pk])).status_code == 404, name


@pytest.mark.parametrize(("scans", "findings"), [(2, 3), (120, 30)])
def test_it_runs_a_constant_number_of_queries(client, bob, project, django_assert_max_num_queries, scans, findings):
    bulk_history(project, scans, findings)
    store_scan(project)
    Triage.objects.create(project=project, fingerprint="0" * 20, rule="PF104", kind=TriageKind.ACCEPTED, reason="x")
    Scan.objects.create(project=project, status=ScanStatus.RUNNING, stage="cloning", progress=5)
    Project.objects.filter(pk=project.pk).update(badge_token="b" * 32, webhook_secret=crypto.encrypt("s"))
    client.force_login(bob)
    with django_assert_max_num_queries(12):
        body = page(client, project)
    assert 'class="history-chart"' in body
