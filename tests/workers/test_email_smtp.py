"""Report e-mails through a real SMTP server on loopback: what arrives, where its links lead, retries."""

from __future__ import annotations

import contextlib
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from dashboard import reports
from dashboard.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    MemberReportPrefs,
    Membership,
    Project,
    ReportSettings,
    Role,
    Team,
    Unsubscribe,
)
from tests.dashboard.scandata import FLASK_DEV_SERVER, FLASK_GUNICORN, store_scan
from tests.workers.mailserver import MailServer
from workers import email, report_schedule
from workers.celery import app
from workers.tasks import deliver_email

SITE = "https://preflight.example.org"
HREF = re.compile(r'href="([^"]+)"')


def _use(settings, server: MailServer) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.SITE_URL = SITE


@pytest.fixture
def smtp(settings):
    server = MailServer().start()
    _use(settings, server)
    yield server
    server.stop()


@pytest.fixture
def down(settings):
    """A mail server that is not running yet: `down.start()` brings it up on the configured port."""
    server = MailServer()
    _use(settings, server)
    yield server
    server.stop()


@pytest.fixture
def sent_now(monkeypatch):
    """The e-mail worker, in process: a delivery is attempted as soon as it is enqueued."""

    def deliver(delivery_id: int, countdown: float = 0) -> None:
        # An SMTP error is recorded on the delivery; the task would retry it.
        with contextlib.suppress(OSError):
            email.deliver(delivery_id, final_attempt=False)

    monkeypatch.setattr("dashboard.enqueue.enqueue_email", deliver)


@pytest.fixture
def team(db):
    return Team.objects.create(name="Alice's team")


@pytest.fixture
def alice(team):
    user = get_user_model().objects.create_user("alice", "Alice@Example.org", "password-alice")
    membership = Membership.objects.create(user=user, team=team, role=Role.OWNER)
    MemberReportPrefs.objects.create(membership=membership, digest=True, alerts=True)
    return user


@pytest.fixture
def project(team):
    return Project.objects.create(
        team=team, name="shop", repo_url="https://github.com/example/shop.git", recipients="cto@example.org"
    )


@pytest.fixture
def worse(project):
    """Ready two days ago, not ready with two new blockers an hour ago."""
    now = timezone.now()
    store_scan(project, FLASK_GUNICORN, when=now - timedelta(days=2))
    scan, _ = store_scan(project, FLASK_DEV_SERVER, sha="b" * 40, when=now - timedelta(hours=1))
    return scan


def _due(team, now):
    return ReportSettings.objects.create(
        team=team, next_digest_at=now - timedelta(minutes=1), last_digest_at=now - timedelta(days=1)
    )


def _unsubscribe_path(message) -> str:
    """The path of the List-Unsubscribe URL (the header is folded: the URL is longer than a line)."""
    return message["List-Unsubscribe"].strip().removeprefix("<").removesuffix(">").removeprefix(SITE)


def _parts(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_it_sends_each_recipient_the_digest_in_text_and_html_with_one_click_unsubscribe(
    smtp, sent_now, team, alice, worse, django_capture_on_commit_callbacks
):
    now = timezone.now()
    _due(team, now)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = report_schedule.send_readiness_reports(now)

    assert outcome["deliveries"] == 2
    assert sorted(rcpt for rcpts in smtp.recipients for rcpt in rcpts) == ["alice@example.org", "cto@example.org"]
    message = smtp.to("alice@example.org")[0]
    assert message["Subject"] == "Preflight digest for Alice's team: 1 project needs attention"
    assert message["To"] == "alice@example.org"
    assert message["From"] == "Preflight <preflight@localhost>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert re.fullmatch(rf"<{SITE}/unsubscribe/[^/>]+/>", message["List-Unsubscribe"].strip())
    assert message.get_content_type() == "multipart/alternative"
    text, html = _parts(message)
    for part in (text, html):
        assert "shop" in part
        assert "not ready" in part
        assert "-80" in part
        assert "New blockers" in part
        assert "PF103" in part and "PF202" in part
    assert "<html" in html and "<html" not in text
    assert "Alice&#x27;s team" in html and "Alice's team" in text
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.SENT}
    assert Delivery.objects.get(recipient="alice@example.org").subject == message["Subject"]


def test_it_links_to_the_dashboard_pages_the_digest_is_about(smtp, sent_now, team, alice, worse, client):
    delivery = reports.request_test_report(team, alice.email)
    email.deliver(delivery.pk)

    message = smtp.to("alice@example.org")[0]
    text, html = _parts(message)
    links = HREF.findall(html)
    assert links and all(link.startswith(SITE + "/") for link in links)
    paths = {link.removeprefix(SITE) for link in links}
    unsubscribe = _unsubscribe_path(message)
    assert {f"/projects/{worse.project_id}/", f"/scans/{worse.pk}/", f"/teams/{team.pk}/reports/", unsubscribe} <= paths
    text_paths = {link.removeprefix(SITE) for link in re.findall(rf"{re.escape(SITE)}/\S+", text)}
    assert {f"/projects/{worse.project_id}/", f"/teams/{team.pk}/reports/", unsubscribe} <= text_paths

    client.force_login(alice)
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        if path.startswith(("/projects/", "/scans/")):
            assert b"shop" in response.content
        if path == unsubscribe:
            assert b"Stop sending Preflight digests" in response.content
    assert "[Test]" in message["Subject"]


