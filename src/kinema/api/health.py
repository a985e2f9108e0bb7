"""Liveness, readiness, metrics, and the model list."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from kinema.api.context import services

router = APIRouter(tags=["ops"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    svc = services(request)
    checks: dict[str, str] = {}

    def _check() -> None:
        try:
            with svc.repo.sessions() as s:
                s.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        broker = getattr(request.app.state, "broker_ping", None)
        if broker is not None:
            try:
                broker()
                checks["broker"] = "ok"
            except Exception as exc:
                checks["broker"] = f"error: {type(exc).__name__}"

    await run_in_threadpool(_check)
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if ok else "unavailable", "checks": checks},
                        status_code=200 if ok else 503)


@router.get("/v1/models")
async def models(request: Request) -> dict[str, Any]:
    catalogue = services(request).catalogue
    return {"code": 0, "message": "SUCCEED", "data": [p.as_dict() for p in catalogue.profiles()]}
