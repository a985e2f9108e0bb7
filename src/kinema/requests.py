"""The one internal request, and the rules every dialect shares.

A dialect parses its wire body into a `Draft` (types only), and `validate` turns the draft
into an immutable `VideoRequest` or raises InvalidParameter naming the field and the rule.
Cheap checks come first; images (which may need a fetch) are decoded last.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from kinema.catalogue import Catalogue, Profile
from kinema.errors import InvalidParameter
from kinema.job import CameraMove
from kinema.media.fetch import UnsafeURL, check_url
from kinema.media.images import ImageInput, ImageLimits, load_image

ASPECT_RATIOS = {"16:9": (16, 9), "9:16": (9, 16), "1:1": (1, 1)}
RATIO_TOLERANCE = 0.02


@dataclass(frozen=True, kw_only=True)
class Draft:
    """A request after type parsing, before any rule that needs the catalogue or pixels."""

    model: str
    mode: str = "std"
    duration: int = 5
    prompt: str = ""
    negative_prompt: str = ""
    cfg_scale: float | None = None
    image: str | None = None
    image_tail: str | None = None
    static_mask: str | None = None
    dynamic_masks: tuple[tuple[str, tuple[tuple[float, float], ...]], ...] = ()
    camera: CameraMove | None = None
    camera_config_given: bool = False
    sound: str = "off"
    voices: tuple[str, ...] = ()
    watermark: bool = False
    callback_url: str | None = None
    external_task_id: str | None = None
    width: int | None = None
    height: int | None = None
    fps: int | None = None
    aspect_ratio: str | None = None
    seed: int | None = None
    n: int = 1
    extra: dict[str, Any] = field(default_factory=dict)  # dialect data kept for replies
    # wire field names, so that errors name what the client actually sent
    names: dict[str, str] = field(default_factory=dict)

    def name(self, internal: str) -> str:
        return self.names.get(internal, internal)


@dataclass(frozen=True, kw_only=True)
class Output:
    width: int
    height: int
    fps: int
    num_frames: int


@dataclass(frozen=True, kw_only=True)
class VideoRequest:
    model: str
    engine: str
    mode: str
    duration: int
    prompt: str
    negative_prompt: str
    cfg_scale: float
    camera: CameraMove | None
    trajectories: tuple[tuple[tuple[float, float], ...], ...]
    sound: str
    voices: tuple[str, ...]
    watermark: bool
    callback_url: str | None
    external_task_id: str | None
    seed: int
    n: int
    output: Output
    extra: dict[str, Any]
    # decoded, checked inputs by slot: image, image_tail, static_mask, mask_0..mask_5
    images: dict[str, ImageInput]

    def record(self) -> dict[str, Any]:
        """JSON-able form for storage; image bytes are stored separately by slot."""
        data = asdict(replace(self, images={}))
        data.pop("images")
        data["inputs"] = {slot: img.format for slot, img in self.images.items()}
        return data


def validate(draft: Draft, catalogue: Catalogue, limits: ImageLimits) -> VideoRequest:
    profile = catalogue.get(draft.model, field_name=draft.name("model"))
    mode = _check_mode(draft, profile)
    _check_text(draft)
    if draft.image is None and draft.image_tail is None:
        raise InvalidParameter(draft.name("image"), f"at least one of {draft.name('image')} and "
                               f"{draft.name('image_tail')} is required")
    used = _controls_used(draft)
    _check_exclusive(draft, used)
    _check_camera(draft, profile)
    _check_masks_shape(draft)
    _check_sound(draft)
    _check_capabilities(draft, profile, mode, used)
    callback = _check_callback(draft, limits)
    images = _load_images(draft, limits)
    output = _output(draft, profile, mode, images)
    cfg = draft.cfg_scale if (profile.cfg_scale and draft.cfg_scale is not None) else 0.5
    return VideoRequest(
        model=profile.name, engine=profile.engine, mode=mode, duration=draft.duration,
        prompt=draft.prompt, negative_prompt=draft.negative_prompt, cfg_scale=cfg,
        camera=draft.camera, trajectories=tuple(t for _, t in draft.dynamic_masks),
        sound=draft.sound, voices=draft.voices, watermark=draft.watermark,
        callback_url=callback, external_task_id=draft.external_task_id,
        seed=draft.seed if draft.seed is not None else secrets.randbelow(2**31),
        n=draft.n, output=output, extra=draft.extra, images=images,
    )


def _check_mode(draft: Draft, profile: Profile) -> str:
    if profile.fixed_mode:
        return profile.modes[0]
    if draft.mode not in profile.modes:
        raise InvalidParameter(draft.name("mode"), f"model {profile.name} supports modes "
                               f"{', '.join(profile.modes)}, not {draft.mode!r}")
    return draft.mode


def _check_text(draft: Draft) -> None:
    for key in ("prompt", "negative_prompt"):
        if len(getattr(draft, key)) > 2500:
            raise InvalidParameter(draft.name(key), "must be at most 2500 characters")
    if draft.duration not in (5, 10):
        raise InvalidParameter(draft.name("duration"), "must be 5 or 10")


def _controls_used(draft: Draft) -> set[str]:
    used = set()
    if draft.image_tail is not None:
        used.add("end_frame" if draft.image is not None else "end_frame_only")
    if draft.static_mask is not None or draft.dynamic_masks:
        used.add("motion_brush")
    if draft.camera is not None:
        used.add("camera")
    if draft.sound == "on":
        used.add("sound")
    if draft.voices:
        used.add("voice")
    return used


def _check_exclusive(draft: Draft, used: set[str]) -> None:
    groups = [g for g in ("end_frame", "motion_brush", "camera")
              if g in used or (g == "end_frame" and "end_frame_only" in used)]
    if len(groups) > 1:
        brush = "dynamic_masks" if draft.dynamic_masks else "static_mask"
        wire = {"end_frame": draft.name("image_tail"), "motion_brush": brush,
                "camera": draft.name("camera_control")}
        raise InvalidParameter(
            wire[groups[-1]],
            f"{' and '.join(wire[g] for g in groups)} are mutually exclusive: "
            "image + image_tail, the masks, and camera_control cannot be combined")


def _check_camera(draft: Draft, profile: Profile) -> None:
    cam = draft.camera
    if cam is None:
        return
    field_name = draft.name("camera_control")
    if cam.type not in profile.camera_types:
        raise InvalidParameter(f"{field_name}.type", f"model {profile.name} supports camera types "
                               f"{', '.join(profile.camera_types)}, not {cam.type!r}")
    values = [getattr(cam, a) for a in ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")]
    if cam.type == "simple":
        if not draft.camera_config_given:
            raise InvalidParameter(f"{field_name}.config", "is required when type is 'simple'")
        if sum(1 for v in values if v) != 1:
            raise InvalidParameter(f"{field_name}.config", "must have exactly one non-zero value "
                                   "among horizontal, vertical, pan, tilt, roll and zoom")
    elif any(values):
        raise InvalidParameter(f"{field_name}.config", f"is only used with type 'simple', "
                               f"not with {cam.type!r}; leave it empty")


def _check_masks_shape(draft: Draft) -> None:
    if len(draft.dynamic_masks) > 6:
        raise InvalidParameter("dynamic_masks", "at most 6 masks are allowed")
    for i, (_, points) in enumerate(draft.dynamic_masks):
        if not 2 <= len(points) <= 77:
            raise InvalidParameter(f"dynamic_masks[{i}].trajectories",
                                   f"must have 2 to 77 points, got {len(points)}")


def _check_sound(draft: Draft) -> None:
    if draft.sound not in ("on", "off"):
        raise InvalidParameter("sound", "must be 'on' or 'off'")
    if len(draft.voices) > 2:
        raise InvalidParameter("voice_list", "at most 2 voices are allowed")
    if draft.voices and draft.sound != "on":
        raise InvalidParameter("voice_list", "needs sound to be 'on'")


def _check_capabilities(draft: Draft, profile: Profile, mode: str, used: set[str]) -> None:
    wire = {"end_frame": draft.name("image_tail"), "end_frame_only": draft.name("image_tail"),
            "motion_brush": "dynamic_masks" if draft.dynamic_masks else "static_mask",
            "camera": draft.name("camera_control"),
            "sound": "sound", "voice": "voice_list"}
    labels = {"end_frame": "an end frame", "end_frame_only": "an end frame without a start image",
              "motion_brush": "the motion brush", "camera": "camera control",
              "sound": "sound", "voice": "voices"}
    for control in sorted(used):
        if not profile.allows(control, mode, draft.duration):
            raise InvalidParameter(wire[control], f"model {profile.name} in mode {mode} at "
                                   f"{draft.duration} s does not support {labels[control]}")
        if "sound" in used and control in profile.silent_only:
            raise InvalidParameter(wire[control], f"model {profile.name} supports "
                                   f"{labels[control]} only with sound 'off'")


def _check_callback(draft: Draft, limits: ImageLimits) -> str | None:
    if draft.callback_url is None:
        return None
    try:
        return check_url(draft.callback_url, allow_private=limits.allow_private_urls)
    except UnsafeURL as exc:
        raise InvalidParameter(draft.name("callback_url"), str(exc)) from None


def _load_images(draft: Draft, limits: ImageLimits) -> dict[str, ImageInput]:
    images: dict[str, ImageInput] = {}
    if draft.image is not None:
        images["image"] = load_image(draft.image, draft.name("image"), limits)
    if draft.image_tail is not None:
        images["image_tail"] = load_image(draft.image_tail, draft.name("image_tail"), limits,
                                          check_ratio="image" not in images)
    masks: list[tuple[str, ImageInput]] = []
    if draft.static_mask is not None:
        images["static_mask"] = load_image(draft.static_mask, "static_mask", limits, check_ratio=False)
        masks.append(("static_mask", images["static_mask"]))
    for i, (mask, _) in enumerate(draft.dynamic_masks):
        slot = f"mask_{i}"
        images[slot] = load_image(mask, f"dynamic_masks[{i}].mask", limits, check_ratio=False)
        masks.append((f"dynamic_masks[{i}].mask", images[slot]))
    base = images.get("image") or images.get("image_tail")
    for name, img in masks:
        if base is not None and abs(img.ratio / base.ratio - 1) > RATIO_TOLERANCE:
            raise InvalidParameter(name, f"mask {img.width}x{img.height} must have the image's "
                                   f"aspect ratio ({base.width}x{base.height})")
        first = masks[0][1]
        if (img.width, img.height) != (first.width, first.height):
            raise InvalidParameter(name, f"all masks must share one resolution: {img.width}x"
                                   f"{img.height} differs from {first.width}x{first.height}")
    return images


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def _output(draft: Draft, profile: Profile, mode: str, images: dict[str, ImageInput]) -> Output:
    fps = draft.fps or profile.fps
    short = profile.short_side(mode)
    if draft.width and draft.height:
        width, height = draft.width, draft.height
    else:
        if draft.aspect_ratio is not None:
            rw, rh = ASPECT_RATIOS[draft.aspect_ratio]
            ratio = rw / rh
        else:
            ratio = (images.get("image") or images["image_tail"]).ratio
        width, height = (_even(short * ratio), short) if ratio >= 1 else (short, _even(short / ratio))
    return Output(width=width, height=height, fps=fps, num_frames=round(fps * draft.duration))
