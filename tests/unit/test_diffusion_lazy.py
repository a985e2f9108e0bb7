"""With no diffusion model configured, start-up never imports torch, diffusers or transformers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
from kinema.api.app import build_runtime
from kinema.cli import app  # noqa: F401  (what `kinema serve` imports)
from kinema.engines import registry  # noqa: F401
from kinema.engines.diffusion import frames  # noqa: F401  (the package itself is light)
from kinema.settings import Settings
build_runtime(Settings())
print(json.dumps(sorted(m for m in ("torch", "diffusers", "transformers") if m in sys.modules)))
"""


def test_default_runtime_imports_no_diffusion_stack(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KINEMA_DATA_DIR": str(tmp_path / "data")}
    env.pop("KINEMA_MODELS_FILE", None)
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
