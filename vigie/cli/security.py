"""``vigie users|tokens|audit|keys``: the administration commands of access control.

Registered in ``vigie.cli.main``. Every change is recorded in the audit trail as ``cli:<os user>``.
Passwords are read from a hidden prompt or from stdin (``--password-stdin``), never from an
argument, which would show in the process list and the shell history.
"""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from vigie.auth.roles import Role
from vigie.cli.context import actor, database_session, err, out
from vigie.errors import ConfigurationError

users_app = typer.Typer(
    help="User accounts: create, list, disable, set-role.", no_args_is_help=True
)
tokens_app = typer.Typer(help="API tokens for machines.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail: verify, export, purge.", no_args_is_help=True)
keys_app = typer.Typer(help="Secret keys: generate, rotate.", no_args_is_help=True)


CommunesOpt = Annotated[
    list[str] | None, typer.Option("--commune", help="INSEE code in the scope (repeatable).")
]
EpcisOpt = Annotated[
    list[str] | None, typer.Option("--epci", help="SIREN of an EPCI in the scope (repeatable).")
]
UntilOpt = Annotated[
    datetime | None,
    typer.Option("--until", formats=["%Y-%m-%d"], help="Habilitation end date (YYYY-MM-DD)."),
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from stdin (one line).")
]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ConfigurationError("the two passwords differ")
    else:
        raise ConfigurationError("no terminal to prompt for the password: use --password-stdin")
    if not password:
        raise ConfigurationError("empty password")
    return password


def _day(value: datetime | None) -> date | None:
    return value.date() if value is not None else None


# --- users ---------------------------------------------------------------------------------------


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name (a-z 0-9 . _ - @).")],
    role: Annotated[Role, typer.Option(help="What the user may do (README: Security).")],
    commune: CommunesOpt = None,
    epci: EpcisOpt = None,
    until: UntilOpt = None,
    full_name: Annotated[str, typer.Option(help="Name shown in lists.")] = "",
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user; the first admin of a new installation is created this way."""
    from vigie.auth.accounts import create_user

    password = _read_password(password_stdin)
    with database_session() as (session, _):
        user = create_user(
            session,
            username=username,
            password=password,
            role=role,
            communes=commune or (),
            epcis=epci or (),
            habilitation_until=_day(until),
            full_name=full_name,
            actor=actor(),
        )
        err.print(f"user {user.username} created ({user.role})", highlight=False)


@users_app.command("list")
def users_list() -> None:
    """List users with role, scope, habilitation and state."""
    from vigie.auth.accounts import list_users
    from vigie.auth.lockout import locked_addresses
    from vigie.clock import utcnow

    table = Table("user", "role", "scope", "habilitation until", "state", header_style="bold")
    with database_session() as (session, _):
        for user in list_users(session):
            scope = ", ".join([*user.scope_communes, *user.scope_epcis]) or "département"
            locked = locked_addresses(session, user.username, utcnow())
            expired = user.habilitation_until is not None and (
                user.habilitation_until < utcnow().date()
            )
            state = (
                "disabled"
                if user.disabled
                else "habilitation ended"
                if expired
                else f"locked out from {locked} address(es)"
                if locked
                else "active"
            )
            until = user.habilitation_until.isoformat() if user.habilitation_until else "-"
            table.add_row(user.username, user.role, scope, until, state)
    out.print(table)


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: refused at the next request, sessions revoked."""
    from vigie.auth.accounts import set_disabled

    with database_session() as (session, _):
        set_disabled(session, username, True, actor=actor())
    err.print(f"user {username} disabled")


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a user again (also lifts the lockouts, from every address)."""
    from vigie.auth.accounts import set_disabled

    with database_session() as (session, _):
        set_disabled(session, username, False, actor=actor())
    err.print(f"user {username} enabled")


@users_app.command("set-role")
def users_set_role(
    username: str,
    role: Annotated[Role, typer.Argument(help="The new role.")],
    commune: CommunesOpt = None,
    epci: EpcisOpt = None,
    until: UntilOpt = None,
) -> None:
    """Change a user's role (and scope or habilitation); the user's sessions end."""
    from vigie.auth.accounts import set_role

    with database_session() as (session, _):
        set_role(
            session,
            username,
            role,
            communes=commune,
            epcis=epci,
            habilitation_until=_day(until),
            actor=actor(),
        )
    err.print(f"user {username} is now {role}")


@users_app.command("set-password")
def users_set_password(username: str, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password; the user's sessions end."""
    from vigie.auth.accounts import set_password

    password = _read_password(password_stdin)
    with database_session() as (session, _):
        set_password(session, username, password, actor=actor())
    err.print(f"password of {username} changed")


# --- API tokens ----------------------------------------------------------------------------------


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for (e.g. the system using it).")],
    role: Annotated[Role, typer.Option(help="The token's role (not admin).")],
    days: Annotated[int, typer.Option(help="Days before it expires.")] = 90,
    commune: CommunesOpt = None,
    epci: EpcisOpt = None,
) -> None:
    """Create an API token and print it once on stdout; only its hash is stored."""
    from vigie.auth.apitokens import create_api_token

    with database_session() as (session, _):
        row, token = create_api_token(
            session,
            name=name,
            role=role,
            days=days,
            communes=commune or (),
            epcis=epci or (),
            actor=actor(),
            actor_role="system",
        )
        err.print(
            f"token {row.id} ({name}, {role}) expires {row.expires_at:%Y-%m-%d}; "
            "store it now, it is not shown again:"
        )
    sys.stdout.write(token + "\n")


