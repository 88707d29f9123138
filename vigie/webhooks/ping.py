"""``ping``: one signed request sent now, outside the outbox, so an administrator sees at once
whether the receiver answers and accepts the signature."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from datetime import datetime

import httpx

from vigie.webhooks import signing
from vigie.webhooks.dispatcher import SEND_ERRORS, USER_AGENT, error_outcome, post_outcome
from vigie.webhooks.outbox import Outcome
from vigie.webhooks.targets import Network, TargetError, pin


def ping(
    name: str,
    url: str,
    secret: str,
    *,
    now: datetime,
    timeout: float,
    allowed: Iterable[Network] = (),
) -> Outcome:
    """POST a ``ping`` event (no ``seq``: it is not in the event log) and say what came back;
    only to an address :mod:`vigie.webhooks.targets` allows."""
    payload = {"seq": None, "type": "ping", "at": now.isoformat(), "webhook": name}
    body = signing.body_of(payload)
    headers = signing.headers(
        secret,
        body,
        timestamp=int(time.time()),
        delivery="ping-" + secrets.token_hex(8),
        event_type="ping",
        seq=None,
        user_agent=USER_AGENT,
    )
    try:
        target = pin(url, allowed)
    except TargetError as error:
        return Outcome("failed", None, f"refused: {error}")
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(content=body, **target.request(headers))
    except SEND_ERRORS as error:
        return error_outcome(error)
    return post_outcome(response)
