"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, parsed."""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """Start it with `start()`; until then its port refuses connections, as a server that is down does.

    `refuse_next`: how many recipients to answer with a temporary 451 (a server that is busy).
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.refuse_next = 0
        self._controller: Controller | None = None
        self._lock = threading.Lock()

    def start(self) -> MailServer:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self._lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message, rcpt in zip(self.messages, self.recipients, strict=True) if address in rcpt]

    def wait_for(self, count: int, timeout: float = 30) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {count} messages; got {len(self.messages)}")
            time.sleep(0.05)
        return self.messages
