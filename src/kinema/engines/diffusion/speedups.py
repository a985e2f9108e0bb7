"""Placement and speed settings, applied once after loading.

Each is a plain diffusers feature (attention backends, regional torch.compile, cache
hooks, layerwise fp8 storage, CPU offload), so the benchmark and the engine share them.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from kinema.engines.diffusion.config import CacheSetting, DiffusionOptions
from kinema.errors import ConfigError

log = logging.getLogger(__name__)

# short name -> diffusers.hooks config class; what exists depends on the installed version
CACHE_CLASSES = {
    "first_block": "FirstBlockCacheConfig",
    "mag": "MagCacheConfig",
    "pab": "PyramidAttentionBroadcastConfig",
    "faster": "FasterCacheConfig",
    "taylorseer": "TaylorSeerCacheConfig",
    "sea": "SeaCacheConfig",
}


def transformers_of(pipe: Any) -> list[Any]:
    """The denoisers: one, or two for Wan2.2 A14B (high- and low-noise experts)."""
    return [m for m in (getattr(pipe, "transformer", None), getattr(pipe, "transformer_2", None)) if m is not None]


def pick_device(requested: str | None) -> str:
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError("engine_options.device is 'cuda' but no CUDA device is available")
    if requested == "mps" and not torch.backends.mps.is_available():
        raise ConfigError("engine_options.device is 'mps' but MPS is not available")
    if requested:
        return requested
    if torch.cuda.is_available():
        return "cuda"
    return "mps" if torch.backends.mps.is_available() else "cpu"


def pick_dtype(requested: str | None, device: str) -> Any:
    import torch

    name = requested or ("float32" if device == "cpu" else "bfloat16")
    return getattr(torch, name)


def cache_config(setting: CacheSetting, pipe: Any, steps: int) -> Any:
    from diffusers import hooks

    cls_name = CACHE_CLASSES.get(setting.kind)
    cls = getattr(hooks, cls_name, None) if cls_name else None
    if cls is None:
        offered = sorted(k for k, v in CACHE_CLASSES.items() if hasattr(hooks, v))
        raise ConfigError(
            f"engine_options.cache {setting.kind!r} is not available in this diffusers "
            f"(available: {', '.join(offered)})"
        )
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(setting.params) - fields)
    if unknown:
        raise ConfigError(f"engine_options.cache {setting.kind!r} has no setting {', '.join(unknown)}")
    params = dict(setting.params)
    # fill what only the engine knows: the live timestep and the step count
    if "current_timestep_callback" in fields:
        params.setdefault("current_timestep_callback", lambda: pipe.current_timestep)
    if "num_inference_steps" in fields:
        params.setdefault("num_inference_steps", steps)
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"engine_options.cache {setting.kind!r}: {exc}") from exc


def apply_speedups(pipe: Any, opts: DiffusionOptions, *, device: str, dtype: Any, steps: int) -> None:
    """Move/offload the pipeline and switch on the configured speed settings."""
    denoisers = transformers_of(pipe)
    if opts.fp8_storage:
        import torch

        # weights stored in fp8, upcast per layer: halves transformer memory, costs a little speed
        for model in denoisers:
            model.enable_layerwise_casting(storage_dtype=torch.float8_e4m3fn, compute_dtype=dtype)
    if opts.memory == "full":
        pipe.to(device)
    elif device == "cpu":
        raise ConfigError(f"engine_options.memory = {opts.memory!r} needs an accelerator device")
    elif opts.memory == "offload":
        pipe.enable_model_cpu_offload(device=device)
    else:
        pipe.enable_sequential_cpu_offload(device=device)
    vae = getattr(pipe, "vae", None)
    if vae is not None and (opts.vae_tiling or opts.memory != "full"):
        for switch in ("enable_tiling", "enable_slicing"):
            if hasattr(vae, switch):
                getattr(vae, switch)()
    if opts.attention_backend:
        for model in denoisers:
            try:
                model.set_attention_backend(opts.attention_backend)
            except Exception as exc:  # unknown name, or its kernel package is missing
                raise ConfigError(
                    f"engine_options.attention_backend {opts.attention_backend!r}: {exc}"
                ) from exc
    if opts.cache is not None:
        for model in denoisers:
            if not hasattr(model, "enable_cache"):
                raise ConfigError(f"{type(model).__name__} does not support cache hooks")
            model.enable_cache(cache_config(opts.cache, pipe, steps))
    if opts.compile:
        for model in denoisers:
            if getattr(model, "_repeated_blocks", None):
                # regional compile: one block compiled and reused, seconds instead of minutes
                model.compile_repeated_blocks(fullgraph=True)
            else:
                model.compile()  # nn.Module.compile: in place, whole model


def reset_caches(pipe: Any) -> None:
    """Clear cache-hook state, e.g. after a run was stopped half-way."""
    for model in transformers_of(pipe):
        reset = getattr(model, "_reset_stateful_cache", None)
        if reset is not None and getattr(model, "is_cache_enabled", False):
            reset()
