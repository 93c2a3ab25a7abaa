"""A real `celery worker` on Redis sends a report to a real SMTP server that is down at first.

Needs Postgres (DATABASE_URL) so the worker process sees the test's rows, and
Redis (REDIS_URL). The worker runs the production settings module, configured
the way an operator would: EMAIL_URL, SITE_URL.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone

from dashboard import reports
from dashboard.models import Delivery, DeliveryStatus, Membership, Project, Role, Team
from tests.dashboard.scandata import FLASK_DEV_SERVER, FLASK_GUNICORN, store_scan
from tests.workers.mailserver import MailServer
from tests.workers.test_worker_sigkill import Worker, _wait
from workers.celery import app
from workers.tasks import deliver_email

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.real_worker]
SITE = "https://preflight.example.org"


def _needs(what: str) -> None:
    message = f"a real worker test needs {what}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def broker():
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        _needs("REDIS_URL")
    if connection.vendor != "postgresql":
        _needs("Postgres (DATABASE_URL)")
    prefix = f"pf-test-{uuid.uuid4().hex[:8]}:"
    yield {"url": redis_url, "prefix": prefix, "queue": f"email-{uuid.uuid4().hex[:8]}"}
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def delivery(monkeypatch):
    team = Team.objects.create(name="Alice's team")
    alice = get_user_model().objects.create_user("alice", "alice@example.org", "password")
    Membership.objects.create(user=alice, team=team, role=Role.OWNER)
    project = Project.objects.create(team=team, name="shop", repo_url="https://github.com/example/shop.git")
    now = timezone.now()
    store_scan(project, FLASK_GUNICORN, when=now - timedelta(days=2))
    store_scan(project, FLASK_DEV_SERVER, sha="b" * 40, when=now - timedelta(hours=1))
    # The test sends the task itself, to the worker's own queue.
    monkeypatch.setattr("dashboard.enqueue.enqueue_email", lambda delivery_id, countdown=0: None)
    return reports.request_test_report(team, alice.email)


def _send(broker: dict, delivery_id: int) -> str:
    """Send the task to the test's worker; its id (a retry keeps the id)."""
    with app.connection_for_write(broker["url"], transport_options={"global_keyprefix": broker["prefix"]}) as conn:
        return deliver_email.apply_async((delivery_id,), queue=broker["queue"], connection=conn).id


def _delivery(pk: int) -> Delivery:
    return Delivery.objects.get(pk=pk)


def test_it_retries_on_a_real_worker_until_the_mail_server_is_up_and_sends_once(broker, delivery, tmp_path, git_cache):
    server = MailServer()
    worker = Worker(
        broker,
        "mail",
        tmp_path / "worker.log",
        git_cache,
        DJANGO_SETTINGS_MODULE="dashboard.settings",
        EMAIL_URL=f"smtp://127.0.0.1:{server.port}",
        SITE_URL=SITE,
        SECRET_KEY=settings.SECRET_KEY,
        PREFLIGHT_EMAIL_RETRY_BACKOFF="1",
    )
    log = worker.log
    try:
        task_id = _send(broker, delivery.pk)
        _wait(lambda: f"{task_id}] retry" in log.read_text(), 60, "the worker to schedule a retry")
        failed = _delivery(delivery.pk)
        assert failed.status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)
        assert "the mail server refused the connection" in failed.reason

        server.start()
        _wait(lambda: _delivery(delivery.pk).status == DeliveryStatus.SENT, 90, "a retry to deliver it")
        assert f"{task_id}] succeeded" in log.read_text()
        # Dispatched again, as a redelivered message or a second beat would: it stands down.
        again = _send(broker, delivery.pk)
        _wait(lambda: f"{again}] succeeded" in log.read_text(), 60, "the duplicate to finish")
        assert "'skipped'" in log.read_text().split(f"{again}] succeeded", 1)[1].splitlines()[0]
    finally:
        worker.stop()
        server.stop()

    sent = _delivery(delivery.pk)
    assert sent.attempts >= 2 and sent.reason == "" and sent.sent_at is not None
    assert len(server.messages) == 1
    message = server.messages[0]
    assert message["To"] == "alice@example.org"
    assert message["Subject"].startswith("[Test] Preflight digest for Alice's team")
    assert message["List-Unsubscribe"].strip().startswith(f"<{SITE}/unsubscribe/")
    assert "PF103" in message.get_body(("plain",)).get_content()
    assert f'href="{SITE}/projects/' in message.get_body(("html",)).get_content()
