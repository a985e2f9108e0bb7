"""The playground in a real browser (Debian's Chromium via Playwright) against a live server.

What the page sends is checked where it lands: the task's stored request in the server's
database and the mask images in its storage."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from tests.support.server import ROOT, Server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(os.environ.get("KINEMA_ARTIFACTS", ROOT / "artifacts")) / "playground"
W, H = 640, 360

pytestmark = [
    pytest.mark.browser, pytest.mark.heavy,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                       "(apt-get install chromium; .ci/run installs it)"),
]


def landscape(width: int = W, height: int = H) -> Image.Image:
    """A small picture with a sky, a sun and hills: something worth animating."""
    y = np.linspace(0, 1, height)[:, None, None]
    sky = (1 - y) * np.array([90, 140, 220]) + y * np.array([250, 200, 160])
    img = Image.fromarray(np.broadcast_to(sky, (height, width, 3)).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    draw.ellipse((width * 0.62, height * 0.12, width * 0.74, height * 0.33), fill=(255, 236, 170))
    draw.polygon([(0, height * 0.7), (width * 0.3, height * 0.45), (width * 0.55, height * 0.68),
                  (width * 0.8, height * 0.5), (width, height * 0.66), (width, height), (0, height)],
                 fill=(52, 110, 72))
    draw.polygon([(0, height * 0.85), (width * 0.4, height * 0.7), (width, height * 0.88),
                  (width, height), (0, height)], fill=(34, 80, 50))
    return img.filter(ImageFilter.GaussianBlur(1))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def start_png(tmp_path: Path) -> Path:
    path = tmp_path / "landscape.png"
    landscape().save(path)
    return path


def open_page(browser: Any, server: Server, width: int = 1280, height: int = 800) -> Any:
    page = browser.new_page(viewport={"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    page.goto(server.url + "/")
    page.fill("#api-key", "key-a")
    page.dispatch_event("#api-key", "change")
    return page


def load_image(page: Any, path: Path) -> None:
    page.set_input_files("#image-input", str(path))
    page.wait_for_selector("#stage:not([hidden])")
    assert page.text_content("#image-info").endswith(f"{W}×{H}")


def drag(page: Any, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drag through fractions of the stage; returns the points in image pixels (top-left origin)."""
    stage = page.locator("#stage")
    stage.scroll_into_view_if_needed()
    box = stage.bounding_box()
    screen = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*screen[0])
    page.mouse.down()
    for x, y in screen[1:]:
        page.mouse.move(x, y, steps=12)
    page.mouse.up()
    return [((sx - box["x"]) * W / box["width"], (sy - box["y"]) * H / box["height"])
            for sx, sy in screen]


WATCH_PILLS = """() => { window.pills = [];
  new MutationObserver(() => document.querySelectorAll('#task-list .pill')
    .forEach((p) => window.pills.push(p.textContent)))
    .observe(document.querySelector('#task-list'), {subtree: true, childList: true, characterData: true});
}"""


def submit(page: Any) -> str:
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/v1/videos/image2video")) as reply:
        page.click("#submit")
    body = reply.value.json()
    assert body["code"] == 0, body
    return str(body["data"]["task_id"])


def wait_for_video(page: Any, task_id: str) -> Any:
    card = page.locator(f'li.task[data-task-id="{task_id}"]')
    card.locator("video").wait_for(timeout=120_000)
    assert card.get_attribute("data-status") == "succeed"
    # the browser fetched the MP4 and decoded a frame of it, so it plays inline
    page.wait_for_function(f'document.querySelector(\'li[data-task-id="{task_id}"] video\')'
                           '.readyState >= 2', timeout=30_000)
    src = card.locator("video").get_attribute("src")
    assert src and "/files/videos/" in src
    assert card.locator("a[download]").get_attribute("href") == src
    return card


def stored(server: Server, task_id: str) -> dict[str, Any]:
    return server.task_row(task_id)["request"]


