"""What the sync and async clients share: endpoints, reply parsing, retry policy."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import httpx

from kinema.client.auth import make_auth
from kinema.client.errors import ConnectionFailed, KlingError, error_from_reply
from kinema.client.models import Task

PATH = "/v1/videos/image2video"
DEFAULT_BASE_URL = "https://api-singapore.klingai.com"


class ClientCore:
    def __init__(self, base_url: str = DEFAULT_BASE_URL, *, api_key: str | None = None,
                 access_key: str | None = None, secret_key: str | None = None,
                 timeout: float = 60.0, retries: int = 3, backoff: float = 1.0,
                 max_delay: float = 30.0, poll_interval: float = 2.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = make_auth(api_key, access_key, secret_key)
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.max_delay = max_delay
        self.poll_interval = poll_interval

    def delay(self, attempt: int, response: httpx.Response | None) -> float:
        """Seconds before retry `attempt` (1-based): Retry-After if given, else jittered backoff."""
        if response is not None:
            try:
                return min(self.max_delay, float(response.headers.get("retry-after", "")))
            except ValueError:
                pass
        return min(self.max_delay, self.backoff * 2 ** (attempt - 1)) * (0.75 + random.random() / 2)

    @staticmethod
    def parse(response: httpx.Response) -> Any:
        """The envelope's `data`, or the typed error the reply carries."""
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_success and isinstance(body, dict) and body.get("code") in (0, None) \
                and "data" in body:
            return body["data"]
        raise error_from_reply(response.status_code, body)

    @staticmethod
    def transport_error(exc: httpx.TransportError, url: str) -> KlingError:
        return ConnectionFailed(f"could not reach {url}: {exc.__class__.__name__}: {exc}")

    @staticmethod
    def retry_transport(method: str, exc: httpx.TransportError) -> bool:
        # A create that may have reached the server is not resent (it could run twice).
        return method == "GET" or isinstance(exc, httpx.ConnectError)

    @staticmethod
    def task_path(task_id: str | None, external_task_id: str | None) -> str:
        if bool(task_id) == bool(external_task_id):
            raise ValueError("give exactly one of task_id and external_task_id")
        # Kling resolves the path value as a task_id or an external_task_id.
        return f"{PATH}/{task_id or external_task_id}"

    @staticmethod
    def tasks(data: Any) -> list[Task]:
        return [Task.from_json(t) for t in data or []]

    @staticmethod
    def video_url(task: Task, index: int) -> str:
        if not task.succeeded:
            raise ValueError(f"task {task.id} has no video yet (status {task.status})")
        if not 0 <= index < len(task.videos):
            raise ValueError(f"task {task.id} has {len(task.videos)} video(s), no index {index}")
        return task.videos[index].url

    @staticmethod
    def destination(dest: str | Path, task: Task, index: int) -> Path:
        path = Path(dest)
        if path.is_dir():
            path = path / f"{task.id}{f'-{index}' if index else ''}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    @staticmethod
    def download_error(response: httpx.Response, url: str) -> KlingError:
        try:
            body = response.json()
        except ValueError:
            body = None
        err = error_from_reply(response.status_code, body)
        err.args = (f"download of {url.split('?')[0]} failed: {err}",)
        return err
