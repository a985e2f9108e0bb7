"""Building an image2video body: images of any kind become base64, controls become Kling's shapes."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")
CAMERA_PRESETS = ("down_back", "forward_up", "right_turn_forward", "left_turn_forward")

# A file path, raw bytes, a PIL image, an http(s) URL, or a data: URI / base64 string.
ImageLike = str | os.PathLike[str] | bytes | bytearray | Any
Point = tuple[float, float] | Mapping[str, float]
# A motion-brush region: {"mask": ImageLike, "trajectories": [points]} or (mask, points).
BrushRegion = Mapping[str, Any] | tuple[ImageLike, Sequence[Point]]


def image_field(value: ImageLike, name: str = "image") -> str:
    """URLs pass through; everything else is sent as base64 (no data: prefix, as Kling wants)."""
    if hasattr(value, "save") and hasattr(value, "mode"):  # a PIL image
        buf = io.BytesIO()
        value.save(buf, "PNG")
        return base64.b64encode(buf.getvalue()).decode()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, os.PathLike):
        return base64.b64encode(Path(value).read_bytes()).decode()
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            return value
        if value.startswith("data:"):
            return value.split(",", 1)[1]
        path = Path(value)
        if len(value) < 4096 and path.is_file():
            return base64.b64encode(path.read_bytes()).decode()
        if len(value) < 4096:
            raise FileNotFoundError(f"{name}: no such file: {value}")
        return value  # already base64
    raise TypeError(f"{name}: expected a path, bytes, a PIL image or a URL, not {type(value).__name__}")


def camera_control(camera: str | Mapping[str, Any]) -> dict[str, Any]:
    """'forward_up' -> a preset; {'zoom': 5} -> a simple move; a full camera_control passes through."""
    if isinstance(camera, str):
        if camera not in CAMERA_PRESETS:
            raise ValueError(f"camera preset must be one of {', '.join(CAMERA_PRESETS)}, not {camera!r}")
        return {"type": camera}
    if "type" in camera:
        return dict(camera)
    unknown = set(camera) - set(CAMERA_AXES)
    if unknown:
        raise ValueError(f"unknown camera axes {sorted(unknown)}; use {', '.join(CAMERA_AXES)}")
    return {"type": "simple", "config": {a: float(camera.get(a, 0)) for a in CAMERA_AXES}}


def _point(p: Point) -> dict[str, float]:
    if isinstance(p, Mapping):
        return {"x": p["x"], "y": p["y"]}
    x, y = p
    return {"x": x, "y": y}


def dynamic_masks(regions: Iterable[BrushRegion]) -> list[dict[str, Any]]:
    out = []
    for i, region in enumerate(regions):
        mask, points = ((region["mask"], region["trajectories"]) if isinstance(region, Mapping)
                        else region)
        out.append({"mask": image_field(mask, f"dynamic_masks[{i}].mask"),
                    "trajectories": [_point(p) for p in points]})
    return out


def image2video_body(
    image: ImageLike | None = None, *, prompt: str = "", negative_prompt: str = "",
    model: str = "kling-v1", mode: str = "std", duration: int = 5,
    image_tail: ImageLike | None = None, cfg_scale: float | None = None,
    camera: str | Mapping[str, Any] | None = None, static_mask: ImageLike | None = None,
    dynamic_masks_: Iterable[BrushRegion] | None = None, callback_url: str | None = None,
    external_task_id: str | None = None, watermark: bool | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"model_name": model, "mode": mode, "duration": str(duration),
                            "prompt": prompt}
    if negative_prompt:
        body["negative_prompt"] = negative_prompt
    if image is not None:
        body["image"] = image_field(image, "image")
    if image_tail is not None:
        body["image_tail"] = image_field(image_tail, "image_tail")
    if cfg_scale is not None:
        body["cfg_scale"] = cfg_scale
    if camera is not None:
        body["camera_control"] = camera_control(camera)
    if static_mask is not None:
        body["static_mask"] = image_field(static_mask, "static_mask")
    if dynamic_masks_:
        body["dynamic_masks"] = dynamic_masks(dynamic_masks_)
    if callback_url:
        body["callback_url"] = callback_url
    if external_task_id:
        body["external_task_id"] = external_task_id
    if watermark is not None:
        body["watermark_info"] = {"enabled": watermark}
    body.update(extra or {})
    return body
