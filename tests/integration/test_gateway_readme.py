"""The README's Dialects section: every bash example runs as written against a live server
(only the address is swapped for the test server's)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest
from PIL import Image

from tests.support.media import b64
from tests.support.server import ROOT, Server


def dialect_examples() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Dialects\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, flags=re.S)


def quick_start_image() -> str:
    """The quick start's $IMG: its 640x360 PNG (small enough for a curl argument)."""
    assert "Image.effect_mandelbrot((640, 360), (-2.2, -1, 1, 1), 200)" in (ROOT / "README.md").read_text()
    buf = io.BytesIO()
    Image.effect_mandelbrot((640, 360), (-2.2, -1, 1, 1), 200).convert("RGB").save(buf, "PNG")
    return b64(buf.getvalue())


def run(server: Server, script: str) -> str:
    script = script.replace("http://127.0.0.1:8000", server.url)
    env = {**server.env, "IMG": quick_start_image()}
    out = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True,
                         text=True, timeout=240)
    assert out.returncode == 0, (script, out.stdout, out.stderr)
    return out.stdout


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_every_dialect_example_works_as_written(server: Server) -> None:
    examples = dialect_examples()
    assert len(examples) == 5
    gateway, kling_body, v3, webhook, models = (run(server, e) for e in examples)
    done = json.loads(gateway)
    assert done["status"] == "succeeded" and len(done["videos"]) == 2
    assert done["metadata"] == {"duration": 5, "fps": 24, "width": 640, "height": 360, "seed": 7}
    assert json.loads(kling_body)["data"]["task_status"] == "submitted"
    result = json.loads(v3)
    assert result["task"]["status"] == "TASK_STATUS_SUCCEED" and result["videos"][0]["video_url_ttl"]
    created, refused = webhook.strip().split("\n")
    assert "task_id" in json.loads(created)
    assert refused.endswith(" HTTP 400") and '"field":"guidance_scale"' in refused
    assert '"model": "kinema-motion"' in models
