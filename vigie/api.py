"""The HTTP application: ``create_app(settings)`` composes one router per package.

Today it serves ``/healthz`` only; the supervision and planning routers join it with their
issues. ``/healthz`` is the one unauthenticated route, for load balancers and container health
checks, and it says nothing but whether the service and its database work.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from vigie import __version__, db
from vigie.errors import DatabaseError
from vigie.settings import Settings


def get_engine(request: Request) -> Engine:
    return request.app.state.engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def create_app(settings: Settings) -> FastAPI:
    """Build the application on ``settings``; the engine lives as long as the app."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.engine = db.make_engine(settings.db_url, echo=settings.database_echo)
        try:
            yield
        finally:
            app.state.engine.dispose()

    app = FastAPI(
        title="Vigie",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings

    @app.get("/healthz", tags=["health"], summary="Liveness and database check")
    def healthz(engine: EngineDep) -> JSONResponse:
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            db.require_current_schema(engine)
        except (SQLAlchemyError, DatabaseError):
            # The reason goes to the logs, never to an anonymous caller.
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
