"""Creating tasks: durable first, then handed to the dispatcher."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from kinema.errors import TooManyTasks
from kinema.requests import VideoRequest
from kinema.storage import Storage
from kinema.tasks.jobs import input_key
from kinema.tasks.models import TaskRecord
from kinema.tasks.repository import DuplicateTaskId, TaskRepository, new_task_id

log = logging.getLogger("kinema.tasks")


class Dispatcher(Protocol):
    def submit(self, task_id: str, queue: str | None = None) -> None: ...


class TaskService:
    def __init__(self, repo: TaskRepository, storage: Storage, dispatcher: Dispatcher, *,
                 max_active: int = 0) -> None:
        self.repo, self.storage, self.dispatcher = repo, storage, dispatcher
        self.max_active = max_active

    def create(self, tenant: str, dialect: str, request: VideoRequest,
               queue: str | None = None) -> TaskRecord:
        if self.max_active and self.repo.count_active(tenant) >= self.max_active:
            raise TooManyTasks(f"at most {self.max_active} tasks may be active at once")
        # Inputs go under a folder of their own, so a task-id collision between two
        # processes (retried below) can never mix up their images.
        input_dir = uuid.uuid4().hex
        for slot, image in request.images.items():
            self.storage.put_bytes(input_key(input_dir, slot), image.data, f"image/{image.format}")
        record = {**request.record(), "input_dir": input_dir}
        for attempt in range(5):
            try:
                task = self.repo.create(
                    task_id=new_task_id(), tenant=tenant, dialect=dialect, model=request.model,
                    engine=request.engine, request=record,
                    external_task_id=request.external_task_id, callback_url=request.callback_url,
                )
                break
            except DuplicateTaskId:
                if attempt == 4:
                    raise
        else:  # pragma: no cover
            raise AssertionError("unreachable")
        log.info("task created", extra={"task_id": task.id, "dialect": dialect, "model": task.model})
        # The task is committed; if this publish is lost the sweeper re-sends it.
        self.dispatcher.submit(task.id, queue)
        return task
