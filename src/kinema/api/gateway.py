"""/kling/v1/videos/image2video: the gateway dialect, and Kling bodies on the same path."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from kinema.api.auth import current_tenant
from kinema.api.body import read_json
from kinema.api.context import create_task, envelope, find_task, services
from kinema.api.kling import create_kling
from kinema.dialects import gateway, kling
from kinema.logs import request_id

router = APIRouter(prefix="/kling", tags=["gateway"])


@router.post("/v1/videos/image2video")
async def create(request: Request, tenant: str = Depends(current_tenant)) -> dict[str, Any]:
    body = await read_json(request)
    if kling.is_kling_body(body):
        return await create_kling(request, body, tenant)
    request.state.dialect = "gateway"
    task = await create_task(request, tenant, "gateway", gateway.parse(body))
    return {"task_id": task.id, "status": "queued"}


@router.get("/v1/videos/image2video/{ident}")
async def query(ident: str, request: Request, tenant: str = Depends(current_tenant)) -> dict[str, Any]:
    task = await find_task(request, tenant, ident)
    svc = services(request)
    # A task is always answered in the dialect it was created in.
    if task.dialect == "gateway":
        request.state.dialect = "gateway"
        return await run_in_threadpool(gateway.task_view, task, svc.sign, svc.storage.get_bytes)
    return envelope(kling.task_object(task, svc.sign), request_id.get())