def test_it_stops_the_digest_for_whoever_follows_the_unsubscribe_link(
    smtp, sent_now, team, alice, worse, client, django_capture_on_commit_callbacks
):
    now = timezone.now()
    _due(team, now)
    with django_capture_on_commit_callbacks(execute=True):
        report_schedule.send_readiness_reports(now)
    alices = _unsubscribe_path(smtp.to("alice@example.org")[0])
    ctos = HREF.findall(_parts(smtp.to("cto@example.org")[0])[1])[-1].removeprefix(SITE)

    # Alice's mail client: the RFC 8058 one-click POST, no login, no CSRF token.
    response = client.post(alices, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    # The CTO clicks the link in the body: a page that unsubscribes with one button (submitted by itself).
    page = client.get(ctos)
    assert page.status_code == 200 and b"data-autosubmit" in page.content
    assert client.post(ctos).status_code == 200

    assert not MemberReportPrefs.objects.get(membership__user=alice).digest
    assert set(Unsubscribe.objects.values_list("address", flat=True)) == {"alice@example.org", "cto@example.org"}
    later = now + timedelta(days=1, minutes=1)
    ReportSettings.objects.filter(team=team).update(next_digest_at=later - timedelta(minutes=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert report_schedule.send_readiness_reports(later)["deliveries"] == 0
    assert len(smtp.messages) == 2


def test_it_retries_when_the_mail_server_is_down_then_delivers(down, team, alice, worse, client, monkeypatch):
    monkeypatch.setattr("dashboard.enqueue.enqueue_email", lambda delivery_id, countdown=0: None)
    delivery = reports.request_test_report(team, alice.email)

    with pytest.raises(ConnectionRefusedError):
        email.deliver(delivery.pk, final_attempt=False)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.QUEUED, 1)
    assert delivery.reason == "Attempt 1 failed, retrying: the mail server refused the connection (is it running?)"
    client.force_login(alice)
    assert delivery.reason in client.get(f"/teams/{team.pk}/reports/").content.decode()

    down.start()
    assert email.deliver(delivery.pk, final_attempt=False) == "sent"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.reason) == (DeliveryStatus.SENT, 2, "")
    assert len(down.to("alice@example.org")) == 1


def test_it_retries_a_server_that_answers_try_again_later(smtp, team, alice, worse, monkeypatch):
    monkeypatch.setattr("dashboard.enqueue.enqueue_email", lambda delivery_id, countdown=0: None)
    delivery = reports.request_test_report(team, alice.email)
    smtp.refuse_next = 1

    with pytest.raises(OSError):
        email.deliver(delivery.pk, final_attempt=False)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.QUEUED
    assert "451" in delivery.reason and "Try again later" in delivery.reason

    assert email.deliver(delivery.pk, final_attempt=False) == "sent"
    assert len(smtp.messages) == 1


def test_it_records_the_failure_once_the_task_runs_out_of_retries(down, team, alice, worse, monkeypatch):
    monkeypatch.setattr("dashboard.enqueue.enqueue_email", lambda delivery_id, countdown=0: None)
    delivery = reports.request_test_report(team, alice.email)

    # Applied eagerly, each retry runs at once: the task's own retry policy, without the wait.
    assert deliver_email.apply((delivery.pk,)).get() == "failed"

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert delivery.attempts == deliver_email.max_retries + 1
    assert delivery.reason.startswith(f"Attempt {delivery.attempts}: the mail server refused the connection")
    assert app.amqp.router.route({}, deliver_email.name)["queue"].name == "email"


def test_it_fails_at_once_when_the_server_refuses_the_address_for_good(smtp, team, alice, worse, monkeypatch):
    monkeypatch.setattr("dashboard.enqueue.enqueue_email", lambda delivery_id, countdown=0: None)
    delivery = reports.request_test_report(team, "nobody@example.org")

    async def refuse(server, session, envelope, address, rcpt_options):
        return "550 5.1.1 No such user"

    monkeypatch.setattr(smtp, "handle_RCPT", refuse)
    assert email.deliver(delivery.pk, final_attempt=False) == "failed"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "550" in delivery.reason and "No such user" in delivery.reason


def test_it_sends_a_delivery_once_however_often_it_is_dispatched(smtp, team, alice, worse, monkeypatch):
    monkeypatch.setattr("dashboard.enqueue.enqueue_email", lambda delivery_id, countdown=0: None)
    delivery = reports.request_test_report(team, alice.email)

    outcomes = [email.deliver(delivery.pk) for _ in range(3)]
    assert outcomes == ["sent", "skipped", "skipped"]
    assert deliver_email.apply((delivery.pk,)).get() == "skipped"
    assert len(smtp.messages) == 1
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1
    assert Delivery.objects.filter(kind=DeliveryKind.TEST).count() == 1
