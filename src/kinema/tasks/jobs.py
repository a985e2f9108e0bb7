"""Turning a stored task back into an engine Job (inputs come from storage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kinema.catalogue import Profile
from kinema.job import BrushStroke, CameraMove, Job
from kinema.media.images import to_mask, to_rgb
from kinema.storage import Storage
from kinema.tasks.models import TaskRecord


def input_key(input_dir: str, slot: str) -> str:
    return f"inputs/{input_dir}/{slot}"


def task_input_key(task: TaskRecord, slot: str) -> str:
    """Where a task's input `slot` (image, image_tail, static_mask, mask_N) is stored."""
    return input_key(task.request.get("input_dir", task.id), slot)


def build_job(task: TaskRecord, profile: Profile, storage: Storage, out_dir: Path) -> Job:
    req: dict[str, Any] = task.request
    inputs: dict[str, str] = req.get("inputs", {})

    sources = {slot: storage.get_bytes(task_input_key(task, slot)) for slot in inputs}

    def rgb(slot: str) -> Any:
        return to_rgb(sources[slot]) if slot in inputs else None

    def mask(slot: str) -> Any:
        return to_mask(sources[slot]) if slot in inputs else None

    strokes = tuple(
        BrushStroke(mask=mask(f"mask_{i}"), trajectory=tuple((float(x), float(y)) for x, y in points))
        for i, points in enumerate(req.get("trajectories", []))
    )
    out = req["output"]
    camera = req.get("camera")
    return Job(
        task_id=task.id, model=task.model, engine_options=dict(profile.engine_options),
        image=rgb("image"), image_tail=rgb("image_tail"), prompt=req.get("prompt", ""),
        negative_prompt=req.get("negative_prompt", ""), cfg_scale=req.get("cfg_scale", 0.5),
        mode=req.get("mode", "std"), duration=float(req.get("duration", 5)),
        width=out["width"], height=out["height"], fps=out["fps"], num_frames=out["num_frames"],
        camera=CameraMove(**camera) if camera else None, static_mask=mask("static_mask"),
        dynamic_masks=strokes, seed=int(req.get("seed", 0)), n=int(req.get("n", 1)),
        watermark=bool(req.get("watermark")), out_dir=out_dir,
        sound=req.get("sound", "off"), voices=tuple(req.get("voices", ())), sources=sources,
    )
