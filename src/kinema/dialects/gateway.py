"""The new-api style gateway dialect (seed 000) on /kling/v1/videos/image2video."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from kinema.dialects.common import UrlSigner, duration_seconds, parse_body, video_link
from kinema.dialects.kling import KlingBody
from kinema.errors import InvalidParameter
from kinema.requests import Draft
from kinema.tasks.models import TaskRecord
from kinema.tasks.status import TaskStatus

STATUS = {
    TaskStatus.SUBMITTED: "queued",
    TaskStatus.PROCESSING: "processing",
    TaskStatus.SUCCEED: "succeeded",
    TaskStatus.FAILED: "failed",
}


def _even(value: int | None) -> int | None:
    if value is not None and value % 2:
        raise ValueError("must be an even number")
    return value


Side = Annotated[int, Field(ge=256, le=1920), AfterValidator(_even)]


class GatewayBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    prompt: str = Field(max_length=2500)
    image: str = Field(min_length=1)
    duration: Annotated[Literal[5, 10], BeforeValidator(duration_seconds)] = 5
    width: Side | None = None
    height: Side | None = None
    fps: Annotated[int, Field(ge=8, le=60)] | None = None
    seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = None
    n: Annotated[int, Field(ge=1, le=4)] = 1
    response_format: Literal["url", "b64_json"] = "url"
    user: str | None = None
    metadata: dict[str, Any] | None = None


def parse(body: Any) -> Draft:
    gw = parse_body(GatewayBody, body)
    if (gw.width is None) != (gw.height is None):
        missing = "height" if gw.height is None else "width"
        raise InvalidParameter(missing, "width and height must be given together")
    # Kling fields inside metadata (negative_prompt, mode, cfg_scale, image_tail,
    # camera_control, ...) are honoured through the Kling schema; other keys are ignored.
    meta = {k: v for k, v in (gw.metadata or {}).items()
            if k in KlingBody.model_fields and k not in _OWN}
    try:
        kling = parse_body(KlingBody, meta).draft()
    except InvalidParameter as exc:
        raise InvalidParameter(f"metadata.{exc.field}", exc.message.split(": ", 1)[-1]) from None
    return Draft(**{
        **{f: getattr(kling, f) for f in kling.__dataclass_fields__},
        "model": gw.model, "image": gw.image, "prompt": gw.prompt, "duration": gw.duration,
        "width": gw.width, "height": gw.height, "fps": gw.fps, "seed": gw.seed, "n": gw.n,
        "extra": {"response_format": gw.response_format, "user": gw.user},
        "names": {"model": "model", "image_tail": "metadata.image_tail",
                  "camera_control": "metadata.camera_control", "mode": "metadata.mode",
                  "negative_prompt": "metadata.negative_prompt"},
    })


# Top-level gateway fields win over their Kling twins inside metadata; the gateway has
# no callback protocol, so a callback_url there is ignored rather than half-honoured.
_OWN = frozenset({"model_name", "model", "image", "prompt", "duration", "callback_url"})


def task_view(task: TaskRecord, sign: UrlSigner,
              read: Callable[[str], bytes] | None = None) -> dict[str, Any]:
    req = task.request
    out = req.get("output", {})
    b64 = req.get("extra", {}).get("response_format") == "b64_json"
    done = task.status is TaskStatus.SUCCEED
    urls = [video_link(sign, v.key, v.url)[0] for v in task.videos] if done else []
    view: dict[str, Any] = {
        "task_id": task.id,
        "status": STATUS[task.status],
        "progress": task.progress_percent,
        "url": urls[0] if urls else "",
        "format": "mp4",
        "metadata": {"duration": req.get("duration"), "fps": out.get("fps"),
                     "width": out.get("width"), "height": out.get("height"),
                     "seed": req.get("seed")},
        "error": ({"code": task.error_code, "message": task.status_msg}
                  if task.status is TaskStatus.FAILED else None),
    }
    if b64 and urls and read is not None and all(v.key for v in task.videos):
        encoded = [base64.b64encode(read(v.key)).decode() for v in task.videos]
        view["b64_json"] = encoded[0]
        if len(encoded) > 1:
            view["videos"] = [{"b64_json": e} for e in encoded]
    elif len(urls) > 1:
        view["videos"] = [{"url": u} for u in urls]
    return view
