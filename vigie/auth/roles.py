"""The roles of the service and what each one is for (README: Security)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # users, tokens, configuration, audit
    ENGINEER = "engineer"  # planning, camera configuration (read)
    AMO = "amo"  # project-management assistance: plans and estimates only
    OPERATOR = "operator"  # the supervision centre: cameras, incidents, live status
    GENDARMERIE = "gendarmerie"  # read-only: status, incidents, positions; never configuration
    COMMUNE = "commune"  # read-only, only the cameras of its own communes
    MONITORING = "monitoring"  # the centre's Prometheus: reads /metrics only (API token)


SCOPED_ROLES = frozenset({Role.COMMUNE})
"""Roles that must have a non-empty scope: with none they see nothing."""

CONFIGURATION_READERS = frozenset({Role.ADMIN, Role.ENGINEER, Role.OPERATOR})
"""Roles that may see how a camera is reached (host, port, user name), never its password."""

STATUS_READERS = (Role.ADMIN, Role.ENGINEER, Role.OPERATOR, Role.GENDARMERIE, Role.COMMUNE)
"""Roles that read supervision (status, incidents, live stream). Engineers do (they commission
cameras and follow the maintenance contract); AMO deals with plans and estimates only."""
