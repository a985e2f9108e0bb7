#!/usr/bin/env python
"""Denoising-step and end-to-end time of real-size Wan architectures: stock vs kinema.

    python bench/bench_diffusion_gpu.py --model wan21-i2v-14b
    python bench/bench_diffusion_gpu.py --model wan22-ti2v-5b
    python bench/bench_diffusion_gpu.py --model wan21-i2v-14b --dry-run   # CPU: configs only

The transformer, VAE and (Wan2.1) CLIP image encoder are built at their published sizes
with random weights; the text encoder is skipped by passing prompt embeddings, since only
the denoiser and the VAE decode cost time. Each size runs first with stock diffusers
(bf16, default attention, no compile), then with the settings kinema applies, through
the engine's own apply_speedups(), on the same pipeline and GPU. Random weights give
representative step times, but not cache hit rates: the cache row is a smoke figure.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kinema.engines.diffusion.config import parse_options
from kinema.engines.diffusion.frames import run_size, valid_frame_count
from kinema.engines.diffusion.speedups import apply_speedups

# Published configs (diffusers-format checkpoints' transformer/ and vae/ config.json).
WAN21_I2V_14B = {
    "patch_size": (1, 2, 2), "num_attention_heads": 40, "attention_head_dim": 128,
    "in_channels": 36, "out_channels": 16, "text_dim": 4096, "freq_dim": 256, "ffn_dim": 13824,
    "num_layers": 40, "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "eps": 1e-6,
    "image_dim": 1280, "added_kv_proj_dim": 5120, "rope_max_seq_len": 1024,
}
WAN22_TI2V_5B = {
    "patch_size": (1, 2, 2), "num_attention_heads": 24, "attention_head_dim": 128,
    "in_channels": 48, "out_channels": 48, "text_dim": 4096, "freq_dim": 256, "ffn_dim": 14336,
    "num_layers": 30, "cross_attn_norm": True, "qk_norm": "rms_norm_across_heads", "eps": 1e-6,
    "image_dim": None, "added_kv_proj_dim": None, "rope_max_seq_len": 1024,
}
WAN21_VAE: dict[str, Any] = {"base_dim": 96, "z_dim": 16, "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2}
WAN22_VAE: dict[str, Any] = {
    "base_dim": 160, "decoder_base_dim": 256, "z_dim": 48, "in_channels": 12, "out_channels": 12,
    "is_residual": True, "patch_size": 2, "scale_factor_spatial": 16, "scale_factor_temporal": 4,
    "dim_mult": [1, 2, 4, 4], "num_res_blocks": 2, "temperal_downsample": [False, True, True],
    "latents_mean": [0.0] * 48, "latents_std": [1.0] * 48,
}
# ViT-H/14 image encoder used by Wan2.1 I2V (open-clip xlm-roberta-large-vit-huge-14)
CLIP_VIT_H = {
    "hidden_size": 1280, "intermediate_size": 5120, "num_hidden_layers": 32,
    "num_attention_heads": 16, "image_size": 224, "patch_size": 14, "projection_dim": 1024,
    "hidden_act": "gelu",
}


@dataclass(frozen=True)
class Spec:
    transformer: dict[str, Any]
    vae: dict[str, Any]
    clip: bool
    expand_timesteps: bool
    flow_shift: float
    default_steps: int
    expected_params: float  # billions, transformer


SPECS = {
    "wan21-i2v-14b": Spec(WAN21_I2V_14B, WAN21_VAE, True, False, 3.0, 40, 16.4),
    "wan22-ti2v-5b": Spec(WAN22_TI2V_5B, WAN22_VAE, False, True, 5.0, 50, 5.0),
}
SIZES = {"480p": (832, 480, 81), "720p": (1280, 704, 121)}


def build(spec: Spec, device: str, dtype: Any) -> dict[str, Any]:
    import torch
    from diffusers import AutoencoderKLWan, WanTransformer3DModel

    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # initialise straight into bf16: no fp32 copy of 14B
    try:
        with torch.device(device):
            parts: dict[str, Any] = {
                "transformer": WanTransformer3DModel(**spec.transformer).eval(),
                "vae": AutoencoderKLWan(**spec.vae).eval(),
            }
            if spec.clip:
                from transformers import CLIPVisionConfig, CLIPVisionModel

                parts["image_encoder"] = CLIPVisionModel(CLIPVisionConfig(**CLIP_VIT_H)).eval()
    finally:
        torch.set_default_dtype(previous)
    return parts


def count(module: Any) -> float:
    return sum(p.numel() for p in module.parameters()) / 1e9


def dry_run(name: str, spec: Spec) -> None:
    parts = build(spec, "meta", __import__("torch").bfloat16)
    print(f"{name} (meta device, nothing allocated):")
    for key, module in parts.items():
        print(f"  {key:14s} {count(module):7.3f} B parameters")
    got = count(parts["transformer"])
    assert abs(got - spec.expected_params) / spec.expected_params < 0.1, got
    vae_spatial = 16 if spec.vae.get("scale_factor_spatial") == 16 else 8
    multiple = vae_spatial * spec.transformer["patch_size"][1]
    for label, (w, h, f) in SIZES.items():
        rw, rh = run_size(w, h, multiple)
        print(f"  {label}: {rw}x{rh} x {valid_frame_count(f, 4)} frames (size multiple {multiple})")


@dataclass
class Result:
    setting: str
    size: str
    step_s: float
    e2e_s: float
    steps: int
    projected_s: float
    notes: list[str] = field(default_factory=list)


def make_pipe(spec: Spec, parts: dict[str, Any]) -> Any:
    from diffusers import UniPCMultistepScheduler, WanImageToVideoPipeline

    image_processor = None
    if spec.clip:
        from transformers import CLIPImageProcessor

        image_processor = CLIPImageProcessor(crop_size=224, size=224)
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=spec.flow_shift
    )
    pipe = WanImageToVideoPipeline(
        tokenizer=None, text_encoder=None, scheduler=scheduler, image_processor=image_processor,
        expand_timesteps=spec.expand_timesteps, **parts,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def timed_call(pipe: Any, size: tuple[int, int, int], steps: int, seed: int = 0) -> tuple[float, float]:
    """(mean seconds per denoising step, end-to-end seconds incl. VAE decode)."""
    import numpy as np
    import torch
    from PIL import Image

    w, h, f = size
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
    dtype = pipe.transformer.dtype
    embeds = torch.randn(1, 512, 4096, device="cuda", dtype=dtype) * 0.1
    marks: list[float] = []

    def on_step(p: Any, i: int, t: Any, kw: dict[str, Any]) -> dict[str, Any]:
        torch.cuda.synchronize()
        marks.append(time.perf_counter())
        return kw

    torch.cuda.synchronize()
    start = time.perf_counter()
    pipe(
        image=image, prompt_embeds=embeds, negative_prompt_embeds=torch.zeros_like(embeds),
        height=h, width=w, num_frames=f, num_inference_steps=steps, guidance_scale=5.0,
        generator=torch.Generator("cuda").manual_seed(seed), output_type="np",
        callback_on_step_end=on_step,
    )
    torch.cuda.synchronize()
    end = time.perf_counter()
    # step i's time is marks[i] - marks[i-1]; the first also holds prompt/image encoding
    step = statistics.mean(b - a for a, b in itertools.pairwise(marks)) if len(marks) > 1 else end - start
    return step, end - start


def pick_attention() -> str:
    import importlib.util

    if importlib.util.find_spec("flash_attn_interface"):
        return "_flash_3"
    if importlib.util.find_spec("flash_attn"):
        return "flash"
    if importlib.util.find_spec("sageattention"):
        return "sage"
    return "_native_cudnn"


def run(args: argparse.Namespace, spec: Spec) -> list[Result]:
    import torch

    dtype = torch.bfloat16
    sizes = {k: SIZES[k] for k in args.sizes}
    t0 = time.perf_counter()
    pipe = make_pipe(spec, build(spec, "cuda", dtype))
    print(f"built {args.model} on {torch.cuda.get_device_name()} in {time.perf_counter() - t0:.0f}s", flush=True)
    attention = args.attention or pick_attention()
    tuned = {"weights": "-", "attention_backend": attention, "compile": not args.no_compile}
    settings: list[tuple[str, dict[str, Any] | None]] = [("stock", None), ("kinema", tuned)]
    if args.cache:
        settings.append(("kinema+cache", {"weights": "-", "cache": {"type": "first_block", "threshold": 0.05}}))
    results: list[Result] = []
    for setting, options in settings:
        if options is not None:
            # the engine's code path; applied cumulatively, each row adds to the last
            apply_speedups(pipe, parse_options(options), device="cuda", dtype=dtype, steps=args.steps)
        for label, size in sizes.items():
            timed_call(pipe, size, args.warmup_steps)  # compile, autotune, allocator warm-up
            step, e2e = timed_call(pipe, size, args.steps)
            overhead = max(0.0, e2e - step * args.steps)
            result = Result(setting, label, step, e2e, args.steps, overhead + step * spec.default_steps)
            if setting.endswith("cache"):
                result.notes.append("random weights: cache skip rate not representative")
            results.append(result)
            print(f"  {setting:13s} {label}: {step:7.2f} s/step, {e2e:7.1f} s end to end", flush=True)
    print(f"attention backend: {attention}; compile: {not args.no_compile}; peak memory "
          f"{torch.cuda.max_memory_allocated() / 2**30:.1f} GiB")
    return results


def table(model: str, spec: Spec, results: list[Result]) -> str:
    base = {r.size: r for r in results if r.setting == "stock"}
    head = (
        f"| model | size | setting | s/step | end to end ({results[0].steps} steps) "
        f"| projected ({spec.default_steps} steps) | step speed-up | e2e speed-up |"
    )
    rows = [head, "|" + "---|" * 8]
    for r in results:
        b = base[r.size]
        w, h, f = SIZES[r.size]
        rows.append(
            f"| {model} | {w}x{h}x{f} | {r.setting} | {r.step_s:.2f} | {r.e2e_s:.1f} s "
            f"| {r.projected_s:.0f} s | {b.step_s / r.step_s:.2f}x | {b.projected_s / r.projected_s:.2f}x |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=sorted(SPECS), required=True)
    parser.add_argument("--dry-run", action="store_true", help="build configs on the meta device; no GPU")
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=list(SIZES))
    parser.add_argument("--steps", type=int, default=8, help="timed denoising steps per run")
    parser.add_argument("--warmup-steps", type=int, default=2)
    parser.add_argument("--attention", help="attention backend for the kinema row (default: best found)")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--cache", action="store_true", help="add a first-block-cache row")
    args = parser.parse_args(argv)
    spec = SPECS[args.model]
    if args.dry_run:
        dry_run(args.model, spec)
        return 0
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: nothing to benchmark (use --dry-run to check the configs on CPU)")
        return 0
    results = run(args, spec)
    print()
    print(table(args.model, spec, results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
