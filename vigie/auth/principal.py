"""Who is calling: a user or an API token, with a role and a scope, and the scope as SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

from sqlalchemy import ColumnElement, Select, false, or_, select
from sqlalchemy.orm import Session

from vigie.auth.roles import SCOPED_ROLES, Role
from vigie.clock import utcnow
from vigie.models import Commune, Epci, User

S = TypeVar("S", bound=Select)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of a request; ``communes``/``epcis`` empty means no restriction
    (except for scoped roles, which then see nothing)."""

    kind: Literal["user", "token"]
    id: int
    name: str
    role: Role
    communes: frozenset[str] = frozenset()
    epcis: frozenset[str] = frozenset()
    ip: str = ""

    @property
    def restricted(self) -> bool:
        return self.role in SCOPED_ROLES or bool(self.communes or self.epcis)

    @property
    def actor(self) -> str:
        """How the audit trail names the caller."""
        return self.name if self.kind == "user" else f"token:{self.name}"


def user_refusal(user: User) -> str | None:
    """Why this user may not use the service now, or None."""
    if user.disabled:
        return "account disabled"
    if user.habilitation_until is not None and user.habilitation_until < utcnow().date():
        return f"habilitation ended on {user.habilitation_until.isoformat()}"
    return None


def user_principal(user: User, ip: str) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=Role(user.role),
        communes=frozenset(user.scope_communes or ()),
        epcis=frozenset(user.scope_epcis or ()),
        ip=ip,
    )


def scope_condition(principal: Principal, commune_code: ColumnElement[str]) -> ColumnElement[bool]:
    """A SQL condition true for rows whose commune is inside the principal's scope."""
    conditions: list[ColumnElement[bool]] = []
    if principal.communes:
        conditions.append(commune_code.in_(sorted(principal.communes)))
    if principal.epcis:
        in_epcis = select(Commune.code).where(Commune.epci_siren.in_(sorted(principal.epcis)))
        conditions.append(commune_code.in_(in_epcis))
    return or_(*conditions) if conditions else false()


def apply_scope(statement: S, principal: Principal, commune_code: ColumnElement[str]) -> S:
    """Restrict ``statement`` to the principal's communes: scoping happens in the database.

    ``commune_code`` is the column holding the row's INSEE code (e.g. ``Camera.commune_code``).
    """
    if not principal.restricted:
        return statement
    return statement.where(scope_condition(principal, commune_code))


def unknown_scope(session: Session, communes: list[str], epcis: list[str]) -> list[str]:
    """The INSEE codes and SIRENs of a scope that the referential does not know."""
    known = set(session.scalars(select(Commune.code).where(Commune.code.in_(communes))))
    known |= set(session.scalars(select(Epci.siren).where(Epci.siren.in_(epcis))))
    return [code for code in [*communes, *epcis] if code not in known]
