"""The asyncio client, on httpx.AsyncClient; the same calls as the sync Client, awaited."""

from __future__ import annotations

import asyncio
import builtins
import time
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from kinema.client.body import BrushRegion, ImageLike, image2video_body
from kinema.client.core import DEFAULT_BASE_URL, PATH, ClientCore
from kinema.client.errors import KlingError, TaskFailedError, WaitTimeout
from kinema.client.models import Task

# on_progress may be a plain function or a coroutine function.
AsyncProgressFn = Callable[[Task], Awaitable[None] | None]


class AsyncClient(ClientCore):
    def __init__(self, base_url: str = DEFAULT_BASE_URL, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self.http = httpx.AsyncClient(base_url=self.base_url, auth=self.auth, timeout=self.timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        for attempt in range(1, self.retries + 2):
            response = None
            try:
                response = await self.http.request(method, path, **kw)
                return self.parse(response)
            except KlingError as exc:
                if not exc.retryable or attempt > self.retries:
                    raise
            except httpx.TransportError as exc:
                if not self.retry_transport(method, exc) or attempt > self.retries:
                    raise self.transport_error(exc, self.base_url) from None
            await asyncio.sleep(self.delay(attempt, response))
        raise AssertionError("unreachable")

    async def image2video(self, image: ImageLike | None = None, *, prompt: str = "",
                          dynamic_masks: Iterable[BrushRegion] | None = None, **kw: Any) -> Task:
        body = image2video_body(image, prompt=prompt, dynamic_masks_=dynamic_masks, **kw)
        return Task.from_json(await self._call("POST", PATH, json=body))

    async def get(self, task_id: str | None = None, *, external_task_id: str | None = None) -> Task:
        return Task.from_json(await self._call("GET", self.task_path(task_id, external_task_id)))

    async def list(self, page: int = 1, size: int = 30) -> builtins.list[Task]:
        return self.tasks(await self._call("GET", PATH, params={"pageNum": page, "pageSize": size}))

    async def wait(self, task_id: str | Task, timeout: float = 600,
                   on_progress: AsyncProgressFn | None = None, *, interval: float | None = None) -> Task:
        ident = task_id.id if isinstance(task_id, Task) else task_id
        deadline = time.monotonic() + timeout
        seen: tuple[str, int] | None = None
        while True:
            task = await self.get(ident)
            if on_progress is not None and (task.status, task.progress) != seen:
                seen = (task.status, task.progress)
                result = on_progress(task)
                if asyncio.iscoroutine(result):
                    await result
            if task.status == "failed":
                raise TaskFailedError(task)
            if task.done:
                return task
            if time.monotonic() >= deadline:
                raise WaitTimeout(task, timeout)
            await asyncio.sleep(min(interval or self.poll_interval,
                                    max(0.0, deadline - time.monotonic())))

    async def download(self, task: str | Task, dest: str | Path, *, index: int = 0) -> Path:
        task = await self.get(task) if isinstance(task, str) else task
        url = self.video_url(task, index)
        path = self.destination(dest, task, index)
        tmp = path.with_name(path.name + ".part")
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=True) as plain, \
                    plain.stream("GET", url) as r:
                if not r.is_success:
                    await r.aread()
                    raise self.download_error(r, url)
                with tmp.open("wb") as fh:
                    async for chunk in r.aiter_bytes(1 << 16):
                        fh.write(chunk)
        except httpx.TransportError as exc:
            raise self.transport_error(exc, url) from None
        tmp.replace(path)
        return path
