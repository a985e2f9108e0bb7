"""The blocking client, on httpx.Client."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx

from kinema.client.body import BrushRegion, ImageLike, image2video_body
from kinema.client.core import DEFAULT_BASE_URL, PATH, ClientCore
from kinema.client.errors import KlingError, TaskFailedError, WaitTimeout
from kinema.client.models import Task

ProgressFn = Callable[[Task], None]


class Client(ClientCore):
    """A Kling-compatible API: `Client(url, api_key=...)` or `Client(url, access_key=..., secret_key=...)`."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, **kw: Any) -> None:
        super().__init__(base_url, **kw)
        self.http = httpx.Client(base_url=self.base_url, auth=self.auth, timeout=self.timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        for attempt in range(1, self.retries + 2):
            response = None
            try:
                response = self.http.request(method, path, **kw)
                return self.parse(response)
            except KlingError as exc:
                if not exc.retryable or attempt > self.retries:
                    raise
            except httpx.TransportError as exc:
                if not self.retry_transport(method, exc) or attempt > self.retries:
                    raise self.transport_error(exc, self.base_url) from None
            time.sleep(self.delay(attempt, response))
        raise AssertionError("unreachable")

    def image2video(self, image: ImageLike | None = None, *, prompt: str = "",
                    dynamic_masks: Iterable[BrushRegion] | None = None, **kw: Any) -> Task:
        """Create a task. Images may be paths, bytes, PIL images or URLs; see body.image2video_body."""
        body = image2video_body(image, prompt=prompt, dynamic_masks_=dynamic_masks, **kw)
        return Task.from_json(self._call("POST", PATH, json=body))

    def get(self, task_id: str | None = None, *, external_task_id: str | None = None) -> Task:
        return Task.from_json(self._call("GET", self.task_path(task_id, external_task_id)))

    def list(self, page: int = 1, size: int = 30) -> builtins.list[Task]:
        return self.tasks(self._call("GET", PATH, params={"pageNum": page, "pageSize": size}))

    def wait(self, task_id: str | Task, timeout: float = 600, on_progress: ProgressFn | None = None,
             *, interval: float | None = None) -> Task:
        """Poll until the task ends; on_progress(task) runs whenever status or progress changes.
        Raises TaskFailedError if it failed, WaitTimeout if it is still running at `timeout`."""
        ident = task_id.id if isinstance(task_id, Task) else task_id
        deadline = time.monotonic() + timeout
        seen: tuple[str, int] | None = None
        while True:
            task = self.get(ident)
            if on_progress is not None and (task.status, task.progress) != seen:
                seen = (task.status, task.progress)
                on_progress(task)
            if task.status == "failed":
                raise TaskFailedError(task)
            if task.done:
                return task
            if time.monotonic() >= deadline:
                raise WaitTimeout(task, timeout)
            time.sleep(min(interval or self.poll_interval, max(0.0, deadline - time.monotonic())))

    def download(self, task: str | Task, dest: str | Path, *, index: int = 0,
                 on_bytes: Callable[[int, int], None] | None = None) -> Path:
        """Save the task's video to `dest` (a file, or a folder to name it in); returns the path.
        The video URL is fetched without credentials: it is signed, and may be another host."""
        task = self.get(task) if isinstance(task, str) else task
        url = self.video_url(task, index)
        path = self.destination(dest, task, index)
        tmp = path.with_name(path.name + ".part")
        try:
            with httpx.stream("GET", url, timeout=self.timeout, follow_redirects=True) as r:
                if not r.is_success:
                    r.read()
                    raise self.download_error(r, url)
                total, done = int(r.headers.get("content-length") or 0), 0
                with tmp.open("wb") as fh:
                    for chunk in r.iter_bytes(1 << 16):
                        fh.write(chunk)
                        done += len(chunk)
                        if on_bytes:
                            on_bytes(done, total)
        except httpx.TransportError as exc:
            raise self.transport_error(exc, url) from None
        tmp.replace(path)
        return path
