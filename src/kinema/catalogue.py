"""Model names -> capability profile + engine.

The defaults follow Kling's capability map (shared/reference/kling-api.md, 1.8). A TOML
file (KINEMA_MODELS_FILE) overrides any profile field per model, or adds a model.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kinema.errors import ConfigError, InvalidParameter

# Controls that change the output; a model or mode that lacks one refuses it (1201).
CONTROLS = ("end_frame", "end_frame_only", "motion_brush", "camera", "sound", "voice")
BOTH = (5, 10)
FIVE = (5,)


@dataclass(frozen=True, kw_only=True)
class Profile:
    name: str
    modes: tuple[str, ...] = ("std", "pro")
    fps: int = 24
    # Short side of the output per mode: std is the 720p class, pro the 1080p class.
    resolution: dict[str, int] = field(default_factory=lambda: {"std": 720, "pro": 1080})
    # mode -> control -> durations that allow it.
    controls: dict[str, dict[str, tuple[int, ...]]] = field(default_factory=dict)
    camera_types: tuple[str, ...] = (
        "simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward",
    )
    cfg_scale: bool = True
    fixed_mode: bool = False  # a model with one mode ignores `mode`
    # Controls that only work silently: with sound on they are refused (v2-6's end frame).
    silent_only: tuple[str, ...] = ()
    engine: str = "motion"
    engine_options: dict[str, Any] = field(default_factory=dict)
    queue: str | None = None
    alias_of: str | None = None

    def allows(self, control: str, mode: str, duration: int) -> bool:
        return duration in self.controls.get(mode, {}).get(control, ())

    def short_side(self, mode: str) -> int:
        return self.resolution.get(mode) or max(self.resolution.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "model": self.name, "engine": self.engine, "modes": list(self.modes), "fps": self.fps,
            "resolution": self.resolution, "cfg_scale": self.cfg_scale,
            "fixed_mode": self.fixed_mode, "camera_types": list(self.camera_types),
            "silent_only": list(self.silent_only), "alias_of": self.alias_of, "queue": self.queue,
            "controls": {m: {c: list(d) for c, d in cs.items()} for m, cs in self.controls.items()},
        }


def _both(*names: str, durations: tuple[int, ...] = BOTH) -> dict[str, tuple[int, ...]]:
    return {n: durations for n in names}


_EVERYTHING = _both(*CONTROLS)
_V2 = dict(cfg_scale=False, fps=24)

DEFAULTS: tuple[Profile, ...] = (
    # v1 renders 720p in both modes (the map lists no 1080p for it).
    Profile(name="kling-v1", fps=30, resolution={"std": 720, "pro": 720}, controls={
        "std": _both("end_frame", "motion_brush", durations=FIVE),
        "pro": _both("end_frame", "motion_brush", durations=FIVE),
    }),
    Profile(name="kling-v1-5", fps=30, camera_types=("simple",), controls={
        "pro": {**_both("end_frame", "end_frame_only"), **_both("motion_brush", "camera", durations=FIVE)},
    }),
    Profile(name="kling-v1-6", fps=30, controls={"pro": _both("end_frame", "end_frame_only")}),
    Profile(name="kling-v2-master", modes=("std",), fixed_mode=True,
            resolution={"std": 720}, **_V2),  # type: ignore[arg-type]
    Profile(name="kling-v2-1", controls={"pro": _both("end_frame")}, **_V2),  # type: ignore[arg-type]
    Profile(name="kling-v2-1-master", modes=("pro",), fixed_mode=True,
            resolution={"pro": 1080}, **_V2),  # type: ignore[arg-type]
    Profile(name="kling-v2-5-turbo", resolution={"std": 1080, "pro": 1080},
            controls={"pro": _both("end_frame")}, **_V2),  # type: ignore[arg-type]
    Profile(name="kling-v2-6", silent_only=("end_frame",), controls={
        "pro": _both("end_frame", "sound", "voice"),
    }, **_V2),  # type: ignore[arg-type]
    Profile(name="kling-o1-i2v", modes=("std",), fixed_mode=True, resolution={"std": 720},
            controls={"std": _both("end_frame")}, **_V2),  # type: ignore[arg-type]
    Profile(name="kinema-motion", controls={"std": _EVERYTHING, "pro": _EVERYTHING}),
)

# v3 slugs share the official model's profile.
ALIASES = {
    "kling-v1.6-i2v": "kling-v1-6",
    "kling-v2.1-i2v": "kling-v2-1",
    "kling-v2.1-i2v-master": "kling-v2-1-master",
    "kling-2.5-turbo-i2v": "kling-v2-5-turbo",
}

_OVERRIDABLE = {
    "modes", "fps", "resolution", "controls", "camera_types", "cfg_scale", "fixed_mode",
    "silent_only", "engine", "engine_options", "queue",
}


class Catalogue:
    def __init__(self, profiles: dict[str, Profile]) -> None:
        self._profiles = profiles

    def __contains__(self, name: str) -> bool:
        return name in self._profiles

    def names(self) -> list[str]:
        return sorted(self._profiles)

    def get(self, name: str, *, field_name: str = "model_name") -> Profile:
        try:
            return self._profiles[name]
        except KeyError:
            raise InvalidParameter(
                field_name, f"unknown model {name!r}; known models: {', '.join(self.names())}"
            ) from None

    def profiles(self) -> list[Profile]:
        return [self._profiles[n] for n in self.names()]

    @classmethod
    def load(cls, models_file: Path | None = None) -> Catalogue:
        profiles = {p.name: p for p in DEFAULTS}
        tables = _read_toml(models_file) if models_file is not None else {}

        def aliases() -> None:
            # A v3 slug follows its official model (overrides included) unless the file
            # overrides the slug itself.
            for alias, target in ALIASES.items():
                if alias not in tables:
                    profiles[alias] = replace(profiles[target], name=alias, alias_of=target)

        aliases()
        for name, table in tables.items():
            if name in ALIASES:
                table = {"base": ALIASES[name], **table}
            profiles[name] = _apply(name, table, profiles, models_file)  # type: ignore[arg-type]
        aliases()
        return cls(profiles)


def _read_toml(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"models file {path}: {exc}") from exc
    models = data.get("models", {})
    if not isinstance(models, dict) or not all(isinstance(v, dict) for v in models.values()):
        raise ConfigError(f"models file {path}: expected [models.\"<name>\"] tables")
    return models


def _apply(name: str, table: dict[str, Any], profiles: dict[str, Profile], path: Path) -> Profile:
    table = dict(table)
    base_name = table.pop("base", name if name in profiles else "kinema-motion")
    if base_name not in profiles:
        raise ConfigError(f"models file {path}: model {name!r} has unknown base {base_name!r}")
    unknown = set(table) - _OVERRIDABLE
    if unknown:
        raise ConfigError(f"models file {path}: model {name!r} has unknown keys {sorted(unknown)}")
    if "controls" in table:
        table["controls"] = {
            mode: {c: tuple(int(d) for d in ds) for c, ds in cs.items()}
            for mode, cs in table["controls"].items()
        }
        bad = {c for cs in table["controls"].values() for c in cs} - set(CONTROLS)
        if bad:
            raise ConfigError(f"models file {path}: model {name!r} has unknown controls {sorted(bad)}")
    _check_shape(name, table, path)
    for key in ("modes", "camera_types", "silent_only"):
        if key in table:
            table[key] = tuple(table[key])
    if "engine" in table and table["engine"] not in ("motion", "diffusion", "upstream"):
        raise ConfigError(f"models file {path}: model {name!r} has unknown engine {table['engine']!r}")
    return replace(profiles[base_name], name=name, alias_of=None, **table)


def _check_shape(name: str, table: dict[str, Any], path: Path) -> None:
    """Catch the mistakes a hand-written models file makes, at start-up."""
    where = f"models file {path}: model {name!r}"
    modes = table.get("modes", ("std", "pro"))
    if not modes or not set(modes) <= {"std", "pro"}:
        raise ConfigError(f"{where}: modes must be a non-empty list of 'std' and 'pro'")
    fps = table.get("fps", 24)
    if not isinstance(fps, int) or not 1 <= fps <= 120:
        raise ConfigError(f"{where}: fps must be an integer from 1 to 120")
    resolution = table.get("resolution", {"std": 720})
    if not isinstance(resolution, dict) or not all(
            m in ("std", "pro") and isinstance(v, int) and 16 <= v <= 4096 and v % 2 == 0
            for m, v in resolution.items()):
        raise ConfigError(f"{where}: resolution maps 'std'/'pro' to an even short side in pixels")
    for mode, cs in table.get("controls", {}).items():
        if mode not in ("std", "pro") or not all(set(d) <= {5, 10} for d in cs.values()):
            raise ConfigError(f"{where}: controls maps 'std'/'pro' to control = [5, 10] lists")
