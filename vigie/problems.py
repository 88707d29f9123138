"""Errors as problem details (RFC 9457, ``application/problem+json``), never a stack trace."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from vigie.errors import VigieError

MEDIA_TYPE = "application/problem+json"

log = logging.getLogger(__name__)


def problem(
    status: int,
    detail: str,
    *,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    body.update(extensions)
    return JSONResponse(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem(exc.status_code, detail, request=request, headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    # The offending input is left out on purpose: it may be a password.
    errors = [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": error.get("msg", "")}
        for error in exc.errors()
    ]
    return problem(422, "the request is not valid", request=request, errors=errors)


async def _vigie_error(request: Request, exc: VigieError) -> JSONResponse:
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return problem(getattr(exc, "http_status", 400), str(exc), request=request)


async def _data_error(request: Request, exc: DataError) -> JSONResponse:
    # The database refused a value the schema let through: a NUL character (PostgreSQL text
    # cannot hold one) or a number out of the column's range. The caller's input, not a fault.
    log.warning(
        "%s %s: value refused by the database: %s",
        request.method,
        request.url.path,
        type(exc.orig).__name__,
    )
    return problem(
        422,
        "a value cannot be stored: text with a NUL character or a number out of range",
        request=request,
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("%s %s failed", request.method, request.url.path)
    return problem(500, "internal error; the administrators have the details", request=request)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` lists the invalid fields of a 422.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                },
            },
        },
    },
}

# What any operation may answer besides its success, as problem documents. Protected routes:
# no valid token, wrong role, something outside the caller's scope or missing (the same answer,
# on purpose), a request the data refuses (VigieError) or that conflicts with the current state.
_ERRORS = {
    400: "The request cannot be carried out as given (the detail says why).",
    401: "No valid token: log in again.",
    403: "The caller's role may not do this.",
    404: "No such object within the caller's scope.",
    409: "The object's current state forbids it (e.g. already acknowledged).",
    422: "The request is not valid: `errors` lists the fields.",
    429: "Too many attempts: wait and retry.",
}
_PUBLIC_ERRORS = {400, 401, 422, 429}
_PROTECTED_ERRORS = {400, 401, 403, 404, 409, 422}


def describe(app: FastAPI) -> None:
    """Document the problem responses of every operation in the OpenAPI description.

    FastAPI describes only a 422 shaped as its own default; the service answers every error as a
    problem document, and clients generated from the description must know it.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                PROBLEM_SCHEMA
            )
            problem_content = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            for item in schema["paths"].values():
                for operation in item.values():
                    responses = operation.setdefault("responses", {})
                    if "security" in operation:
                        codes = _PROTECTED_ERRORS
                    elif any(str(code) in responses for code in _PUBLIC_ERRORS):
                        codes = {code for code in _PUBLIC_ERRORS if str(code) in responses}
                    else:
                        continue
                    for code in sorted(codes):
                        responses[str(code)] = {
                            "description": responses.get(str(code), {}).get("description")
                            or _ERRORS[code],
                            "content": problem_content,
                        }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    describe(app)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(VigieError, _vigie_error)  # type: ignore[arg-type]
    app.add_exception_handler(DataError, _data_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)
