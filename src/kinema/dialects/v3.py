"""The async v3 task API (seeds 003 and 004): one body schema per slug, and the task result."""

from __future__ import annotations

import time
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from kinema.dialects.common import UrlSigner, duration_seconds, parse_body, video_link
from kinema.errors import InvalidParameter
from kinema.requests import Draft
from kinema.tasks.models import TaskRecord
from kinema.tasks.status import TaskStatus

STATUS = {
    TaskStatus.SUBMITTED: "TASK_STATUS_QUEUED",
    TaskStatus.PROCESSING: "TASK_STATUS_PROCESSING",
    TaskStatus.SUCCEED: "TASK_STATUS_SUCCEED",
    TaskStatus.FAILED: "TASK_STATUS_FAILED",
}
MODES = {"Standard": "std", "Professional": "pro"}


def _hundredths(value: float) -> float:
    if abs(round(value * 100) - value * 100) > 1e-6:
        raise ValueError("must be a multiple of 0.01")
    return value


Duration = Annotated[Literal[5, 10], BeforeValidator(duration_seconds)]
Guidance = Annotated[float, Field(ge=0, le=1), AfterValidator(_hundredths)]
Unit = Annotated[float, Field(ge=0, le=1)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Webhook(_Body):
    url: str


class Extra(_Body):
    webhook: Webhook | None = None


class _Common(_Body):
    prompt: str = Field(max_length=2500)
    negative_prompt: str = Field("", max_length=2500)
    duration: Duration = 5
    extra: Extra | None = None

    def common(self) -> dict[str, Any]:
        hook = self.extra.webhook.url if self.extra and self.extra.webhook else None
        return dict(prompt=self.prompt, negative_prompt=self.negative_prompt,
                    duration=self.duration, callback_url=hook)


class V16(_Common):
    image_url: str
    end_image_url: str | None = None
    prompt: str = Field(min_length=1, max_length=2000)
    negative_prompt: str = Field("", max_length=2000)
    mode: Literal["Standard", "Professional"] = "Standard"
    guidance_scale: Unit = 0.5

    def draft(self, model: str) -> Draft:
        return Draft(model=model, image=self.image_url, image_tail=self.end_image_url,
                     mode=MODES[self.mode], cfg_scale=self.guidance_scale, **self.common(),
                     names=_names(image="image_url", image_tail="end_image_url"))


class V21(_Common):
    image: str
    mode: Literal["Standard", "Professional"] = "Standard"
    guidance_scale: Guidance = 0.5

    def draft(self, model: str) -> Draft:
        return Draft(model=model, image=self.image, mode=MODES[self.mode],
                     cfg_scale=self.guidance_scale, **self.common(), names=_names())


class V21Master(_Common):
    image: str
    guidance_scale: Guidance = 0.5

    def draft(self, model: str) -> Draft:
        return Draft(model=model, image=self.image, cfg_scale=self.guidance_scale,
                     **self.common(), names=_names())


class Turbo25(_Common):
    image: str
    cfg_scale: Unit = 0.5
    mode: Literal["pro"] = "pro"

    def draft(self, model: str) -> Draft:
        return Draft(model=model, image=self.image, mode="pro", cfg_scale=self.cfg_scale,
                     **self.common(), names=_names())


class O1(_Common):
    image: str
    last_image: str | None = None
    aspect_ratio: Literal["16:9", "9:16", "1:1"] = "16:9"
    duration: Annotated[Literal[5, 10], BeforeValidator(duration_seconds)] = 5

    def draft(self, model: str) -> Draft:
        if self.last_image is not None and not self.image:
            raise InvalidParameter("last_image", "needs image to be set")
        return Draft(model=model, image=self.image, image_tail=self.last_image,
                     aspect_ratio=self.aspect_ratio, **self.common(),
                     names=_names(image_tail="last_image"))


def _names(**extra: str) -> dict[str, str]:
    return {"model": "slug", "callback_url": "extra.webhook.url", **extra}


SLUGS: dict[str, type[V16 | V21 | V21Master | Turbo25 | O1]] = {
    "kling-v1.6-i2v": V16,
    "kling-v2.1-i2v": V21,
    "kling-v2.1-i2v-master": V21Master,
    "kling-2.5-turbo-i2v": Turbo25,
    "kling-o1-i2v": O1,
}


def parse(slug: str, body: Any, known_models: list[str]) -> Draft:
    schema = SLUGS.get(slug)
    if schema is None:
        if slug in known_models:
            # Any other catalogue name (kinema-motion, one added by the models file)
            # takes the common v2.1 body.
            schema = V21
        else:
            known = ", ".join(sorted(set(SLUGS) | set(known_models)))
            raise InvalidParameter("slug", f"unknown model {slug!r}; known: {known}")
    return parse_body(schema, body).draft(slug)


def _eta(task: TaskRecord) -> int:
    if task.status is not TaskStatus.PROCESSING or not task.started_at or task.progress <= 0.01:
        return 0
    elapsed = time.time() - task.started_at / 1000
    return max(0, int(elapsed * (1 - task.progress) / task.progress))


def task_result(task: TaskRecord, sign: UrlSigner) -> dict[str, Any]:
    videos = []
    if task.status is TaskStatus.SUCCEED:
        for video in task.videos:
            url, ttl = video_link(sign, video.key, video.url)
            videos.append({"video_url": url, "video_url_ttl": str(ttl), "video_type": "mp4"})
    return {
        "extra": {"seed": str(task.request.get("seed", "")),
                  "debug_info": {"submit_time_ms": str(task.created_at),
                                 "complete_time_ms": str(task.finished_at or "")}},
        "task": {
            "task_id": task.id,
            "task_type": task.model.upper().replace("-", "_").replace(".", "_"),
            "status": STATUS[task.status],
            "reason": task.status_msg if task.status is TaskStatus.FAILED else "",
            "eta": _eta(task),
            "progress_percent": task.progress_percent,
        },
        "images": [],
        "videos": videos,
        "audios": [],
    }
