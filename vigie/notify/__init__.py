"""Escalation: incidents told by e-mail and SMS to the people on call, until someone acts.

- :mod:`.schedule`: on-call time ranges in Europe/Paris (pure);
- :mod:`.rules`: notification rules (what, where, when, to whom, in which levels), audited;
- :mod:`.message`: the French text of a notification (pure);
- :mod:`.email`, :mod:`.sms`: the two channels (SMTP, a gateway's HTTP API);
- :mod:`.outbox`: which notifications are due (escalation, repeats), attempts and backoff;
- :mod:`.dispatcher`: the asyncio task inside ``vigie serve`` that plans and sends.
"""
