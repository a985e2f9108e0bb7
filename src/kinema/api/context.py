"""What routes share: the services on app.state, and one create path for every dialect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from kinema.catalogue import Catalogue
from kinema.engines.registry import EngineSet
from kinema.logs import request_id
from kinema.media.images import ImageLimits
from kinema.requests import Draft, validate
from kinema.settings import Settings
from kinema.storage import Storage, url_signer
from kinema.tasks.models import TaskRecord
from kinema.tasks.repository import TaskRepository
from kinema.tasks.service import TaskService


@dataclass(frozen=True, kw_only=True)
class Services:
    settings: Settings
    catalogue: Catalogue
    repo: TaskRepository
    storage: Storage
    tasks: TaskService
    limits: ImageLimits
    engines: EngineSet

    def sign(self, key: str) -> tuple[str, int]:
        return url_signer(self.storage, self.settings.url_ttl)(key)


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


async def create_task(request: Request, tenant: str, dialect: str, draft: Draft) -> TaskRecord:
    svc = services(request)

    def _create() -> TaskRecord:
        # Validation may fetch URLs and decode images: keep it off the event loop.
        video_request = validate(draft, svc.catalogue, svc.limits)
        profile = svc.catalogue.get(video_request.model)
        svc.engines.check(profile, has_image_tail="image_tail" in video_request.images)
        return svc.tasks.create(tenant, dialect, video_request, profile.queue)

    return await run_in_threadpool(_create)


async def find_task(request: Request, tenant: str, ident: str) -> TaskRecord:
    return await run_in_threadpool(services(request).repo.find, tenant, ident)


def envelope(data: Any, request_id: str) -> dict[str, Any]:
    return {"code": 0, "message": "SUCCEED", "request_id": request_id, "data": data}


async def task_reply(request: Request, task: TaskRecord) -> dict[str, Any]:
    """A task in the dialect it was created in, whichever query path asked."""
    from kinema.dialects import gateway, kling, v3

    svc = services(request)
    request.state.dialect = task.dialect
    if task.dialect == "gateway":
        return await run_in_threadpool(gateway.task_view, task, svc.sign, svc.storage.get_bytes)
    if task.dialect == "v3":
        return v3.task_result(task, svc.sign)
    return envelope(kling.task_object(task, svc.sign), request_id.get())