def stored_mask(server: Server, task_id: str, slot: str) -> np.ndarray:
    folder = stored(server, task_id)["input_dir"]
    data = (server.data_dir / "files" / "inputs" / folder / slot).read_bytes()
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def shot(page: Any, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def test_motion_brush_region_and_trajectory_reach_the_api(browser: Any, keyed_server: Server,
                                                          start_png: Path) -> None:
    page = open_page(browser, keyed_server)
    load_image(page, start_png)
    page.fill("#prompt", "the hill drifts right, clouds roll")
    page.click('[data-control="brush"]')
    page.fill("#brush-size", "30")
    painted = drag(page, [(0.20, 0.62), (0.32, 0.62)])
    page.click('[data-tool="path"]')
    path = drag(page, [(0.26, 0.62), (0.40, 0.50), (0.55, 0.40)])
    page.click('[data-region="6"]')  # the static brush
    page.click('[data-tool="paint"]')
    still = drag(page, [(0.85, 0.2), (0.9, 0.2)])
    assert "✓" in page.text_content('[data-region="0"]')
    shot(page, "brush.png")

    page.evaluate(WATCH_PILLS)
    task_id = submit(page)
    wait_for_video(page, task_id)
    seeked = page.evaluate(f"""() => new Promise((done) => {{
        const v = document.querySelector('li[data-task-id="{task_id}"] video');
        v.addEventListener('seeked', () => done(v.currentTime), {{once: true}});
        v.currentTime = 4; }})""")
    assert seeked > 3.5  # the video can be scrubbed: the browser decodes the whole file
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "brush-done.png")
    pills = page.evaluate("window.pills")
    assert "submitted" in pills and pills[-1] == "succeed"
    assert any(p.startswith("processing ") and p.endswith("%") for p in pills), pills
    assert not page.errors

    req = stored(keyed_server, task_id)
    assert set(req["inputs"]) == {"image", "mask_0", "static_mask"}
    assert req["camera"] is None and req["model"] == "kinema-motion"
    (trajectory,) = req["trajectories"]
    assert 2 <= len(trajectory) <= 77
    (x0, y0), (x1, y1) = trajectory[0], trajectory[-1]
    # image pixels with the origin at the bottom-left: the drag went up the screen, so y grows
    assert abs(x0 - path[0][0]) <= 2 and abs(y0 - (H - path[0][1])) <= 2
    assert abs(x1 - path[-1][0]) <= 2 and abs(y1 - (H - path[-1][1])) <= 2
    assert y1 > y0 + 50
    ys = [y for _, y in trajectory]
    assert ys == sorted(ys), "the stored trajectory follows the drawn path"

    mask = stored_mask(keyed_server, task_id, "mask_0")
    assert mask.shape == (H, W)
    assert set(np.unique(mask)) <= set(range(256)) and mask.max() == 255
    for x, y in painted + [((painted[0][0] + painted[1][0]) / 2, painted[0][1])]:
        assert mask[round(y), round(x)] > 200, "the painted stroke is white in the mask"
    assert mask[10, 10] == 0 and mask[H - 10, W - 10] == 0
    covered = mask > 127
    rows, cols = np.nonzero(covered)
    assert abs(rows.mean() - painted[0][1]) < 4, "the mask is not flipped: rows count from the top"
    assert painted[0][0] - 20 < cols.min() and cols.max() < painted[1][0] + 20
    static = stored_mask(keyed_server, task_id, "static_mask")
    assert static[round(still[0][1]), round(still[0][0])] == 255 and static[300, 100] == 0


def test_camera_slider_and_preset_reach_the_api(browser: Any, keyed_server: Server,
                                                start_png: Path) -> None:
    page = open_page(browser, keyed_server)
    load_image(page, start_png)
    page.click('[data-control="camera"]')
    page.fill("#cam-zoom", "5")
    page.fill("#cam-pan", "-3")  # only one axis may be non-zero: zoom goes back to 0
    assert page.input_value("#cam-zoom") == "0" and page.input_value("#cam-pan") == "-3"
    shot(page, "camera.png")
    task_id = submit(page)
    assert stored(keyed_server, task_id)["camera"] == {
        "type": "simple", "horizontal": 0.0, "vertical": 0.0, "pan": -3.0, "tilt": 0.0,
        "roll": 0.0, "zoom": 0.0}
    wait_for_video(page, task_id)

    page.click('[data-preset="forward_up"]')
    preset_id = submit(page)
    camera = stored(keyed_server, preset_id)["camera"]
    assert camera["type"] == "forward_up" and not any(v for k, v in camera.items() if k != "type")
    wait_for_video(page, preset_id)
    assert not page.errors


def test_phone_layout_submits_and_plays(browser: Any, keyed_server: Server, start_png: Path) -> None:
    page = open_page(browser, keyed_server, 390, 844)
    load_image(page, start_png)
    page.fill("#prompt", "gentle breeze")
    page.click('[data-control="camera"]')
    page.click('[data-preset="down_back"]')
    task_id = submit(page)
    wait_for_video(page, task_id)
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a phone"
    stage = page.locator("#stage").bounding_box()
    assert stage["width"] <= 390 and stage["width"] > 300
    page.evaluate("window.scrollTo(0, 0)")
    shot(page, "phone.png", full_page=True)
    assert not page.errors


def test_bad_key_shows_the_kling_error(browser: Any, keyed_server: Server, start_png: Path) -> None:
    page = open_page(browser, keyed_server)
    page.fill("#api-key", "wrong-key")
    page.dispatch_event("#api-key", "change")
    load_image(page, start_png)
    page.click("#submit")
    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error").startswith("Error 1002:")
    assert "need" in (page.get_attribute("#key-box", "class") or "")
