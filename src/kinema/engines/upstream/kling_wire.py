"""The Kling dialect upstream: POST/GET /v1/videos/image2video with every control the user gave.

The upstream task's external_task_id is kinema's own task id: unique per kinema (so tenants of
this router never collide upstream), traceable from the upstream side, and the way a re-run
finds the task it already created instead of paying for it twice.
"""

from __future__ import annotations

from typing import Any

from kinema.engines.upstream.config import Endpoint
from kinema.engines.upstream.state import RemoteFile, Snapshot, fraction, image_b64
from kinema.engines.upstream.transport import Refused, Reply, Transport, code_for_status
from kinema.job import CAMERA_AXES, Job

PATH = "/v1/videos/image2video"
STATUSES = ("submitted", "processing", "succeed", "failed")


def body(job: Job, *, model: str, callback_url: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model_name": model, "mode": job.mode, "duration": str(int(job.duration)),
        "prompt": job.prompt, "external_task_id": job.task_id,
    }
    if job.negative_prompt:
        out["negative_prompt"] = job.negative_prompt
    if job.cfg_scale != 0.5:  # 0.5 is Kling's default, and models without cfg_scale get 0.5
        out["cfg_scale"] = job.cfg_scale
    for slot, pixels in (("image", job.image), ("image_tail", job.image_tail)):
        if (data := image_b64(job, slot, pixels)) is not None:
            out[slot] = data
    if (static := image_b64(job, "static_mask", job.static_mask)) is not None:
        out["static_mask"] = static
    if job.dynamic_masks:
        out["dynamic_masks"] = [
            {"mask": image_b64(job, f"mask_{i}", stroke.mask),
             "trajectories": [{"x": _num(x), "y": _num(y)} for x, y in stroke.trajectory]}
            for i, stroke in enumerate(job.dynamic_masks)
        ]
    if job.camera is not None:
        camera: dict[str, Any] = {"type": job.camera.type}
        if job.camera.type == "simple":
            camera["config"] = {a: _num(getattr(job.camera, a)) for a in CAMERA_AXES}
        out["camera_control"] = camera
    if job.sound == "on":
        out["sound"] = "on"
    if job.voices:
        out["voice_list"] = [{"voice_id": v} for v in job.voices]
    if job.watermark:
        out["watermark_info"] = {"enabled": True}
    if callback_url:
        out["callback_url"] = callback_url
    return out


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)


def data_of(reply: Reply) -> Any:
    """The envelope's `data`, or Refused with the upstream's own code and message."""
    body = reply.body
    if isinstance(body, dict) and isinstance(body.get("code"), int) and body["code"] != 0:
        raise Refused(body["code"], str(body.get("message") or "no message"))
    if reply.status >= 400 or not isinstance(body, dict) or "data" not in body:
        message = body.get("message") if isinstance(body, dict) else None
        raise Refused(code_for_status(reply.status) if reply.status >= 400 else 5000,
                      str(message or f"HTTP {reply.status} without a Kling envelope"))
    return body["data"]


def snapshot(task: Any) -> Snapshot:
    if not isinstance(task, dict) or task.get("task_status") not in STATUSES:
        raise Refused(5000, "the upstream task object has no known task_status")
    videos = []
    for item in (task.get("task_result") or {}).get("videos") or []:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            wm = item.get("watermark_url")
            videos.append(RemoteFile(url=item["url"], watermark_url=wm if isinstance(wm, str) else None,
                                     duration=_float(item.get("duration"))))
    # `task_progress` is not Kling's; a kinema upstream may send it, so mirror it when there.
    return Snapshot(status=task["task_status"], message=str(task.get("task_status_msg") or ""),
                    progress=fraction(task.get("task_progress")), videos=tuple(videos))


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class KlingWire:
    def submit(self, transport: Transport, endpoint: Endpoint, job: Job, *, model: str,
               callback_url: str | None) -> str:
        reply = transport.call(endpoint, "POST", PATH, json=body(job, model=model,
                                                                 callback_url=callback_url))
        data = data_of(reply)
        task_id = data.get("task_id") if isinstance(data, dict) else None
        if not task_id:
            raise Refused(5000, "the upstream accepted the task but sent no task_id")
        return str(task_id)

    def query(self, transport: Transport, endpoint: Endpoint, upstream_id: str) -> Snapshot:
        return snapshot(data_of(transport.call(endpoint, "GET", f"{PATH}/{upstream_id}")))

    def find(self, transport: Transport, endpoint: Endpoint, job: Job) -> str | None:
        try:
            task = data_of(transport.call(endpoint, "GET", f"{PATH}/{job.task_id}"))
        except Refused as exc:
            if exc.code == 1203:
                return None
            raise
        return str(task["task_id"]) if isinstance(task, dict) and task.get("task_id") else None
