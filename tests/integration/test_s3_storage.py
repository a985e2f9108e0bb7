"""S3-compatible storage against a real S3 server (moto in server mode): the worker uploads
through boto3 and the API returns presigned GET URLs whose TTL shows in video_url_ttl."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.support.media import decode, png_b64
from tests.support.server import free_port, start_server

AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
       "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server_mod = pytest.importorskip("moto.server", reason="moto[server] is in the dev extra")
    for key, value in AWS.items():
        monkeypatch.setenv(key, value)
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_videos_go_to_s3_and_presigned_urls_download(tmp_path: Path, s3_endpoint: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="kinema-test")
    models = tmp_path / "models.toml"
    models.write_text('[models."kinema-small"]\nbase = "kinema-motion"\n'
                      'resolution = {std = 360, pro = 360}\n')
    srv = start_server(tmp_path, {**AWS, "KINEMA_STORAGE_URL": "s3://kinema-test/outputs",
                                  "KINEMA_S3_ENDPOINT_URL": s3_endpoint, "KINEMA_URL_TTL": "900",
                                  "KINEMA_MODELS_FILE": str(models)})
    try:
        with srv.client() as c:
            created = c.post("/v3/async/kinema-small", json={
                "image": png_b64(480, 360, seed=3), "prompt": "slow push in"}).json()
        assert "task_id" in created, created
        result = srv.wait_task(f"/v3/async/task-result?task_id={created['task_id']}")
        assert result["task"]["status"] == "TASK_STATUS_SUCCEED", result
        video = result["videos"][0]
        assert video["video_url_ttl"] == "900"
        url = urlsplit(video["video_url"])
        assert url.netloc == urlsplit(s3_endpoint).netloc
        assert url.path == f"/kinema-test/outputs/videos/{created['task_id']}/0.mp4"
        assert parse_qs(url.query)["X-Amz-Expires"] == ["900"]

        download = httpx.get(video["video_url"], timeout=30)
        assert download.status_code == 200
        decoded = decode(download.content)
        assert (decoded.height, decoded.count) == (360, 120)
        # The upload is the object in the bucket, and the inputs went there too.
        keys = {o["Key"] for o in s3.list_objects_v2(Bucket="kinema-test")["Contents"]}
        assert f"outputs/videos/{created['task_id']}/0.mp4" in keys
        assert any(k.startswith("outputs/inputs/") and k.endswith("/image") for k in keys), keys
        # Without the signature the object is not public.
        unsigned = httpx.get(f"{s3_endpoint}{url.path}", timeout=30)
        assert unsigned.status_code == 403
        # Nothing was written to local files.
        assert not (srv.data_dir / "files" / "videos").exists()
    finally:
        srv.kill()
