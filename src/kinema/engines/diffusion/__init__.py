"""Diffusion engine: Wan and LTX-Video image-to-video pipelines from a local folder.

Importing this package needs no torch; DiffusionEngine loads lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kinema.engines.diffusion.engine import DiffusionEngine

__all__ = ["DiffusionEngine"]


def __getattr__(name: str) -> Any:
    if name == "DiffusionEngine":
        from kinema.engines.diffusion.engine import DiffusionEngine

        return DiffusionEngine
    raise AttributeError(name)
