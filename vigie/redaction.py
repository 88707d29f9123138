"""A logging filter that keeps secrets out of the logs, whatever logged them.

Two nets: every secret the process has handled (camera passwords it encrypted or decrypted,
the settings' keys) is replaced by ``***`` wherever it appears, and patterns that look like
credentials (``password=...``, ``Authorization: Bearer ...``, ``user:pass@`` in URLs, API
tokens) are masked even when the value was never seen. Install it on handlers, so records of
every logger pass through it.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"

PATTERNS = [  # each: (what comes before, the secret, what comes after)
    re.compile(
        r"(?i)(\b(?:password|passwd|pwd|secret|secret_key|token|refresh_token|access_token|"
        r"credentials_keys)\"?\s*[=:]\s*\"?)([^\s\"',;&]+)()"
    ),
    re.compile(r"(?i)(\b(?:bearer|basic|digest)\s+)([A-Za-z0-9._~+/=-]{8,})()"),
    re.compile(r"(://[^/\s:@]+:)([^@\s/]+)(@)"),
    re.compile(r"()(vigie_[A-Za-z0-9_-]{20,})()"),
    re.compile(r"()(whsec_[A-Za-z0-9_-]{20,})()"),  # webhook signing secrets
]


class SecretFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with every known secret masked."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, secret: str) -> None:
        if len(secret) >= 4:  # masking "a" or "ab" everywhere would shred the logs
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            known = sorted(self._secrets, key=len, reverse=True)
        for secret in known:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + MASK + m.group(3), text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True


SECRETS = SecretFilter()
"""The process's one filter: what it has learned to mask is shared by every handler."""

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy.engine")


def install(names: tuple[str, ...] = LOGGERS) -> None:
    """Put the filter on every handler of these loggers (the root's included); idempotent."""
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if SECRETS not in handler.filters:
                handler.addFilter(SECRETS)
