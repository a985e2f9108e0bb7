"""The README's quick start, run as written against a live server (only the port and the
venv's python are swapped), down to a decoded MP4."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import httpx
import pytest

from tests.support.media import decode
from tests.support.server import ROOT, Server


def quick_start() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Quick start: the Kling API\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert blocks[0].strip() == "make run"
    create = [line for line in blocks[1].splitlines() if not line.startswith("curl -s http://127.0.0.1:8000"
                                                                              "/v1/videos/image2video/")]
    return "\n".join(line for line in create if not line.startswith("curl -s -o"))


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_quick_start_makes_the_promised_video(server: Server, tmp_path) -> None:
    script = quick_start().replace("http://127.0.0.1:8000", server.url).replace(".venv/bin/python",
                                                                                 sys.executable)
    out = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    created = json.loads(out.stdout.strip().splitlines()[-1])
    assert created["code"] == 0 and created["data"]["task_id"].isdigit()
    body = server.wait_task(f"/v1/videos/image2video/{created['data']['task_id']}", timeout=60)
    video = body["data"]["task_result"]["videos"][0]
    mp4 = decode(httpx.get(video["url"], timeout=30).content)
    assert (mp4.width, mp4.height, mp4.fps, mp4.count) == (1280, 720, 30, 150)
