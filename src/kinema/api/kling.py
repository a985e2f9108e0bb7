"""Kling's endpoints: /v1/videos/image2video (create, query, list)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from kinema.api.auth import current_tenant
from kinema.api.body import read_json
from kinema.api.context import create_task, envelope, find_task, services, task_reply
from kinema.dialects import kling
from kinema.logs import request_id

router = APIRouter(tags=["kling"])


async def create_kling(request: Request, body: Any, tenant: str) -> dict[str, Any]:
    request.state.dialect = "kling"
    task = await create_task(request, tenant, "kling", kling.parse(body))
    data = kling.task_object(task, services(request).sign)
    return envelope({k: data[k] for k in ("task_id", "task_status", "task_info", "created_at",
                                          "updated_at")}, request_id.get())


@router.post("/v1/videos/image2video")
async def create(request: Request, tenant: str = Depends(current_tenant)) -> dict[str, Any]:
    return await create_kling(request, await read_json(request), tenant)


@router.get("/v1/videos/image2video/{ident}")
async def query(ident: str, request: Request, tenant: str = Depends(current_tenant)) -> dict[str, Any]:
    return await task_reply(request, await find_task(request, tenant, ident))


@router.get("/v1/videos/image2video")
async def page(
    request: Request,
    tenant: str = Depends(current_tenant),
    page_num: int = Query(1, alias="pageNum", ge=1, le=1000),
    page_size: int = Query(30, alias="pageSize", ge=1, le=500),
    external_task_id: str | None = Query(None),
) -> dict[str, Any]:
    svc = services(request)
    if external_task_id:
        task = await find_task(request, tenant, external_task_id)
        return envelope(kling.task_object(task, svc.sign), request_id.get())
    tasks = await run_in_threadpool(svc.repo.page, tenant, page_num, page_size)
    return envelope([kling.task_object(t, svc.sign) for t in tasks], request_id.get())
