"""Pipeline families: what differs between Wan and LTX-Video, keyed by pipeline class.

A family knows its frame rule, the size multiple, whether a last frame can be given and
how the first/last frames are passed. Nothing here looks at a model's name.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from PIL import Image

from kinema.engines.diffusion.config import DiffusionOptions
from kinema.errors import ConfigError, TaskFailure


@dataclass(frozen=True)
class Family:
    name: str
    default_steps: int
    default_guidance: float
    default_max_sequence_length: int

    def temporal_factor(self, pipe: Any) -> int:
        raise NotImplementedError

    def spatial_multiple(self, pipe: Any) -> int:
        raise NotImplementedError

    def last_frame_refusal(self, pipe: Any, opts: DiffusionOptions) -> str | None:
        """Why this pipeline cannot take a last frame, or None when it can."""
        raise NotImplementedError

    def frame_kwargs(
        self, pipe: Any, first: Image.Image | None, last: Image.Image | None, num_frames: int
    ) -> dict[str, Any]:
        raise NotImplementedError

    def extra_kwargs(self, pipe: Any, *, fps: int, guidance: float, opts: DiffusionOptions) -> dict[str, Any]:
        return {}


class WanFamily(Family):
    def temporal_factor(self, pipe: Any) -> int:
        return int(pipe.vae_scale_factor_temporal)

    def spatial_multiple(self, pipe: Any) -> int:
        # the pipeline floors sizes to vae_scale_factor_spatial * patch size (16 for
        # Wan2.1, 32 for the Wan2.2 VAE); snapping here keeps the aspect ratio honest
        transformer = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
        patch = transformer.config.patch_size
        return int(pipe.vae_scale_factor_spatial) * int(max(patch[1], patch[2]))

    def last_frame_refusal(self, pipe: Any, opts: DiffusionOptions) -> str | None:
        if pipe.config.get("expand_timesteps"):
            # TI2V conditions only the first latent frame; it ignores last_image
            return "a last frame is not supported by this pipeline (first-frame-only TI2V)"
        if opts.last_frame is not None:
            return None if opts.last_frame else "a last frame is disabled for this model"
        transformer = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
        if transformer.config.get("pos_embed_seq_len") is None:
            # only FLF2V checkpoints are trained with a last frame; others accept the
            # argument but were never taught it (set last_frame = true to allow anyway)
            return "a last frame is not supported by this pipeline (not a first-last-frame checkpoint)"
        return None

    def frame_kwargs(
        self, pipe: Any, first: Image.Image | None, last: Image.Image | None, num_frames: int
    ) -> dict[str, Any]:
        if first is None:
            raise TaskFailure("this model needs a first frame: send `image`")
        return {"image": first, "last_image": last}

    def extra_kwargs(self, pipe: Any, *, fps: int, guidance: float, opts: DiffusionOptions) -> dict[str, Any]:
        if pipe.config.get("boundary_ratio") is not None and opts.guidance_2 is not None:
            # the low-noise expert's guidance follows cfg_scale in proportion
            base = opts.guidance if opts.guidance is not None else self.default_guidance
            return {"guidance_scale_2": opts.guidance_2 * guidance / base if base else opts.guidance_2}
        return {}


class LTXFamily(Family):
    def temporal_factor(self, pipe: Any) -> int:
        return int(pipe.vae_temporal_compression_ratio)

    def spatial_multiple(self, pipe: Any) -> int:
        # LTXConditionPipeline.check_inputs insists on multiples of 32
        ratio = int(pipe.vae_spatial_compression_ratio) * int(pipe.transformer_spatial_patch_size)
        return max(32, ratio)

    def last_frame_refusal(self, pipe: Any, opts: DiffusionOptions) -> str | None:
        return "a last frame is disabled for this model" if opts.last_frame is False else None

    def frame_kwargs(
        self, pipe: Any, first: Image.Image | None, last: Image.Image | None, num_frames: int
    ) -> dict[str, Any]:
        from diffusers.pipelines.ltx.pipeline_ltx_condition import LTXVideoCondition

        conditions = []
        if first is not None:
            conditions.append(LTXVideoCondition(image=first, frame_index=0))
        if last is not None:
            conditions.append(LTXVideoCondition(image=last, frame_index=num_frames - 1))
        return {"conditions": conditions}

    def extra_kwargs(self, pipe: Any, *, fps: int, guidance: float, opts: DiffusionOptions) -> dict[str, Any]:
        out: dict[str, Any] = {"frame_rate": fps}
        if pipe.vae.config.get("timestep_conditioning"):
            # the values LTX-Video 0.9.1+ recommend for its timestep-conditioned VAE
            out.update(decode_timestep=0.05, decode_noise_scale=0.025)
        return out


FAMILIES: dict[str, Family] = {
    "WanImageToVideoPipeline": WanFamily("wan", 40, 5.0, 512),
    "LTXConditionPipeline": LTXFamily("ltx", 40, 3.0, 256),
}


def family_of(pipe: Any) -> Family:
    name = type(pipe).__name__
    family = FAMILIES.get(name)
    if family is None:
        raise ConfigError(
            f"pipeline class {name} is not supported by the diffusion engine "
            f"(supported: {', '.join(sorted(FAMILIES))})"
        )
    return family


def check_call_kwargs(pipe: Any, kwargs: dict[str, Any]) -> None:
    params = inspect.signature(type(pipe).__call__).parameters
    unknown = sorted(k for k in kwargs if k not in params)
    if unknown:
        raise ConfigError(
            f"engine_options.call_kwargs: {type(pipe).__name__} takes no {', '.join(unknown)}"
        )
