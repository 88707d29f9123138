"""E-mail through SMTP: STARTTLS (587), implicit TLS (465) or none (a local relay).

Blocking (``smtplib``): the dispatcher runs it in a thread. The password comes from the
environment (``VIGIE_NOTIFY_SMTP_PASSWORD``), is never stored and is masked in every log.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from vigie.settings import Settings


class ChannelError(Exception):
    """A message could not be handed over; the text says why, without a secret."""


def send_email(settings: Settings, to: str, subject: str, text: str) -> None:
    """Hand one message to the SMTP server; raises ChannelError when it is not accepted."""
    if not settings.notify_smtp_host:
        raise ChannelError("no SMTP server configured (VIGIE_NOTIFY_SMTP_HOST)")
    message = EmailMessage()
    message["From"] = settings.notify_smtp_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="vigie")
    message.set_content(text)
    cafile = settings.notify_smtp_cafile
    host, port = settings.notify_smtp_host, settings.notify_smtp_port
    timeout = settings.notify_timeout_seconds
    try:
        # the server's certificate is always checked (name and chain): the password follows
        context = ssl.create_default_context(cafile=str(cafile) if cafile else None)
        if settings.notify_smtp_security == "tls":
            server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            server = smtplib.SMTP(host, port, timeout=timeout)
        with server:
            if settings.notify_smtp_security == "starttls":
                server.starttls(context=context)
            if settings.notify_smtp_user:
                password = settings.notify_smtp_password
                server.login(
                    settings.notify_smtp_user, password.get_secret_value() if password else ""
                )
            refused = server.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        # the class and the server's answer: neither holds the password
        raise ChannelError(f"SMTP {host}:{port}: {error.__class__.__name__}: {error}") from None
    if refused:
        raise ChannelError(f"SMTP {host}:{port} refused the recipient")
