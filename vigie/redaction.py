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
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: the handler reports it, as usual
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = self._masked(record, redacted)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
        return True

    def _masked(self, record: logging.LogRecord, redacted: str) -> tuple[object, object]:
        """The record's message and arguments with the secrets masked, in the same shape when
        that masks everything: formatters such as uvicorn's access log unpack ``record.args``
        (dropping them made a ``?token=`` in a URL raise in the formatter, issue 16). Otherwise,
        the whole message masked, without arguments."""
        if isinstance(record.args, tuple) and isinstance(record.msg, str):
            args = tuple(self.redact(a) if isinstance(a, str) else a for a in record.args)
            msg = self.redact(record.msg)
            try:
                candidate = msg % args if args else msg
            except (TypeError, ValueError):  # a mask changed a %-directive's meaning
                candidate = None
            if candidate is not None and self.redact(candidate) == candidate:
                return msg, args
        return redacted, None


SECRETS = SecretFilter()
"""The process's one filter: what it has learned to mask is shared by every handler."""

LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy.engine")


def install(names: tuple[str, ...] = LOGGERS) -> None:
    """Put the filter on every handler of these loggers (the root's included); idempotent."""
    for name in names:
        for handler in logging.getLogger(name).handlers:
            if SECRETS not in handler.filters:
                handler.addFilter(SECRETS)
