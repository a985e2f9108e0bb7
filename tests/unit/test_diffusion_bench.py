"""The GPU benchmark's config half runs anywhere: real-size Wan configs on the meta device."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("diffusers")
pytest.importorskip("transformers")

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "bench_diffusion_gpu.py"


def _load() -> object:
    spec = importlib.util.spec_from_file_location("bench_diffusion_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("model", "billions"), [("wan21-i2v-14b", "16.395"), ("wan22-ti2v-5b", "5.000")])
def test_dry_run_builds_real_size_configs(model: str, billions: str, capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load()
    assert bench.main(["--model", model, "--dry-run"]) == 0  # type: ignore[attr-defined]
    out = capsys.readouterr().out
    assert f"transformer {billions} B parameters" in " ".join(out.split())
    assert "1280x704 x 121 frames" in out and "832x480 x 81 frames" in out
