"""The HTTP application: ``create_app(settings)`` joins the routers of ``vigie.routes`` (one per
resource, listed in :data:`ROUTERS`), the problem-details handlers, ``/healthz`` and the
middleware, and runs the background tasks (live feed, supervisor, webhook dispatcher) for as long
as the app lives.

Deny by default: every route declares its roles with ``vigie.auth.require_roles``. Public are
only ``/healthz`` (for load balancers and container health checks; it says nothing but whether the
service and its database work), the OAuth2 token endpoint, and the OpenAPI description: it
describes the interface, holds no data, and is what the centre's integrators generate clients
from; hiding it would protect nothing that authentication does not. The dashboard's page shell and
static files (``vigie.routes.web``) are public too: they hold no data.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from supervision.live import LiveHub
from vigie import __version__, db, problems, redaction
from vigie.admission import AdmissionControl
from vigie.auth.guards import public
from vigie.auth.ratelimit import RateLimiter
from vigie.bodies import BodyGuard
from vigie.credentials import KeyRing
from vigie.errors import DatabaseError
from vigie.live.feed import LiveFeed
from vigie.notify.dispatcher import start_notifier
from vigie.routes import auth as auth_routes
from vigie.routes import availability as availability_routes
from vigie.routes import cameras as camera_routes
from vigie.routes import communes as commune_routes
from vigie.routes import incidents as incident_routes
from vigie.routes import live as live_routes
from vigie.routes import maintenance as maintenance_routes
from vigie.routes import metrics as metrics_routes
from vigie.routes import nodes as node_routes
from vigie.routes import notifications as notification_routes
from vigie.routes import pictures as picture_routes
from vigie.routes import plans as plan_routes
from vigie.routes import register as register_routes
from vigie.routes import status as status_routes
from vigie.routes import tokens as token_routes
from vigie.routes import web as web_routes
from vigie.routes import webhooks as webhook_routes
from vigie.settings import Settings
from vigie.supervisor.metrics import SupervisorMetrics
from vigie.supervisor.runtime import Supervisor, SupervisorConfig
from vigie.webhooks.dispatcher import start_dispatcher

log = logging.getLogger(__name__)


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(get_engine)]


ROUTERS = (
    auth_routes,
    token_routes,
    webhook_routes,
    camera_routes,
    live_routes,
    status_routes,
    incident_routes,
    notification_routes,
    node_routes,
    availability_routes,
    maintenance_routes,
    picture_routes,
    register_routes,
    metrics_routes,
    # the dashboard's (README: Dashboard); the page shell and its static files last
    commune_routes,
    plan_routes,
    web_routes,
)
"""Every router of the API, in the order their paths are matched."""


def create_app(settings: Settings) -> FastAPI:
    """Build the application on ``settings``; the engine lives as long as the app.

    Raises ConfigurationError outside development when the secret key is missing.
    """
    settings.require_service_secrets()
    app = FastAPI(
        title="Vigie",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs" if settings.environment == "development" else None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url="/api/v1/docs/oauth2-redirect",
        lifespan=_lifespan(settings),
    )
    _init_state(app, settings, _signing_key(settings))
    problems.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    app.add_api_route(
        "/healthz",
        healthz,
        methods=["GET"],
        tags=["health"],
        summary="Liveness and database check",
    )
    _add_middleware(app, settings)
    return app


def _lifespan(settings: Settings):
    """The app's lifespan: the database engine, then the background tasks, stopped in reverse."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redaction.install()
        app.state.engine = db.make_engine(settings.db_url, echo=settings.database_echo)
        app.state.sessions = db.session_factory(app.state.engine)
        try:
            async with _background(app, settings):
                yield
        finally:
            app.state.engine.dispose()

    return lifespan


def _init_state(app: FastAPI, settings: Settings, signing_key: str) -> None:
    """What exists before the lifespan starts (the engine and tasks come with it)."""
    app.state.settings = settings
    app.state.supervisor = None
    app.state.metrics = SupervisorMetrics(lambda: getattr(app.state, "sessions", None))
    app.state.signing_key = signing_key
    app.state.login_limiter = RateLimiter(settings.login_rate_per_minute)


