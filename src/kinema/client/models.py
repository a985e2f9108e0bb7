"""What the client hands back: tasks and their videos, read from Kling's task object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TERMINAL = ("succeed", "failed")


@dataclass(frozen=True, kw_only=True)
class Video:
    id: str
    url: str
    duration: float
    watermark_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class Task:
    id: str
    status: str  # submitted | processing | succeed | failed
    status_msg: str = ""
    external_task_id: str | None = None
    upstream_task_id: str | None = None  # kinema's router mode: the id at the upstream
    created_at: int = 0
    updated_at: int = 0
    videos: tuple[Video, ...] = ()
    # 0-100; from kinema's `task_progress` when the server sends it, else from the status.
    progress: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        return self.status == "succeed"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Task:
        status = str(data.get("task_status", ""))
        videos = tuple(
            Video(id=str(v.get("id", "")), url=str(v.get("url", "")),
                  duration=_float(v.get("duration")), watermark_url=v.get("watermark_url") or None)
            for v in ((data.get("task_result") or {}).get("videos") or []))
        progress = data.get("task_progress")
        if status == "succeed":
            progress = 100
        elif not isinstance(progress, int | float):
            progress = 0  # real Kling reports no progress: 0 until it is done
        return cls(
            id=str(data.get("task_id", "")), status=status,
            status_msg=str(data.get("task_status_msg") or ""),
            external_task_id=(data.get("task_info") or {}).get("external_task_id") or None,
            upstream_task_id=(data.get("task_info") or {}).get("upstream_task_id") or None,
            created_at=int(data.get("created_at") or 0), updated_at=int(data.get("updated_at") or 0),
            videos=videos, progress=max(0, min(100, int(progress))), raw=data)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
