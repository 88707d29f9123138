"""The route table as the security policy: the routes anyone may call, and the roles each other
route admits. tests/vigie/test_routes.py checks the app against it; the API fuzzer
(tests/vigie/test_api_fuzz.py) calls each operation as a role it admits."""

from __future__ import annotations

from collections.abc import Iterator

import fastapi.routing
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import Route

from vigie.auth.roles import Role

PUBLIC = {
    ("GET", "/healthz"),  # load balancers and container health checks; says ok or not, nothing else
    ("POST", "/api/v1/auth/token"),  # one cannot need a token to get one
    ("GET", "/api/v1/openapi.json"),  # the interface description, no data (see vigie.api)
    ("GET", "/"),  # the dashboard's page shell: no data, every figure comes from the API
    ("GET", "/static/{path:path}"),  # its scripts, styles and vendored libraries
}

ALL = frozenset(Role)
READERS = frozenset({Role.ADMIN, Role.ENGINEER, Role.OPERATOR, Role.GENDARMERIE, Role.COMMUNE})
EDITORS = frozenset({Role.ADMIN, Role.OPERATOR})
ADMIN = frozenset({Role.ADMIN})
# Supervision (README: Supervision data and API): engineers read it, AMO does not.
SUPERVISION_READERS = READERS
REPORT_READERS = frozenset({Role.ADMIN, Role.ENGINEER, Role.OPERATOR, Role.COMMUNE})
OPERATOR = frozenset({Role.OPERATOR})
# Plans are for those who build the network (README: Dashboard).
PLANNERS = frozenset({Role.ADMIN, Role.ENGINEER, Role.AMO})
REGISTER_KEEPERS = frozenset({Role.ADMIN, Role.ENGINEER})
REQUESTERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.GENDARMERIE, Role.COMMUNE})

