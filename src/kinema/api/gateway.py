"""/kling/v1/videos/image2video: the gateway dialect, and Kling bodies on the same path."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from kinema.api.auth import current_tenant
from kinema.api.body import read_json
from kinema.api.context import create_task, find_task, task_reply
from kinema.api.errors import error_body
from kinema.api.kling import create_kling
from kinema.dialects import gateway, kling
from kinema.errors import InvalidRequest, KinemaError

router = APIRouter(prefix="/kling", tags=["gateway"])


def _either(request: Request, exc: KinemaError) -> JSONResponse:
    """An error before the dialect is known (bad JSON, unknown task id): answer in both
    shapes at once, the Kling envelope's code/message plus the gateway's `error` object,
    so a client of either kind reads it."""
    body = {**error_body("gateway", exc), **error_body("kling", exc)}
    return JSONResponse(body, status_code=exc.http_status)


@router.post("/v1/videos/image2video", response_model=None)
async def create(request: Request, tenant: str = Depends(current_tenant)) -> Any:
    try:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise InvalidRequest("the request body must be a JSON object")
    except KinemaError as exc:
        return _either(request, exc)
    if kling.is_kling_body(body):
        return await create_kling(request, body, tenant)
    request.state.dialect = "gateway"
    task = await create_task(request, tenant, "gateway", gateway.parse(body))
    return {"task_id": task.id, "status": "queued"}


@router.get("/v1/videos/image2video/{ident}", response_model=None)
async def query(ident: str, request: Request, tenant: str = Depends(current_tenant)) -> Any:
    try:
        task = await find_task(request, tenant, ident)
    except KinemaError as exc:
        return _either(request, exc)
    return await task_reply(request, task)
