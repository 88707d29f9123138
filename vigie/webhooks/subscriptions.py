"""Subscriptions: who receives which events, where, signed with which secret.

The server generates the secret and returns it once (like API tokens); it is stored encrypted
with the credentials key ring, bound to the subscription's id, because signing needs it back.
Every change goes to the audit trail. A new subscription starts at the current end of the event
log: it receives what happens from now on, not the past.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigie import audit
from vigie.auth.principal import unknown_scope
from vigie.clock import utcnow
from vigie.credentials import KeyRing, key_id_of
from vigie.errors import VigieError
from vigie.models import Commune, EventHead, Webhook, WebhookDelivery
from vigie.redaction import SECRETS
from vigie.webhooks.targets import Network, TargetError, UnresolvedError, pin

EVENT_TYPES = (
    "state_changed",
    "incident_opened",
    "incident_updated",
    "incident_closed",
    "incident_acknowledged",
)
"""The event types a subscription may choose (none chosen: all of them)."""

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


class WebhookError(VigieError):
    """The webhook request is not acceptable: read the message."""


def secret_context(webhook_id: int) -> str:
    """Associated data of the encrypted secret: a ciphertext moved to another row fails."""
    return f"webhook:{webhook_id}"


def check_url(url: str, allowed: Iterable[Network] | None = None) -> str:
    """The URL if a webhook may be sent there; WebhookError saying why not otherwise.

    With ``allowed`` (the networks of ``VIGIE_WEBHOOK_ALLOWED_NETWORKS``), the host is also
    resolved and each of its addresses checked (:mod:`vigie.webhooks.targets`)."""
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in url):
        raise WebhookError(
            "webhook URL: no spaces, line breaks or control characters (they would split the "
            "request); percent-encode them"
        )
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise WebhookError(f"webhook URL {url!r}: only http:// and https:// URLs are accepted")
    if not parts.hostname:
        raise WebhookError(f"webhook URL {url!r}: no host")
    if parts.username is not None or parts.password is not None:
        raise WebhookError(
            "webhook URL: no user:password@ in the URL (it would be stored and logged in clear); "
            "the receiver authenticates requests by their signature"
        )
    if parts.fragment:
        raise WebhookError(f"webhook URL {url!r}: no #fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as err:
        raise WebhookError(f"webhook URL {url!r}: {err}") from err
    if allowed is not None:
        try:
            pin(url, allowed)
        except UnresolvedError:
            pass  # a receiver named before its DNS exists: checked again before every request
        except TargetError as err:
            raise WebhookError(str(err)) from err
    return url


def create_webhook(
    session: Session,
    ring: KeyRing,
    *,
    name: str,
    url: str,
    event_types: Iterable[str] = (),
    communes: Iterable[str] = (),
    epcis: Iterable[str] = (),
    actor: str,
    actor_role: str,
    ip: str = "",
    allowed: Iterable[Network] = (),
) -> tuple[Webhook, str]:
    """Store a new subscription; return it and its secret, which is never shown again."""
    name = name.strip()
    if not name or len(name) > 100:
        raise WebhookError("a webhook needs a name of 1 to 100 characters")
    check_url(url, allowed)
    types = sorted(set(event_types))
    unknown_types = [t for t in types if t not in EVENT_TYPES]
    if unknown_types:
        raise WebhookError(
            f"unknown event types {', '.join(unknown_types)}; known: {', '.join(EVENT_TYPES)}"
        )
    communes, epcis = sorted(set(communes)), sorted(set(epcis))
    unknown = unknown_scope(session, communes, epcis)
    if unknown:
        raise WebhookError(f"unknown communes or EPCIs: {', '.join(unknown)}")
    if session.scalar(select(Webhook.id).where(Webhook.name == name)) is not None:
        raise WebhookError(f"a webhook named {name!r} exists already")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    SECRETS.add(secret)
    head = session.scalar(select(EventHead.last_seq).where(EventHead.id == 1)) or 0
    row = Webhook(
        name=name,
        url=url,
        secret_encrypted="",
        event_types=types,
        scope_communes=communes,
        scope_epcis=epcis,
        active=True,
        created_by=actor,
        created_at=utcnow(),
        cursor=head,
        consecutive_failures=0,
    )
    session.add(row)
    session.flush()
    row.secret_encrypted = ring.encrypt(secret, context=secret_context(row.id))
    session.flush()
    audit.record(
        session,
        actor=actor,
        role=actor_role,
        ip=ip,
        action="webhook.create",
        object_type="webhook",
        object_id=str(row.id),
        detail={
            "name": name,
            "url": url,
            "event_types": types,
            "communes": communes,
            "epcis": epcis,
        },
    )
    return row, secret


def webhook_secret(ring: KeyRing, row: Webhook) -> str:
    return ring.decrypt(row.secret_encrypted, context=secret_context(row.id))


def list_webhooks(session: Session) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def pending_counts(session: Session) -> dict[int, int]:
    """Undelivered outbox rows per subscription id."""
    rows = session.execute(
        select(WebhookDelivery.webhook_id, func.count())
        .where(WebhookDelivery.delivered_at.is_(None))
        .group_by(WebhookDelivery.webhook_id)
    )
    return dict(rows.all())  # type: ignore[arg-type] - (id, count) rows


def remove_webhook(
    session: Session, webhook_id: int, *, actor: str, actor_role: str, ip: str = ""
) -> Webhook | None:
    """Delete a subscription and its outbox; None when there is no such subscription."""
    row = session.get(Webhook, webhook_id)
    if row is None:
        return None
    pending = pending_counts(session).get(webhook_id, 0)
    audit.record(
        session,
        actor=actor,
        role=actor_role,
        ip=ip,
        action="webhook.remove",
        object_type="webhook",
        object_id=str(row.id),
        detail={"name": row.name, "url": row.url, "undelivered": pending},
    )
    session.delete(row)
    session.flush()
    return row


def scope_codes(session: Session, row: Webhook) -> frozenset[str] | None:
    """The INSEE codes a subscription receives events of; None when it is not restricted."""
    if not (row.scope_communes or row.scope_epcis):
        return None
    codes = set(row.scope_communes)
    if row.scope_epcis:
        codes |= set(
            session.scalars(select(Commune.code).where(Commune.epci_siren.in_(row.scope_epcis)))
        )
    return frozenset(codes)


def healthy(row: Webhook, unhealthy_after: int) -> bool:
    """Active and not failing ``unhealthy_after`` times in a row."""
    return row.active and row.consecutive_failures < unhealthy_after


def rotate_secrets(session: Session, ring: KeyRing) -> int:
    """Re-encrypt every webhook secret under the ring's current key (``vigie keys rotate``)."""
    rotated = 0
    for row in session.scalars(select(Webhook)):
        if key_id_of(row.secret_encrypted) == ring.current_id:
            continue
        row.secret_encrypted = ring.encrypt(
            webhook_secret(ring, row), context=secret_context(row.id)
        )
        rotated += 1
    session.flush()
    return rotated
