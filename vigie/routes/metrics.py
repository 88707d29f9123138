"""``/metrics``: the supervisor's Prometheus series (vigie.supervisor.metrics), behind a token.

The centre's Prometheus scrapes with an API token of the ``monitoring`` role, which may read
nothing else; an administrator may read them too. The series carry counts and timings, never a
camera id, so a scope does not apply.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vigie.auth.guards import require_roles
from vigie.auth.principal import Principal
from vigie.auth.roles import Role

router = APIRouter(tags=["metrics"])

MetricsReader = Annotated[Principal, Depends(require_roles(Role.MONITORING, Role.ADMIN))]


@router.get(
    "/metrics",
    summary="Prometheus metrics of the supervisor",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(_principal: MetricsReader, request: Request) -> Response:
    """Cameras by state, check latency and errors, scheduler lag, writer queue and batches."""
    return Response(
        generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST
    )
