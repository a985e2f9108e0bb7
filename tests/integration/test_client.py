"""kinema.client against a live kinema server: both auth modes, progress, download, typed errors."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import jwt
import pytest
from PIL import Image

from kinema.client import (
    AsyncClient,
    AuthenticationError,
    Client,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    Task,
    WaitTimeout,
)
from tests.support.media import decode, encode, psnr, textured
from tests.support.server import Server

AK, SK = "ak-one", "sk-one-secret-0123456789abcdef-0123"
# The fixture's secret is 30 bytes; PyJWT's advice about 32 is not what these tests are about.
pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is")


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "start.png"
    path.write_bytes(encode(textured(640, 360, seed=3)))
    return path


def test_api_key_create_wait_with_progress_and_download(keyed_server: Server, png: Path,
                                                       tmp_path: Path) -> None:
    seen: list[tuple[str, int]] = []
    with Client(keyed_server.url, api_key="key-a", poll_interval=0.1) as kling:
        task = kling.image2video(png, prompt="slow push in", model="kinema-motion",
                                 camera={"zoom": 5})
        assert task.status == "submitted" and task.id
        done = kling.wait(task, timeout=120, on_progress=lambda t: seen.append((t.status, t.progress)))
        path = kling.download(done, tmp_path / "out.mp4")

    assert done.succeeded and done.progress == 100 and len(done.videos) == 1
    assert seen[-1] == ("succeed", 100)
    assert len(seen) == len(set(seen)), "on_progress runs only when something changed"
    percents = [p for _, p in seen]
    assert percents == sorted(percents), f"progress went backwards: {seen}"
    assert any(s == "processing" and 0 < p < 100 for s, p in seen), \
        f"the server's task_progress never showed through: {seen}"
    video = decode(path)
    assert (video.width, video.height, round(video.fps), video.count) == (1280, 720, 24, 120)
    # zoom 5 magnifies: the last frame is no longer the first
    assert psnr(video.frames[0], video.frames[-1]) < 25


def test_access_key_jwt_pil_input_lookup_and_tenancy(keyed_server: Server) -> None:
    image = Image.fromarray(textured(480, 480, seed=4))
    external = f"ext-{time.time_ns()}"
    with Client(keyed_server.url, access_key=AK, secret_key=SK, poll_interval=0.1) as kling:
        token = kling.auth.token()  # type: ignore[union-attr]
        claims = jwt.decode(token, SK, algorithms=["HS256"])
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
        assert claims["iss"] == AK and claims["exp"] - time.time() > 1700
        assert claims["nbf"] <= time.time() - 4

        task = kling.image2video(image, model="kinema-motion", external_task_id=external)
        assert task.external_task_id == external
        by_external = kling.get(external_task_id=external)
        assert by_external.id == task.id
        done = kling.wait(task.id, timeout=120)
        assert [t.id for t in kling.list(1, 50)].count(task.id) == 1
        assert done.videos[0].url.startswith(keyed_server.url)

    with Client(keyed_server.url, api_key="key-a") as other:
        assert task.id not in [t.id for t in other.list(1, 100)]
        with pytest.raises(NotFoundError) as err:
            other.get(task.id)
        assert err.value.code == 1203 and err.value.http_status == 404


def test_jwt_is_refreshed_before_it_expires(keyed_server: Server) -> None:
    with Client(keyed_server.url, access_key=AK, secret_key=SK) as kling:
        kling.auth.ttl = 2  # type: ignore[union-attr]
        first = kling.auth.token()  # type: ignore[union-attr]
        kling.list(1, 1)
        time.sleep(2.2)  # the first token has expired now: the server would answer 1004
        kling.list(1, 1)
        assert kling.auth.token() != first  # type: ignore[union-attr]

    expired = jwt.encode({"iss": AK, "exp": int(time.time()) - 10, "nbf": int(time.time()) - 60}, SK)
    with Client(keyed_server.url, api_key=expired) as stale, pytest.raises(AuthenticationError) as err:
        stale.list()
    assert err.value.code == 1004


def test_async_client_round_trip(keyed_server: Server, png: Path, tmp_path: Path) -> None:
    async def run() -> tuple[Task, list[int], Path]:
        percents: list[int] = []

        async def progress(task: Task) -> None:
            percents.append(task.progress)

        async with AsyncClient(keyed_server.url, api_key="key-b", poll_interval=0.1) as kling:
            task = await kling.image2video(png.read_bytes(), model="kinema-motion",
                                           camera="forward_up")
            done = await kling.wait(task, timeout=120, on_progress=progress)
            listed = await kling.list(1, 10)
            assert task.id in [t.id for t in listed]
            return done, percents, await kling.download(done, tmp_path)

    done, percents, path = asyncio.run(run())
    assert done.succeeded and percents[-1] == 100
    assert path == tmp_path / f"{done.id}.mp4"
    assert decode(path).count == 120


def test_typed_errors_for_bad_input_and_bad_key(keyed_server: Server, png: Path) -> None:
    with Client(keyed_server.url, api_key="nope") as bad, pytest.raises(AuthenticationError) as err:
        bad.image2video(png)
    assert (err.value.code, err.value.http_status, err.value.retryable) == (1002, 401, False)
    assert err.value.request_id

    with Client(keyed_server.url) as anonymous, pytest.raises(AuthenticationError) as err:
        anonymous.list()
    assert err.value.code == 1001

    with Client(keyed_server.url, api_key="key-a") as kling:
        with pytest.raises(InvalidRequestError) as err:
            kling.image2video(encode(textured(200, 120)))
        assert err.value.code == 1201 and "image" in err.value.message and "300" in err.value.message
        with pytest.raises(InvalidRequestError) as err:
            kling.image2video(png, model="kling-v9")
        assert err.value.code == 1201 and "model_name" in err.value.message
        with pytest.raises(InvalidRequestError) as err:
            kling.image2video(png, model="kinema-motion", camera={"zoom": 5, "pan": 2})
        assert "exactly one" in err.value.message
        with pytest.raises(NotFoundError):
            kling.get("123456789")
        with pytest.raises(FileNotFoundError):
            kling.image2video("no/such/image.png")
        task = kling.image2video(png, model="kinema-motion")
        with pytest.raises(WaitTimeout) as waited:
            kling.wait(task, timeout=0)
        assert waited.value.task.id == task.id


@pytest.mark.heavy
def test_retryable_1303_is_retried_with_backoff(start, png: Path) -> None:  # type: ignore[no-untyped-def]
    srv = start({"KINEMA_MAX_ACTIVE_TASKS": "1", "KINEMA_WORKERS": "1"})
    with Client(srv.url, retries=0) as once, Client(srv.url, retries=60, backoff=0.2,
                                                              max_delay=0.5) as patient:
        first = once.image2video(png, model="kinema-motion")
        with pytest.raises(RateLimitError) as err:
            once.image2video(png, model="kinema-motion")
        assert (err.value.code, err.value.http_status, err.value.retryable) == (1303, 429, True)
        started = time.monotonic()
        second = patient.image2video(png, model="kinema-motion")  # retried until `first` ends
        waited = time.monotonic() - started
        assert once.get(first.id).done, "the retry only got through once the first task ended"
        assert waited > 0.2
        assert patient.wait(second, timeout=120).succeeded
