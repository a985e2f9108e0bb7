"""Load a diffusers pipeline from a local folder, through its model_index.json.

Every failure becomes a ConfigError naming the folder and what is wrong, since this
runs at start-up. Nothing is fetched from a hub: the folder must be complete.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kinema.errors import ConfigError

# Checkpoints published under a text-to-video class whose components also serve the
# image-conditioned pipeline (diffusers' own docs load them that way).
_IMAGE_CLASS_FOR = {
    "LTXPipeline": "LTXConditionPipeline",
    "LTXImageToVideoPipeline": "LTXConditionPipeline",
    "WanPipeline": "WanImageToVideoPipeline",  # only for expand_timesteps (TI2V) checkpoints
}


def read_model_index(folder: Path) -> dict[str, Any]:
    if not folder.exists():
        raise ConfigError(f"diffusion weights folder {folder} does not exist")
    if not folder.is_dir():
        raise ConfigError(f"diffusion weights path {folder} is not a folder")
    index_path = folder / "model_index.json"
    if not index_path.is_file():
        raise ConfigError(
            f"diffusion weights folder {folder} has no model_index.json "
            "(a diffusers-format pipeline folder is needed, e.g. a '-Diffusers' repository)"
        )
    try:
        index = json.loads(index_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{index_path} is not valid JSON: {exc}") from exc
    if not isinstance(index, dict) or not isinstance(index.get("_class_name"), str):
        raise ConfigError(f"{index_path} has no '_class_name' naming the pipeline class")
    return index


def components_of(index: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Components listed in model_index.json as [library, class] (null entries skipped)."""
    out: dict[str, tuple[str, str]] = {}
    for name, value in index.items():
        if name.startswith("_") or not isinstance(value, list) or len(value) != 2:
            continue
        if value[0] is None or value[1] is None:
            continue
        out[name] = (str(value[0]), str(value[1]))
    return out


def check_components(folder: Path, index: dict[str, Any]) -> None:
    for name in components_of(index):
        sub = folder / name
        if not sub.is_dir() or not any(sub.iterdir()):
            raise ConfigError(
                f"diffusion weights folder {folder}: component '{name}' is listed in "
                f"model_index.json but {sub} is missing or empty"
            )


def resolve_class_name(index: dict[str, Any], override: str | None, folder: Path) -> str:
    name = override or index["_class_name"]
    if override is None and name in _IMAGE_CLASS_FOR:
        if name == "WanPipeline" and not index.get("expand_timesteps"):
            raise ConfigError(
                f"diffusion weights folder {folder} holds a text-to-video WanPipeline; "
                "image-to-video needs an I2V, FLF2V or TI2V checkpoint"
            )
        name = _IMAGE_CLASS_FOR[name]
    return name


def pipeline_class(name: str, folder: Path) -> Any:
    import diffusers

    cls = getattr(diffusers, name, None)
    if cls is None:
        raise ConfigError(
            f"diffusion weights folder {folder}: pipeline class {name!r} is not in the "
            f"installed diffusers {diffusers.__version__}"
        )
    return cls


def _dtype_kwarg(torch_dtype: Any) -> dict[str, Any]:
    # newer diffusers renamed torch_dtype to dtype (the old name warns); older ones
    # silently ignore `dtype`, so pick by what the installed version understands
    try:
        from diffusers.utils.deprecation_utils import _resolve_dtype  # noqa: F401
    except ImportError:
        return {"torch_dtype": torch_dtype}
    return {"dtype": torch_dtype}


def load_pipeline(folder: Path, *, class_override: str | None, torch_dtype: Any) -> Any:
    """The pipeline, on the cpu, in `torch_dtype`; the caller moves or offloads it."""
    index = read_model_index(folder)
    check_components(folder, index)
    name = resolve_class_name(index, class_override, folder)
    cls = pipeline_class(name, folder)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder must never reach for a hub
    try:
        return cls.from_pretrained(str(folder), local_files_only=True, **_dtype_kwarg(torch_dtype))
    except ConfigError:
        raise
    except Exception as exc:  # diffusers raises many kinds; all mean "these weights are bad"
        raise ConfigError(f"could not load {name} from {folder}: {type(exc).__name__}: {exc}") from exc
