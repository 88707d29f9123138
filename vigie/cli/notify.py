"""``vigie notify test|rules``: try the escalation channels before a night depends on them.

``test`` sends one message through the configured SMTP server or SMS gateway, at once and
outside the outbox, and says in French whether it was handed over (or the channel's error,
never a secret); it is audited (``notification.test``). ``rules`` lists the rules as the API
holds them. Registered in ``vigie.cli.main``.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from vigie.cli.context import actor, database_session, out

notify_app = typer.Typer(
    help="Escalation: send a test message, list the notification rules.", no_args_is_help=True
)

TEST_SUBJECT = "[Vigie] Message d'essai des alertes"
TEST_TEXT = (
    "Bonjour,\n\nCeci est un message d'essai de Vigie : si vous le lisez, les alertes "
    "d'astreinte vous parviendront par ce canal.\n\n-- \nVigie, supervision de la vidéoprotection"
)


@notify_app.command("test")
def test(
    email: Annotated[str | None, typer.Option(help="Send a test e-mail to this address.")] = None,
    phone: Annotated[str | None, typer.Option(help="Send a test SMS to this number.")] = None,
) -> None:
    """Send one test message now through the configured channel; exit 1 if it is not handed
    over."""
    import httpx

    from vigie import audit
    from vigie.notify.email import ChannelError, send_email
    from vigie.notify.rules import Recipient
    from vigie.notify.sms import send_sms

    if (email is None) == (phone is None):
        out.print("Donnez --email ou --phone (un seul).", highlight=False)
        raise typer.Exit(2)
    try:
        recipient = Recipient(email=email, phone=phone)
    except ValueError:
        out.print(f"Adresse ou numéro invalide : {email or phone}", highlight=False)
        raise typer.Exit(2) from None
    with database_session() as (session, settings):
        channel = "email" if email else "sms"
        to = recipient.email or recipient.phone or ""
        error: str | None = None
        try:
            if channel == "email":
                send_email(settings, to, TEST_SUBJECT, TEST_TEXT)
            else:

                async def post() -> None:
                    timeout = settings.notify_timeout_seconds
                    async with httpx.AsyncClient(timeout=timeout) as client:
                        await send_sms(client, settings, to, TEST_TEXT.split("\n\n")[1])

                asyncio.run(post())
        except ChannelError as failure:
            error = str(failure)
        audit.record(
            session,
            actor=actor(),
            role="system",
            ip="",
            action="notification.test",
            object_type="notification",
            object_id=channel,
            detail={"recipient": to, "error": error},
        )
    if error:
        out.print(f"✗ message d'essai non remis ({channel}, {to}) : {error}", highlight=False)
        raise typer.Exit(1)
    out.print(f"✓ message d'essai remis ({channel}, {to})", highlight=False)


@notify_app.command("rules")
def rules() -> None:
    """List the notification rules (levels, recipients, on-call hours)."""
    from vigie.notify.rules import list_rules

    table = Table(
        "id", "règle", "gravités", "communes", "horaires", "niveaux", "actif", header_style="bold"
    )
    with database_session() as (session, _settings):
        for row in list_rules(session):
            levels = "; ".join(
                f"{level['after_minutes']} min : "
                + ", ".join(r.get("email") or r.get("phone") or "" for r in level["recipients"])
                for level in row.levels
            )
            hours = (
                ", ".join(
                    f"{''.join(str(d) for d in t['days'])} {t['start']}-{t['end']}"
                    for t in row.schedule
                )
                or "toujours"
            )
            table.add_row(  # Text: a name from the database is never read as markup
                str(row.id),
                Text(row.name),
                ", ".join(row.severities) or "toutes",
                ", ".join(row.communes) or "toutes",
                hours,
                Text(f"{levels} (rappel toutes les {row.repeat_minutes} min)"),
                "oui" if row.active else "non",
            )
    out.print(table)
