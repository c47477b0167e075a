"""Errors as RFC 9457 ``application/problem+json``, mapped in one place.

Each ``FitroomError`` subclass has a stable ``type`` (``urn:fitroom:problem:<slug>``)
that clients can switch on; request-shape errors from FastAPI become
``urn:fitroom:problem:validation-error`` with one entry per bad field.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from fitroom.errors import FitroomError

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:fitroom:problem:"
log = logging.getLogger("fitroom.api")


def problem(
    status: int, slug: str, title: str, detail: str, instance: str, **extra: Any
) -> JSONResponse:
    body = {
        "type": TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(FitroomError)
    async def _fitroom_error(request: Request, exc: FitroomError) -> JSONResponse:
        if exc.http_status >= 500:
            log.error("server error on %s: %s", request.url.path, exc.message)
        return problem(
            exc.http_status,
            exc.type_slug,
            exc.title,
            exc.message,
            request.url.path,
            **exc.details,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "reason": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "reason": "invalid request"}
        detail = f"{first['field'] or 'request'}: {first['reason']}"
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        return problem(
            422, "validation-error", "Invalid request", detail, request.url.path, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 413: "payload-too-large"}.get(
            exc.status_code, "http-error"
        )
        return problem(exc.status_code, slug, str(exc.detail), str(exc.detail), request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return problem(
            500,
            "internal-error",
            "Internal error",
            "fitroom hit an unexpected error; it has been logged",
            request.url.path,
        )
