"""Secrets at rest (repository tokens, deploy keys, webhook secrets), encrypted with rotatable keys.

settings.FERNET_KEYS lists passphrases; the first encrypts, every one decrypts,
so a new key goes first and old ones stay until `manage.py rotate_secrets`
re-encrypts everything.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    keys = [Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest())) for key in settings.FERNET_KEYS]
    return MultiFernet(keys)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode() if plaintext else ""


def decrypt(ciphertext: str) -> str:
    if not ciphertext:
        return ""
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        raise ValueError("a stored secret cannot be decrypted with the configured keys") from None


def rotate(ciphertext: str) -> str:
    return _fernet().rotate(ciphertext.encode()).decode() if ciphertext else ""
