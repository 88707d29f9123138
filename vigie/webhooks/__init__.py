"""Outbound webhooks: the centre's other systems receive every event by signed HTTP POST.

- :mod:`.signing`: the request format and its HMAC signature (pure; receivers can copy ``verify``);
- :mod:`.retry`: exponential backoff with jitter (pure);
- :mod:`.subscriptions`: create, list and remove subscriptions (secret shown once, audited);
- :mod:`.outbox`: events copied into the outbox with the cursor moved in the same transaction,
  then delivered rows, failures and backoff recorded;
- :mod:`.dispatcher`: the asyncio task that POSTs, in order per subscription, with retries;
- :mod:`.ping`: one signed test request sent at once (``POST /api/v1/webhooks/{id}/test``);
- :mod:`.metrics`: counts for ``/metrics``.
"""