# The role-by-route matrix: every protected route must be here, with exactly these roles.
MATRIX: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/api/v1/auth/logout"): ALL,
    ("GET", "/api/v1/auth/me"): ALL,
    ("POST", "/api/v1/tokens"): ADMIN,
    ("GET", "/api/v1/tokens"): ADMIN,
    ("DELETE", "/api/v1/tokens/{token_id}"): ADMIN,
    ("GET", "/api/v1/cameras"): READERS,
    ("GET", "/api/v1/cameras/{camera_id}"): READERS,
    ("POST", "/api/v1/cameras"): EDITORS,
    ("PATCH", "/api/v1/cameras/{camera_id}"): EDITORS,
    ("DELETE", "/api/v1/cameras/{camera_id}"): EDITORS,
    # Trusting another TLS certificate for a camera is a security decision (README: Security).
    ("PUT", "/api/v1/cameras/{camera_id}/certificate"): ADMIN,
    # Where a camera stands in the planned network is the engineers' (README: Correlation).
    ("PUT", "/api/v1/cameras/{camera_id}/mast"): frozenset({Role.ADMIN, Role.ENGINEER}),
    ("GET", "/api/v1/status"): SUPERVISION_READERS,
    ("GET", "/api/v1/status/{camera_id}"): SUPERVISION_READERS,
    ("GET", "/api/v1/incidents"): SUPERVISION_READERS,
    ("GET", "/api/v1/incidents/{incident_id}"): SUPERVISION_READERS,
    ("GET", "/api/v1/incidents/{incident_id}/map"): SUPERVISION_READERS,
    ("POST", "/api/v1/incidents/{incident_id}/ack"): OPERATOR,
    # escalation (README: Escalation): recipients' addresses, so admin and the centre only
    ("GET", "/api/v1/incidents/{incident_id}/notifications"): EDITORS,
    ("GET", "/api/v1/notification-rules"): ADMIN,
    ("POST", "/api/v1/notification-rules"): ADMIN,
    ("GET", "/api/v1/notification-rules/{rule_id}"): ADMIN,
    ("PUT", "/api/v1/notification-rules/{rule_id}"): ADMIN,
    ("DELETE", "/api/v1/notification-rules/{rule_id}"): ADMIN,
    ("GET", "/api/v1/availability"): REPORT_READERS,
    ("GET", "/api/v1/maintenance"): EDITORS,
    ("POST", "/api/v1/maintenance"): EDITORS,
    ("DELETE", "/api/v1/maintenance/{window_id}"): EDITORS,
    # Pictures: the two services that watch the public way (vigie.routes.pictures).
    ("POST", "/api/v1/cameras/{camera_id}/snapshot"): frozenset({Role.OPERATOR, Role.GENDARMERIE}),
    ("POST", "/api/v1/cameras/{camera_id}/reference/reset"): EDITORS,
    ("GET", "/metrics"): frozenset({Role.MONITORING, Role.ADMIN}),
    # The supervisor nodes (vigie.routes.nodes): the centre and its monitoring, nobody else.
    ("GET", "/api/v1/supervision/nodes"): frozenset({Role.ADMIN, Role.OPERATOR, Role.MONITORING}),
    ("POST", "/api/v1/webhooks"): ADMIN,
    ("GET", "/api/v1/webhooks"): ADMIN,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): ADMIN,
    ("POST", "/api/v1/webhooks/{webhook_id}/test"): ADMIN,
    ("GET", "/api/v1/communes"): ALL,
    ("GET", "/api/v1/plans"): PLANNERS,
    ("GET", "/api/v1/plans/{name}"): PLANNERS,
    ("GET", "/api/v1/plans/{name}/geojson"): PLANNERS,
    ("GET", "/api/v1/plans/{name}/dqe.xlsx"): PLANNERS,
    # The legal register (README: Legal register): engineers and admins keep it, the watchers
    # read it, and requisitions come from those who may view pictures' whereabouts.
    ("GET", "/api/v1/register/authorisations"): READERS,
    ("GET", "/api/v1/register/authorisations/{authorisation_id}"): READERS,
    ("POST", "/api/v1/register/authorisations"): REGISTER_KEEPERS,
    ("PATCH", "/api/v1/register/authorisations/{authorisation_id}"): REGISTER_KEEPERS,
    ("PUT", "/api/v1/register/authorisations/{authorisation_id}/cameras/{camera_id}"): (
        REGISTER_KEEPERS
    ),
    ("DELETE", "/api/v1/register/authorisations/{authorisation_id}/cameras/{camera_id}"): (
        REGISTER_KEEPERS
    ),
    ("PUT", "/api/v1/register/cameras/{camera_id}/fov"): REGISTER_KEEPERS,
    ("GET", "/api/v1/register/fov.geojson"): READERS,
    ("GET", "/api/v1/register/fov.gpkg"): READERS,
    ("GET", "/api/v1/register/alerts"): READERS,
    ("POST", "/api/v1/register/requisitions"): REQUESTERS,
    ("WS", "/api/v1/live"): SUPERVISION_READERS,
    ("GET", "/api/v1/live/sse"): SUPERVISION_READERS,
}
# Endless streams: a permitted caller is checked on a real server (tests/vigie/routes/test_live.py).
STREAMS = {("GET", "/api/v1/live/sse")}


def routes(app: FastAPI) -> Iterator:
    """Every route the app serves, included routers flattened (FastAPI >= 0.165 nests them)."""
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    yield from iterate(app.routes) if iterate else app.routes


def endpoints(app: FastAPI) -> Iterator[tuple[str, str, object]]:
    """(method, path, route) for each HTTP method of each route; (WS, path, route) for sockets."""
    for route in routes(app):
        original = getattr(route, "original_route", route)
        if isinstance(original, APIWebSocketRoute):
            yield "WS", route.path, route
            continue
        assert isinstance(original, (APIRoute, Route)), f"unknown kind of route {route!r}"
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            yield method, route.path, route
