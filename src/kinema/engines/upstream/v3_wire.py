"""The async v3 dialect upstream (Novita and its clones, or another kinema):
POST /v3/async/<slug>, GET /v3/async/task-result?task_id=.

v3 bodies differ per slug and carry fewer controls than Kling's. A control the body cannot
carry fails the task with a message that says so, rather than being dropped silently.
"""

from __future__ import annotations

from typing import Any

from kinema.engines.upstream.config import Endpoint
from kinema.engines.upstream.state import RemoteFile, Snapshot, fraction, image_b64
from kinema.engines.upstream.transport import Refused, Reply, Transport, code_for_status
from kinema.errors import TaskFailure
from kinema.job import Job

STATUSES = {"TASK_STATUS_QUEUED": "submitted", "TASK_STATUS_PROCESSING": "processing",
            "TASK_STATUS_SUCCEED": "succeed", "TASK_STATUS_FAILED": "failed",
            "TASK_STATUS_CANCELED": "failed"}
MODES = {"std": "Standard", "pro": "Professional"}
# slug -> (image field, end-frame field or None, how mode is sent, guidance field)
SHAPES: dict[str, tuple[str, str | None, str | None, str]] = {
    "kling-v1.6-i2v": ("image_url", "end_image_url", "words", "guidance_scale"),
    "kling-v2.1-i2v": ("image", None, "words", "guidance_scale"),
    "kling-v2.1-i2v-master": ("image", None, None, "guidance_scale"),
    "kling-2.5-turbo-i2v": ("image", None, None, "cfg_scale"),
    "kling-o1-i2v": ("image", "last_image", None, ""),
}
DEFAULT_SHAPE = SHAPES["kling-v2.1-i2v"]


def body(job: Job, *, slug: str, callback_url: str | None) -> dict[str, Any]:
    image_field, tail_field, mode_style, guidance = SHAPES.get(slug, DEFAULT_SHAPE)
    _refuse_uncarried(job, slug, tail_field)
    out: dict[str, Any] = {"prompt": job.prompt}
    if job.negative_prompt:
        out["negative_prompt"] = job.negative_prompt
    if (image := image_b64(job, "image", job.image)) is not None:
        out[image_field] = image
    if tail_field and (tail := image_b64(job, "image_tail", job.image_tail)) is not None:
        out[tail_field] = tail
    if mode_style == "words":
        out["mode"] = MODES.get(job.mode, "Standard")
    if guidance:
        out[guidance] = round(job.cfg_scale, 2)
    if slug == "kling-o1-i2v":
        out["duration"] = int(job.duration)
        out["aspect_ratio"] = _ratio(job.width, job.height)
    elif slug != "kling-v1.6-i2v":
        out["duration"] = str(int(job.duration))
    if callback_url:
        out["extra"] = {"webhook": {"url": callback_url}}
    return out


def _refuse_uncarried(job: Job, slug: str, tail_field: str | None) -> None:
    missing = [name for name, used in (
        ("camera_control", job.camera is not None),
        ("dynamic_masks/static_mask", bool(job.dynamic_masks) or job.static_mask is not None),
        ("sound", job.sound == "on"), ("voice_list", bool(job.voices)),
        ("watermark_info", job.watermark),
        ("image_tail", job.image_tail is not None and tail_field is None),
        ("image (an end frame alone)", job.image is None),
    ) if used]
    if missing:
        raise TaskFailure(f"the upstream speaks the v3 dialect, whose {slug} body cannot carry "
                          f"{', '.join(missing)}; route this model with dialect = \"kling\"")


def _ratio(width: int, height: int) -> str:
    r = width / height
    return "16:9" if r > 1.2 else "9:16" if r < 0.83 else "1:1"


def _check(reply: Reply) -> Any:
    body = reply.body
    if reply.status >= 400:
        meta = body.get("metadata") if isinstance(body, dict) else None
        kling_code = meta.get("kling_code") if isinstance(meta, dict) else None
        code = kling_code if isinstance(kling_code, int) else code_for_status(reply.status)
        message = body.get("message") or body.get("reason") if isinstance(body, dict) else None
        raise Refused(code, str(message or f"HTTP {reply.status}"))
    if not isinstance(body, dict):
        raise Refused(5000, "the upstream answered without a JSON object")
    return body


def snapshot(result: dict[str, Any]) -> Snapshot:
    task = result.get("task") or {}
    status = STATUSES.get(str(task.get("status"))) if isinstance(task, dict) else None
    if status is None:
        raise Refused(5000, "the upstream task result has no known task.status")
    videos = tuple(
        RemoteFile(url=v["video_url"]) for v in result.get("videos") or []
        if isinstance(v, dict) and isinstance(v.get("video_url"), str)
    )
    return Snapshot(status=status, message=str(task.get("reason") or ""),
                    progress=fraction(task.get("progress_percent"), percent=True), videos=videos)


class V3Wire:
    def submit(self, transport: Transport, endpoint: Endpoint, job: Job, *, model: str,
               callback_url: str | None) -> str:
        payload = body(job, slug=model, callback_url=callback_url)
        data = _check(transport.call(endpoint, "POST", f"/v3/async/{model}", json=payload))
        if not data.get("task_id"):
            raise Refused(5000, "the upstream accepted the task but sent no task_id")
        return str(data["task_id"])

    def query(self, transport: Transport, endpoint: Endpoint, upstream_id: str) -> Snapshot:
        return snapshot(_check(transport.call(endpoint, "GET", "/v3/async/task-result",
                                              params={"task_id": upstream_id})))

    def find(self, transport: Transport, endpoint: Endpoint, job: Job) -> str | None:
        return None  # v3 has no caller-chosen id to look a task up by
