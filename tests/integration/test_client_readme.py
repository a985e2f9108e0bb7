"""The README's client example runs as written (only the server address is swapped in)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.support.media import decode, textured
from tests.support.server import ROOT, Server


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Client, CLI and playground", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "the client section has one Python example"
    return blocks[0]


def test_readme_client_example_works_as_written(server: Server, tmp_path: Path) -> None:
    code = readme_example()
    assert len(code.strip().splitlines()) <= 10
    assert '"http://127.0.0.1:8000"' in code
    Image.fromarray(textured(800, 450, seed=2)).save(tmp_path / "photo.jpg", quality=90)
    (tmp_path / "example.py").write_text(code.replace("http://127.0.0.1:8000", server.url))
    proc = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[-2] == "succeed 100" and lines[-1] == "out.mp4"
    video = decode(tmp_path / "out.mp4")
    assert (video.width, video.height, video.count) == (1280, 720, 120)