@tokens_app.command("list")
def tokens_list() -> None:
    """List API tokens (never their secrets)."""
    from vigie.auth.apitokens import list_api_tokens

    table = Table("id", "name", "role", "scope", "expires", "state", header_style="bold")
    with database_session() as (session, _):
        for row in list_api_tokens(session):
            scope = ", ".join([*row.scope_communes, *row.scope_epcis]) or "département"
            state = "revoked" if row.revoked_at else "active"
            table.add_row(
                str(row.id), row.name, row.role, scope, f"{row.expires_at:%Y-%m-%d}", state
            )
    out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke an API token: refused from the next request."""
    from vigie.auth.apitokens import TokenError, revoke_api_token

    with database_session() as (session, _):
        if revoke_api_token(session, token_id, actor=actor(), actor_role="system") is None:
            raise TokenError(f"no API token {token_id}")
    err.print(f"token {token_id} revoked")


# --- audit ---------------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the whole hash chain and its head: exit 0 when intact, 1 naming every problem.

    A purge that kept less than VIGIE_AUDIT_RETENTION_DAYS is a problem too."""
    from vigie.audit import verify

    with database_session() as (session, settings):
        result = verify(session, retention_days=settings.audit_retention_days)
    for problem in result.problems:
        sys.stdout.write(f"audit: {problem}\n")
    if result.ok:
        err.print(f"audit trail intact: {result.checked} rows, head {result.head_hash}")
        return
    err.print(f"audit trail BROKEN: {len(result.problems)} problem(s) in {result.checked} rows")
    raise typer.Exit(1)


DateOpt = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"])]


@audit_app.command("export")
def audit_export(
    start: Annotated[
        datetime | None,
        typer.Option("--from", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="UTC, inclusive."),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option("--to", formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"], help="UTC, exclusive."),
    ] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="CSV file (default: stdout).")] = (
        None
    ),
) -> None:
    """Write the audit events of a period as CSV (with their hashes)."""
    from vigie import audit

    start_utc = start.replace(tzinfo=UTC) if start else None
    end_utc = end.replace(tzinfo=UTC) if end else None
    with database_session() as (session, _):
        if out_file is None:
            count = audit.export_csv(session, sys.stdout, start_utc, end_utc)
        else:
            with out_file.open("w", encoding="utf-8", newline="") as stream:
                count = audit.export_csv(session, stream, start_utc, end_utc)
        audit.record(
            session,
            actor=actor(),
            role="system",
            action="audit.export",
            detail={"from": start_utc, "to": end_utc, "rows": count},
        )
    err.print(f"{count} audit events exported")


@audit_app.command("purge")
def audit_purge(
    older_than_days: Annotated[
        int | None,
        typer.Option(
            help="Default and minimum: VIGIE_AUDIT_RETENTION_DAYS (3 years); longer keeps more."
        ),
    ] = None,
) -> None:
    """Delete events past retention; an audit.purge event records what went and anchors the
    chain, which still verifies."""
    from vigie import audit

    with database_session() as (session, settings):
        days = older_than_days or settings.audit_retention_days
        if days < settings.audit_retention_days:
            raise ConfigurationError(
                f"--older-than-days {days}: the audit trail is kept "
                f"{settings.audit_retention_days} days (VIGIE_AUDIT_RETENTION_DAYS)"
            )
        removed = audit.purge(session, retention_days=days, actor=actor(), role="system")
    err.print(f"{removed} audit events older than {days} days purged")


# --- keys ----------------------------------------------------------------------------------------


@keys_app.command("generate")
def keys_generate(
    secret: Annotated[
        bool, typer.Option("--secret", help="A VIGIE_SECRET_KEY instead of a credentials key.")
    ] = False,
) -> None:
    """Print a new random key: a credentials-ring entry ID:BASE64, or a secret key."""
    from vigie.credentials import generate_key
    from vigie.settings import generate_secret_key

    sys.stdout.write((generate_secret_key() if secret else generate_key()) + "\n")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every camera password under the first key of VIGIE_CREDENTIALS_KEYS."""
    from vigie import audit
    from vigie.credentials import KeyRing, rotate
    from vigie.webhooks.subscriptions import rotate_secrets

    with database_session() as (session, settings):
        ring = KeyRing.from_settings(settings)
        rotated, current = rotate(session, ring)
        hooks = rotate_secrets(session, ring)  # webhook signing secrets use the same ring
        audit.record(
            session,
            actor=actor(),
            role="system",
            action="keys.rotate",
            detail={"key": ring.current_id, "rotated": rotated, "webhooks": hooks},
        )
    err.print(f"{hooks} webhook secret(s) re-encrypted under key {ring.current_id}")
    err.print(
        f"{rotated} camera credential(s) re-encrypted under key {ring.current_id} "
        f"({current} already were); older keys may now leave VIGIE_CREDENTIALS_KEYS"
    )


APPS = {"users": users_app, "tokens": tokens_app, "audit": audit_app, "keys": keys_app}
"""What ``vigie.cli`` registers."""
