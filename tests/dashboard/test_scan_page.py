"""The scan page: what changed since the previous successful scan, and the scan's facts."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from dashboard.models import Finding, Scan, ScanStatus
from tests.dashboard.scandata import FLASK_DEV_SERVER, store_scan

# The second version moves app.run() down (same findings, new lines), pins the Python version (a
# finding fixed) and hard-codes the secret key (a new finding).
MOVED = FLASK_DEV_SERVER | {
    "app.py": "from flask import Flask\n\napp = Flask(__name__)\napp.config['SECRET_KEY'] = 'kx8Vw2rLq9Zt'\n\n\n"
    "@app.get('/')\ndef index():\n    return 'hi'\n\n\napp.run(debug=True)\n",
    ".python-version": "3.12\n",
}


def body(client, scan) -> str:
    response = client.get(reverse("scan", args=[scan.pk]))
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, name: str) -> str:
    return html.split(f'<h3 id="{name}">', 1)[1].split("<h3 ", 1)[0]


def test_it_sorts_findings_into_new_fixed_and_unchanged_by_fingerprint(client, bob, project):
    now = timezone.now()
    first, before = store_scan(project, when=now - timedelta(hours=1), sha="1" * 40)
    second, after = store_scan(project, MOVED, when=now, sha="2" * 40)
    earlier = {finding.fingerprint: finding for finding in before.findings}
    later = {finding.fingerprint: finding for finding in after.findings}
    assert earlier.keys() & later.keys(), "the sample must keep some findings"
    moved = Finding.objects.get(scan=second, rule="PF103")
    assert moved.line != Finding.objects.get(scan=first, rule="PF103").line

    client.force_login(bob)
    html = body(client, second)
    assert f"scan #{first.pk}" in html
    unchanged = section(html, "unchanged")
    for fingerprint in earlier.keys() & later.keys():
        assert f'data-fingerprint="{fingerprint}"' in unchanged
    assert f'data-fingerprint="{moved.fingerprint}"' in unchanged, "a finding that moved lines is unchanged"
    for fingerprint in later.keys() - earlier.keys():
        assert f'data-fingerprint="{fingerprint}"' in section(html, "new")
    for fingerprint in earlier.keys() - later.keys():
        assert f'data-fingerprint="{fingerprint}"' in section(html, "fixed")
    assert later.keys() - earlier.keys() and earlier.keys() - later.keys(), "the sample must add and fix findings"


def test_it_calls_everything_new_on_the_first_scan(client, bob, project):
    scan, report = store_scan(project)
    client.force_login(bob)
    html = body(client, scan)
    assert "first successful scan" in html
    assert section(html, "new").count('class="finding ') == len(report.findings)


def test_it_compares_with_the_previous_successful_scan_not_a_failed_one(client, bob, project):
    now = timezone.now()
    first, _ = store_scan(project, when=now - timedelta(hours=2))
    Scan.objects.create(
        project=project, status=ScanStatus.FAILED, error="Repository not found", created_at=now - timedelta(hours=1)
    )
    second, _ = store_scan(project, when=now)
    client.force_login(bob)
    assert f'Since <a href="{reverse("scan", args=[first.pk])}">scan #{first.pk}</a>' in body(client, second)


def test_it_shows_the_commit_trigger_and_duration(client, bob, project):
    scan, _ = store_scan(project, sha="0123456789abcdef0123456789abcdef01234567", trigger="push")
    client.force_login(bob)
    html = body(client, scan)
    assert 'href="https://github.com/example/shop/commit/0123456789abcdef0123456789abcdef01234567"' in html
    assert "Deploy on Railway" in html and "Alice &lt;alice@example.org&gt;" in html
    assert "<td>push</td>" in html and "3.0 s" in html


def test_it_shows_why_a_scan_failed_but_never_a_stack_trace(client, bob, project):
    failed = Scan.objects.create(
        project=project,
        status=ScanStatus.FAILED,
        error="Authentication failed: check the project's access token.",
        finished_at=timezone.now(),
    )
    leaked = Scan.objects.create(
        project=project,
        status=ScanStatus.FAILED,
        error='Traceback (most recent call last):\n  File "/srv/workers/pipeline.py", line 3',
        finished_at=timezone.now(),
    )
    client.force_login(bob)
    assert "Authentication failed: check the project&#x27;s access token." in body(client, failed)
    html = body(client, leaked)
    assert "Traceback" not in html and "pipeline.py" not in html
    assert "details in the worker" in html


def test_it_hides_the_scan_from_a_stranger(client, charlie, project):
    scan, _ = store_scan(project)
    client.force_login(charlie)
    assert client.get(reverse("scan", args=[scan.pk])).status_code == 404


def test_it_reads_in_a_constant_number_of_queries(client, bob, project, django_assert_max_num_queries):
    now = timezone.now()
    store_scan(project, when=now - timedelta(hours=1))
    scan, _ = store_scan(project, MOVED, when=now)
    client.force_login(bob)
    with django_assert_max_num_queries(9):
        body(client, scan)
