"""The async v3 task API: POST /v3/async/<slug>, GET /v3/async/task-result."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from kinema.api.auth import current_tenant
from kinema.api.body import read_json
from kinema.api.context import create_task, envelope, find_task, services
from kinema.dialects import gateway, kling, v3
from kinema.logs import request_id

router = APIRouter(prefix="/v3/async", tags=["v3"])


@router.get("/task-result")
async def task_result(request: Request, task_id: str = Query(..., min_length=1),
                      tenant: str = Depends(current_tenant)) -> dict[str, Any]:
    task = await find_task(request, tenant, task_id)
    svc = services(request)
    # A task is always answered in the dialect it was created in.
    if task.dialect == "kling":
        return envelope(kling.task_object(task, svc.sign), request_id.get())
    if task.dialect == "gateway":
        return await run_in_threadpool(gateway.task_view, task, svc.sign, svc.storage.get_bytes)
    return v3.task_result(task, svc.sign)


@router.post("/{slug}")
async def create(slug: str, request: Request, tenant: str = Depends(current_tenant)) -> dict[str, Any]:
    body = await read_json(request)
    draft = v3.parse(slug, body, services(request).catalogue.names())
    task = await create_task(request, tenant, "v3", draft)
    return {"task_id": task.id}
