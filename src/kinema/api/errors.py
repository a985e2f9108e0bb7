"""One place that turns errors into each dialect's error body."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from kinema.errors import InvalidParameter, InvalidRequest, KinemaError, NotFound
from kinema.logs import request_id

log = logging.getLogger("kinema.api")


def dialect_of(request: Request) -> str:
    chosen = getattr(request.state, "dialect", None)
    if chosen:
        return chosen
    return "v3" if request.url.path.startswith("/v3/") else "kling"


def error_body(dialect: str, exc: KinemaError) -> dict[str, Any]:
    if dialect == "v3":
        return {"code": exc.http_status, "reason": exc.reason, "message": exc.message,
                "metadata": {"kling_code": exc.code, **({"field": exc.field} if exc.field else {})}}
    if dialect == "gateway":
        return {"error": {"code": exc.code, "message": exc.message, "type": exc.reason.lower()}}
    return {"code": exc.code, "message": exc.message, "request_id": request_id.get()}


def error_response(request: Request, exc: KinemaError) -> JSONResponse:
    return JSONResponse(error_body(dialect_of(request), exc), status_code=exc.http_status)


def install(app: FastAPI) -> None:
    @app.exception_handler(KinemaError)
    async def _kinema(request: Request, exc: KinemaError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0])
        return error_response(request, InvalidParameter(loc, str(err["msg"]).lower()))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(request, NotFound("no such endpoint"))
        if exc.status_code == 405:
            return error_response(request, InvalidRequest("method not allowed on this endpoint"))
        return error_response(request, InvalidRequest(str(exc.detail)))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.exception("unhandled error", extra={"error_ref": ref})
        return error_response(request, KinemaError(f"internal error (reference {ref})"))
