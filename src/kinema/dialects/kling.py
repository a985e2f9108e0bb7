"""Kling's own dialect (seeds 001 and 002): body schema and the task object."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from kinema.dialects.common import UrlSigner, duration_seconds, parse_body, video_link
from kinema.job import CameraMove
from kinema.requests import Draft
from kinema.tasks.models import TaskRecord
from kinema.tasks.status import TaskStatus

Axis = Annotated[float, Field(ge=-10, le=10)]
Duration = Annotated[Literal[5, 10], BeforeValidator(duration_seconds)]

# Fields only a Kling body has: on /kling/v1 they pick this dialect over the gateway's.
KLING_ONLY = frozenset({
    "model_name", "image_tail", "cfg_scale", "mode", "camera_control", "static_mask",
    "dynamic_masks", "callback_url", "external_task_id", "watermark_info", "sound", "voice_list",
})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CameraConfig(_Strict):
    horizontal: Axis = 0
    vertical: Axis = 0
    pan: Axis = 0
    tilt: Axis = 0
    roll: Axis = 0
    zoom: Axis = 0


class CameraControl(_Strict):
    type: Literal["simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward"]
    config: CameraConfig | None = None

    def move(self) -> CameraMove:
        cfg = self.config or CameraConfig()
        return CameraMove(type=self.type, **cfg.model_dump())


class Point(_Strict):
    x: float
    y: float


class DynamicMask(_Strict):
    mask: str
    trajectories: list[Point]


class Voice(_Strict):
    voice_id: str


class WatermarkInfo(_Strict):
    enabled: bool = False


class KlingBody(_Strict):
    model_name: str | None = None
    model: str | None = None
    image: str | None = None
    image_tail: str | None = None
    prompt: str = ""
    negative_prompt: str = ""
    cfg_scale: float | None = Field(None, ge=0, le=1)
    mode: Literal["std", "pro"] = "std"
    static_mask: str | None = None
    dynamic_masks: list[DynamicMask] | None = None
    camera_control: CameraControl | None = None
    duration: Duration = 5
    sound: Literal["on", "off"] = "off"
    voice_list: list[Voice] | None = None
    watermark_info: WatermarkInfo | None = None
    callback_url: str | None = None
    external_task_id: str | None = Field(None, min_length=1, max_length=256)

    def draft(self) -> Draft:
        # The legacy `model` field behaves like model_name (an empty one means kling-v1).
        model = self.model_name or self.model or "kling-v1"
        return Draft(
            model=model, mode=self.mode, duration=self.duration, prompt=self.prompt,
            negative_prompt=self.negative_prompt, cfg_scale=self.cfg_scale,
            image=self.image or None, image_tail=self.image_tail or None,
            static_mask=self.static_mask or None,
            dynamic_masks=tuple((m.mask, tuple((p.x, p.y) for p in m.trajectories))
                                for m in self.dynamic_masks or ()),
            camera=self.camera_control.move() if self.camera_control else None,
            camera_config_given=bool(self.camera_control and self.camera_control.config),
            sound=self.sound, voices=tuple(v.voice_id for v in self.voice_list or ()),
            watermark=bool(self.watermark_info and self.watermark_info.enabled),
            callback_url=self.callback_url or None, external_task_id=self.external_task_id,
            names={"model": "model_name" if self.model_name or not self.model else "model"},
        )


def parse(body: Any) -> Draft:
    return parse_body(KlingBody, body).draft()


def is_kling_body(body: Any) -> bool:
    return isinstance(body, dict) and bool(KLING_ONLY & body.keys())


def task_object(task: TaskRecord, sign: UrlSigner) -> dict[str, Any]:
    watermark = bool(task.request.get("watermark"))
    videos = []
    if task.status is TaskStatus.SUCCEED:
        for video in task.videos:
            item: dict[str, Any] = {"id": video.id, "url": video_link(sign, video.key, video.url)[0],
                                    "duration": f"{video.duration:.1f}"}
            if watermark and (video.watermark_key or video.watermark_url):
                item["watermark_url"] = video_link(sign, video.watermark_key, video.watermark_url)[0]
            videos.append(item)
    return {
        "task_id": task.id,
        "task_status": task.status.value,
        "task_status_msg": task.status_msg,
        # upstream_task_id is kinema's own (router mode); clients ignore unknown keys.
        "task_info": {"external_task_id": task.external_task_id or "",
                      **({"upstream_task_id": task.upstream_task_id} if task.upstream_task_id else {})},
        "watermark_info": {"enabled": watermark},
        "final_unit_deduction": "1" if task.status is TaskStatus.SUCCEED else "0",
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "task_result": {"videos": videos},
        "task_progress": task.progress_percent,  # kinema extra: 0-100, clients ignore unknown keys
    }
