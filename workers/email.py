"""Report e-mails: one builder for the template triplet, one line per e-mail, and sending one delivery.

A delivery is claimed by a compare-and-swap on its status (queued -> sending),
so a message Celery hands out twice is sent once. An SMTP error puts it back
to queued with the reason and raises, so the task retries it with backoff; the
last attempt records it failed. A refusal the server calls permanent (5xx) is
failed at once: retrying cannot help.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime

from celery.exceptions import SoftTimeLimitExceeded
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.utils import timezone

from dashboard import reports
from dashboard.models import Delivery, DeliveryKind, DeliveryStatus, ReportKind, ScanAlert

logger = logging.getLogger(__name__)


def build(name: str, to: str, context: dict) -> EmailMultiAlternatives:
    """The message of `emails/<name>-*`: plain text and HTML parts, and the one-click unsubscribe headers."""
    rendered = reports.render_email(name, context)
    headers = {
        "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
        # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" to that URL, no login, no confirmation page.
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # RFC 3834: no out-of-office replies to a robot.
        "Auto-Submitted": "auto-generated",
    }
    message = EmailMultiAlternatives(rendered.subject, rendered.text, to=[to], headers=headers)
    message.attach_alternative(rendered.html, "text/html")
    return message


def digest_message(to: str, context: dict) -> EmailMultiAlternatives:
    return build("digest", to, context)


def test_report_message(to: str, context: dict) -> EmailMultiAlternatives:
    return build("digest", to, {**context, "test": True})


def alert_message(to: str, context: dict) -> EmailMultiAlternatives:
    return build("alert", to, context)


def compose(delivery: Delivery, now: datetime) -> EmailMultiAlternatives | None:
    """The delivery's message as of now; None when nothing is left to send (unsubscribed, projects gone)."""
    team, to = delivery.team, delivery.recipient
    if delivery.kind == DeliveryKind.TEST:
        digest = reports.build_digest(team, None, delivery.since or now, now)
        return test_report_message(to, reports.digest_context(digest, to, test=True))
    if delivery.kind == DeliveryKind.DIGEST:
        if reports.is_unsubscribed(team.pk, to, ReportKind.DIGEST):
            return None
        digest = reports.build_digest(team, delivery.projects, delivery.since or now, now)
        return digest_message(to, reports.digest_context(digest, to)) if digest.projects else None
    if reports.is_unsubscribed(team.pk, to, ReportKind.ALERT):
        return None
    alerts = ScanAlert.objects.filter(deliveries=delivery).select_related("scan__project").defer("scan__report")
    items = [reports.AlertItem(alert.scan.project, alert.scan, alert.summary) for alert in alerts.order_by("pk")]
    return alert_message(to, reports.alert_context(team, items, to)) if items else None


def claim_delivery(delivery_id: int, now: datetime) -> Delivery | str:
    """The delivery, now sending and ours; else why not: "held" (not due yet) or "skipped" (not ours)."""
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED, send_after__lte=now).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, attempted_at=now
    )
    if claimed:
        return Delivery.objects.select_related("team").get(pk=delivery_id)
    held = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).exists()
    # A held alert goes out at its time: sent then by its countdown, or by the report beat.
    return "held" if held else "skipped"


def deliver(delivery_id: int, *, final_attempt: bool = True, now: datetime | None = None) -> str:
    """Send one delivery if this call claims it: "sent", "failed", "skipped" or "held".

    Raises the SMTP error (after recording it) when another attempt should
    follow: the task retries on it.
    """
    now = now or timezone.now()
    delivery = claim_delivery(delivery_id, now)
    if isinstance(delivery, str):
        return delivery
    try:
        message = compose(delivery, now)
    except Exception:
        logger.exception("could not compose e-mail delivery %s", delivery_id)
        return _finish(delivery, DeliveryStatus.FAILED, "The message could not be prepared (internal error).")
    if message is None:
        return _finish(delivery, DeliveryStatus.SKIPPED, "Nothing to send: unsubscribed, or no projects left.")
    try:
        message.send()
    except SoftTimeLimitExceeded:
        return _finish(delivery, DeliveryStatus.FAILED, "Sending took too long and was stopped.")
    except (smtplib.SMTPException, OSError) as error:
        reason = smtp_reason(error)
        if final_attempt or permanent(error):
            return _finish(delivery, DeliveryStatus.FAILED, f"Attempt {delivery.attempts}: {reason}")
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
            status=DeliveryStatus.QUEUED, reason=f"Attempt {delivery.attempts} failed, retrying: {reason}"[:500]
        )
        raise
    return _finish(delivery, DeliveryStatus.SENT, "", subject=message.subject[:300], sent_at=timezone.now())


def _finish(delivery: Delivery, status: str, reason: str, **fields) -> str:
    Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENDING).update(
        status=status, reason=reason[:500], **fields
    )
    if status == DeliveryStatus.FAILED:
        logger.warning("e-mail delivery %s to %s failed: %s", delivery.pk, delivery.recipient, reason)
    return str(status)


def permanent(error: Exception) -> bool:
    """The server refused for good (5xx): the address or the message is wrong, not the moment."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def smtp_reason(error: Exception) -> str:
    """A short reason for the settings page: the server's code and words, or what the connection did."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(error.recipients.values()), (0, b""))
        return f"the server refused the address ({code} {_text(text)})"
    if isinstance(error, smtplib.SMTPResponseException):
        return f"the server answered {error.smtp_code} {_text(error.smtp_error)}"
    if isinstance(error, ConnectionRefusedError):
        return "the mail server refused the connection (is it running?)"
    if isinstance(error, TimeoutError):
        return "the mail server did not answer in time"
    return f"{type(error).__name__}: {error}"


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return " ".join(text.split())[:200]
