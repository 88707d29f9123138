"""Who may call what: accounts, principals, roles, guards and scoping, for every router of the app.

- :mod:`.accounts`: user accounts (create, disable, roles, passwords), audited;
- :mod:`.roles`: the roles and the role sets several routers share;
- :mod:`.principal`: who calls (user or API token) and the SQL scope of a commune-bound caller;
- :mod:`.guards`: each request authenticated, each route's roles checked (deny by default);
- :mod:`.scope`: the camera named in a path, if the caller may see it;
- :mod:`.passwords`, :mod:`.tokens`, :mod:`.apitokens`, :mod:`.login`, :mod:`.ratelimit`.

How a router declares its roles::

    from vigie.auth import Principal, Role, apply_scope, require_roles

    Viewer = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.GENDARMERIE))]

    @router.get("/things")
    def things(principal: Viewer, session: SessionDep): ...
        statement = apply_scope(select(Thing), principal, Thing.commune_code)

Or ``app.include_router(router, dependencies=[Depends(require_roles(...))])`` for one role set
on a whole router. A route open to anonymous callers must be wrapped in :func:`public`; the
route-table test (``tests/vigie/test_routes.py``) fails on any other route a stranger can call.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vigie.auth.guards import Reason, current_principal, public, require_roles
    from vigie.auth.principal import Principal, apply_scope, scope_condition
    from vigie.auth.roles import Role

# Loaded on first use, so that `vigie --help` (which needs only Role) does not import FastAPI.
_HOMES = {
    "Reason": "guards",
    "current_principal": "guards",
    "public": "guards",
    "require_roles": "guards",
    "Principal": "principal",
    "apply_scope": "principal",
    "scope_condition": "principal",
    "Role": "roles",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'vigie.auth' has no attribute {name!r}")
    return getattr(importlib.import_module(f"vigie.auth.{_HOMES[name]}"), name)


__all__ = [
    "Principal",
    "Reason",
    "Role",
    "apply_scope",
    "current_principal",
    "public",
    "require_roles",
    "scope_condition",
]
