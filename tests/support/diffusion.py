"""Tiny, randomly initialised diffusers pipelines saved to disk, for CPU tests.

Component sizes follow diffusers' own fast tests (tests/pipelines/wan/
test_wan_image_to_video.py, tests/pipelines/ltx/test_ltx_condition.py); the text
encoder is a local tiny T5 and the tokenizer a word-level one built in memory, so
nothing is fetched from a hub.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

WORDS = [
    "a", "the", "cat", "dog", "runs", "walks", "in", "on", "park", "beach", "slowly", "quickly",
    "camera", "zoom", "dance", "monkey",
]


def tiny_text_encoder() -> tuple[Any, Any]:
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel

    torch.manual_seed(0)
    config = T5Config(
        vocab_size=1103, d_model=32, d_ff=37, d_kv=8, num_heads=4, num_layers=5,
        relative_attention_num_buckets=8, feed_forward_proj="relu",
        initializer_factor=0.002, pad_token_id=0, eos_token_id=1,
    )
    text_encoder = T5EncoderModel(config).eval()
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{w: i + 3 for i, w in enumerate(WORDS)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>"
    )
    return text_encoder, tokenizer


def build_wan_i2v(folder: Path, *, flf: bool = False) -> Path:
    """Wan2.1 I2V (or FLF2V: a transformer with pos_embed_seq_len) at 32x32."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    text_encoder, tokenizer = tiny_text_encoder()
    clip_size = 4 if flf else 32
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36,
        out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
        image_dim=4, pos_embed_seq_len=2 * (clip_size * clip_size + 1) if flf else None,
    )
    torch.manual_seed(0)
    image_encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2,
            image_size=clip_size, intermediate_size=16, patch_size=1,
        )
    )
    pipe = WanImageToVideoPipeline(
        transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0),
        text_encoder=text_encoder, tokenizer=tokenizer, image_encoder=image_encoder,
        image_processor=CLIPImageProcessor(crop_size=clip_size, size=clip_size),
    )
    pipe.save_pretrained(folder)
    return folder


def build_ltx_condition(folder: Path) -> Path:
    """LTXConditionPipeline whose VAE compresses time 8x (so the 8k+1 rule holds)."""
    import torch
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXConditionPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=4,
        attention_head_dim=8, cross_attention_dim=32, num_layers=1, caption_channels=32,
    )
    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8,
        block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False), upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False,
    )
    vae.use_framewise_encoding = False
    vae.use_framewise_decoding = False
    text_encoder, tokenizer = tiny_text_encoder()
    pipe = LTXConditionPipeline(
        transformer=transformer, vae=vae, scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder, tokenizer=tokenizer,
    )
    pipe.save_pretrained(folder)
    return folder


def build_wan_ti2v(folder: Path) -> Path:
    """Wan2.2 TI2V-5B in miniature: 16x VAE with 2x2 patchify, expand_timesteps, no CLIP.

    Saved under `WanPipeline`, as the published TI2V checkpoint's model_index.json names
    it, so the loader's text-to-video -> image-to-video class rule is exercised.
    """
    import json

    import torch
    from diffusers import (
        AutoencoderKLWan,
        UniPCMultistepScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=48, in_channels=12, out_channels=12, is_residual=True, patch_size=2,
        latents_mean=[0.0] * 48, latents_std=[1.0] * 48, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
        scale_factor_spatial=16, scale_factor_temporal=4, temperal_downsample=[False, True, True],
    )
    text_encoder, tokenizer = tiny_text_encoder()
    torch.manual_seed(0)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=48,
        out_channels=48, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2,
        cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
    )
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    pipe = WanImageToVideoPipeline(
        transformer=transformer, vae=vae, scheduler=scheduler, text_encoder=text_encoder,
        tokenizer=tokenizer, expand_timesteps=True,
    )
    pipe.save_pretrained(folder)
    index_path = folder / "model_index.json"
    index = json.loads(index_path.read_text())
    index["_class_name"] = "WanPipeline"
    index_path.write_text(json.dumps(index, indent=2))
    return folder


def build_wan22_a14b(folder: Path) -> Path:
    """Wan2.2 I2V A14B in miniature: two experts switched at boundary_ratio, no CLIP."""
    import torch
    from diffusers import (
        AutoencoderKLWan,
        FlowMatchEulerDiscreteScheduler,
        WanImageToVideoPipeline,
        WanTransformer3DModel,
    )

    torch.manual_seed(0)
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
        temperal_downsample=[False, True, True],
    )
    text_encoder, tokenizer = tiny_text_encoder()
    experts = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        experts.append(
            WanTransformer3DModel(
                patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=36,
                out_channels=16, text_dim=32, freq_dim=256, ffn_dim=32, num_layers=2,
                cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
            )
        )
    pipe = WanImageToVideoPipeline(
        transformer=experts[0], transformer_2=experts[1], vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder=text_encoder,
        tokenizer=tokenizer, boundary_ratio=0.875,
    )
    pipe.save_pretrained(folder)
    return folder