@public
def healthz(engine: EngineDep) -> JSONResponse:
    """Whether the service and its database work, and nothing else (it is public)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        db.require_current_schema(engine)
    except (SQLAlchemyError, DatabaseError):
        # The reason goes to the logs, never to an anonymous caller.
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})


def _add_middleware(app: FastAPI, settings: Settings) -> None:
    """From the outside in: the client's address (trusted proxies only), the security headers
    (so that every answer, a refusal included, carries them), the request body read whole
    within its bounds (``vigie.bodies``), admission control, CORS (when configured)."""
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type"],
        )
    # A request waits for its turn before any route or dependency runs (vigie.admission)...
    app.add_middleware(AdmissionControl, limit=settings.max_concurrent_requests)
    # ...and only once its body is here: a slow or huge body never holds a slot.
    app.add_middleware(
        BodyGuard, max_bytes=settings.max_body_bytes, timeout_s=settings.body_timeout_seconds
    )
    app.add_middleware(SecurityHeaders)
    # X-Forwarded-For/-Proto are believed from the listed proxies only (the rightmost address
    # that is not one of them is the client); with none listed, the TCP peer is the client.
    # `vigie serve` turns uvicorn's own handling off, which trusts 127.0.0.1 by default.
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))


class SecurityHeaders:
    """What browsers must not do with our answers: sniff, frame, refer, cache, run foreign code.

    A plain ASGI middleware that adds headers to the response as it starts: the decorator form
    (``BaseHTTPMiddleware``) raised "No response returned" with a traceback in the log each
    time a client left before its answer, which an attacker's slow clients do by the dozen."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"].startswith("/api/v1/docs")
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "no-referrer")
                headers.setdefault("Cache-Control", "no-store")
                if not docs:
                    headers.setdefault(
                        "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
                    )
                if https:
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
            await send(message)

        await self.app(scope, receive, send_with_headers)


@asynccontextmanager
async def _background(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """The service's own tasks, started after the database and stopped in reverse order:
    the live feed (streams events), the supervisor (writes them), the webhook dispatcher
    (sends them), the notifier (escalates incidents by e-mail and SMS)."""
    async with AsyncExitStack() as stack:
        app.state.live_hub = LiveHub(settings.live_queue_size)
        app.state.metrics.live_hub = app.state.live_hub
        app.state.live_feed = LiveFeed(
            app.state.sessions, app.state.live_hub, interval=settings.live_poll_ms / 1000
        )
        await app.state.live_feed.start()
        stack.push_async_callback(app.state.live_feed.stop)
        supervisor = await _start_supervisor(app, settings)
        if supervisor is not None:
            stack.push_async_callback(supervisor.stop)
        app.state.webhooks = await start_dispatcher(app.state.sessions, settings)
        app.state.metrics.webhooks = app.state.webhooks
        app.state.metrics.webhook_unhealthy_after = settings.webhook_unhealthy_after
        if app.state.webhooks is not None:
            stack.push_async_callback(app.state.webhooks.stop)
        app.state.notifier = await start_notifier(app.state.sessions, settings)
        app.state.metrics.notifier = app.state.notifier
        if app.state.notifier is not None:
            stack.push_async_callback(app.state.notifier.stop)
        yield


async def _start_supervisor(app: FastAPI, settings: Settings):
    """The supervisor polling the inventory (setting ``supervise``), or None."""
    if not settings.supervise:
        return None
    keys = KeyRing.from_settings(settings) if settings.credentials_keys is not None else None
    supervisor = Supervisor(
        app.state.sessions,
        keys=keys,
        config=SupervisorConfig.from_settings(settings),
        metrics=app.state.metrics,
    )
    await supervisor.start()
    app.state.supervisor = supervisor
    app.state.metrics.supervisor_snapshot = supervisor.snapshot
    return supervisor


def _signing_key(settings: Settings) -> str:
    """The access tokens' key: the configured one, or in development a random one per process."""
    if settings.secret_key is not None:
        key = settings.secret_key.get_secret_value()
    else:
        key = secrets.token_urlsafe(48)
        log.warning("VIGIE_SECRET_KEY unset (development): tokens die with this process")
    redaction.SECRETS.add(key)
    if settings.credentials_keys is not None:
        for entry in settings.credentials_keys.get_secret_value().split(","):
            redaction.SECRETS.add(entry.strip())
    return key
