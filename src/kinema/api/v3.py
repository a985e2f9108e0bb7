"""The async v3 task API: POST /v3/async/<slug>, GET /v3/async/task-result."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from kinema.api.auth import current_tenant
from kinema.api.body import read_json
from kinema.api.context import create_task, find_task, services, task_reply
from kinema.dialects import v3

router = APIRouter(prefix="/v3/async", tags=["v3"])


@router.get("/task-result")
async def task_result(request: Request, task_id: str = Query(..., min_length=1),
                      tenant: str = Depends(current_tenant)) -> dict[str, Any]:
    return await task_reply(request, await find_task(request, tenant, task_id))


@router.post("/{slug}")
async def create(slug: str, request: Request, tenant: str = Depends(current_tenant)) -> dict[str, Any]:
    body = await read_json(request)
    draft = v3.parse(slug, body, services(request).catalogue.names())
    task = await create_task(request, tenant, "v3", draft)
    return {"task_id": task.id}
