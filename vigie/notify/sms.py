"""SMS through a gateway's HTTP API, in a generic form most gateways accept or can be fronted by:
``POST <VIGIE_NOTIFY_SMS_URL>`` with JSON ``{"to": "+336...", "text": "..."}``, authenticated by
``Authorization: Bearer <token>`` or HTTP Basic (``VIGIE_NOTIFY_SMS_USER`` and the token as the
password). Any 2xx is sent; anything else is retried. The token comes from the environment only.
"""

from __future__ import annotations

import httpx

from vigie import __version__
from vigie.notify.email import ChannelError
from vigie.settings import Settings

USER_AGENT = f"Vigie-Notify/{__version__}"


def request_for(settings: Settings, to: str, text: str) -> dict:
    """The keyword arguments of the gateway request (URL, JSON body, headers, auth)."""
    if not settings.notify_sms_url:
        raise ChannelError("no SMS gateway configured (VIGIE_NOTIFY_SMS_URL)")
    token = settings.notify_sms_token.get_secret_value() if settings.notify_sms_token else ""
    headers = {"User-Agent": USER_AGENT}
    arguments: dict = {"url": settings.notify_sms_url, "json": {"to": to, "text": text}}
    if settings.notify_sms_auth == "basic":
        arguments["auth"] = httpx.BasicAuth(settings.notify_sms_user, token)
    elif token:
        headers["Authorization"] = f"Bearer {token}"
    arguments["headers"] = headers
    return arguments


async def send_sms(client: httpx.AsyncClient, settings: Settings, to: str, text: str) -> None:
    """Post one SMS to the gateway; raises ChannelError unless it answers 2xx."""
    arguments = request_for(settings, to, text)
    try:
        response = await client.post(**arguments)
    except httpx.HTTPError as error:
        # the class name, never the request: its headers hold the token
        raise ChannelError(f"SMS gateway: {error.__class__.__name__}") from None
    if not 200 <= response.status_code < 300:
        raise ChannelError(f"SMS gateway answered HTTP {response.status_code}")
