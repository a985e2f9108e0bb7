"""engine_options (one TOML table per model) parsed and checked once, at start-up."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kinema.errors import ConfigError

DTYPES = ("bfloat16", "float16", "float32")
DEVICES = ("cuda", "cpu", "mps")
MEMORY_MODES = ("full", "offload", "sequential")

_KNOWN = frozenset(
    {
        "weights", "dtype", "device", "steps", "guidance", "guidance_min", "guidance_max",
        "guidance_2", "max_frames", "max_area", "memory", "vae_tiling", "attention_backend",
        "compile", "cache", "fp8_storage", "flow_shift", "last_frame", "negative_prompt",
        "max_sequence_length", "pipeline_class", "call_kwargs",
    }
)


@dataclass(frozen=True, kw_only=True)
class CacheSetting:
    """One diffusers cache hook: its short name and the config fields given for it."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class DiffusionOptions:
    weights: Path
    dtype: str | None = None  # None: bfloat16 on an accelerator, float32 on cpu
    device: str | None = None  # None: cuda when available, else mps, else cpu
    steps: int | None = None  # None: the family's default
    guidance: float | None = None  # guidance at Kling's default cfg_scale 0.5
    guidance_min: float | None = None  # guidance at cfg_scale 0
    guidance_max: float | None = None  # guidance at cfg_scale 1
    guidance_2: float | None = None  # Wan2.2 A14B low-noise stage, at cfg_scale 0.5
    max_frames: int | None = None
    max_area: int | None = None  # pixels per frame the model runs at, at most
    memory: str = "full"
    vae_tiling: bool = False
    attention_backend: str | None = None
    compile: bool = False
    cache: CacheSetting | None = None
    fp8_storage: bool = False
    flow_shift: float | None = None
    last_frame: bool | None = None  # None: decided from the checkpoint
    negative_prompt: str = ""
    max_sequence_length: int | None = None
    pipeline_class: str | None = None
    call_kwargs: dict[str, Any] = field(default_factory=dict)


def _num(opts: Mapping[str, Any], key: str, kind: type, *, minimum: float | None = None) -> Any:
    value = opts.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"engine_options.{key} must be a number, got {value!r}")
    if kind is int and not float(value).is_integer():
        raise ConfigError(f"engine_options.{key} must be a whole number, got {value!r}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"engine_options.{key} must be >= {minimum}, got {value!r}")
    return kind(value)


def _choice(opts: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str | None:
    value = opts.get(key)
    if value is None:
        return None
    if value not in choices:
        raise ConfigError(f"engine_options.{key} must be one of {', '.join(choices)}; got {value!r}")
    return str(value)


def _flag(opts: Mapping[str, Any], key: str) -> bool | None:
    value = opts.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise ConfigError(f"engine_options.{key} must be true or false, got {value!r}")


def _cache(value: Any) -> CacheSetting | None:
    """`cache = "first_block"` or `cache = { type = "first_block", threshold = 0.08 }`."""
    if value is None or value is False or value == "none":
        return None
    if isinstance(value, str):
        return CacheSetting(kind=value)
    if isinstance(value, Mapping) and isinstance(value.get("type"), str):
        params = {k: v for k, v in value.items() if k != "type"}
        return CacheSetting(kind=value["type"], params=params)
    raise ConfigError(
        'engine_options.cache must be a name or a table with a "type", '
        f'e.g. cache = {{ type = "first_block", threshold = 0.05 }}; got {value!r}'
    )


def parse_options(opts: Mapping[str, Any]) -> DiffusionOptions:
    unknown = sorted(set(opts) - _KNOWN)
    if unknown:
        raise ConfigError(f"unknown diffusion engine_options: {', '.join(unknown)}")
    weights = opts.get("weights")
    if not isinstance(weights, str) or not weights:
        raise ConfigError("engine_options.weights (the pipeline folder) is required")
    guidance_min = _num(opts, "guidance_min", float, minimum=0)
    guidance_max = _num(opts, "guidance_max", float, minimum=0)
    if guidance_min is not None and guidance_max is not None and guidance_min > guidance_max:
        raise ConfigError("engine_options.guidance_min must not exceed guidance_max")
    call_kwargs = opts.get("call_kwargs", {})
    if not isinstance(call_kwargs, Mapping):
        raise ConfigError("engine_options.call_kwargs must be a table")
    for key in ("negative_prompt", "pipeline_class", "attention_backend"):
        if opts.get(key) is not None and not isinstance(opts[key], str):
            raise ConfigError(f"engine_options.{key} must be a string")
    return DiffusionOptions(
        weights=Path(weights).expanduser(),
        dtype=_choice(opts, "dtype", DTYPES),
        device=_choice(opts, "device", DEVICES),
        steps=_num(opts, "steps", int, minimum=1),
        guidance=_num(opts, "guidance", float, minimum=0),
        guidance_min=guidance_min,
        guidance_max=guidance_max,
        guidance_2=_num(opts, "guidance_2", float, minimum=0),
        max_frames=_num(opts, "max_frames", int, minimum=1),
        max_area=_num(opts, "max_area", int, minimum=64 * 64),
        memory=_choice(opts, "memory", MEMORY_MODES) or "full",
        vae_tiling=bool(_flag(opts, "vae_tiling")),
        attention_backend=opts.get("attention_backend"),
        compile=bool(_flag(opts, "compile")),
        cache=_cache(opts.get("cache")),
        fp8_storage=bool(_flag(opts, "fp8_storage")),
        flow_shift=_num(opts, "flow_shift", float, minimum=0),
        last_frame=_flag(opts, "last_frame"),
        negative_prompt=opts.get("negative_prompt") or "",
        max_sequence_length=_num(opts, "max_sequence_length", int, minimum=1),
        pipeline_class=opts.get("pipeline_class"),
        call_kwargs=dict(call_kwargs),
    )


def guidance_for(cfg_scale: float, *, default: float, lo: float | None, hi: float | None) -> float:
    """Map Kling's cfg_scale in [0, 1] linearly onto [lo, hi].

    Unset ends default to [1, 2*default - 1], so cfg_scale 0.5 (Kling's default) gives the
    model's default guidance, and cfg_scale 0 gives 1.0: no classifier-free guidance (and
    half the transformer passes).
    """
    lo = 1.0 if lo is None else lo
    hi = max(lo, 2.0 * default - 1.0) if hi is None else hi
    c = min(1.0, max(0.0, float(cfg_scale)))
    return lo + c * (hi - lo)
