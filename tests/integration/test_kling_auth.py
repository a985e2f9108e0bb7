"""Auth failure codes, tenants, external_task_id and pagination on a keyed server."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.support.media import png_b64

IMG = png_b64(640, 360, seed=3)
SECRET = "sk-one-secret-0123456789abcdef-0123"


def token(iss: str = "ak-one", secret: str = SECRET, **claims: object) -> str:
    now = int(time.time())
    payload = {"iss": iss, "exp": now + 1800, "nbf": now - 5, **claims}
    return jwt.encode(payload, secret, algorithm="HS256", headers={"typ": "JWT"})


def create(srv, tok: str, **kw: object):
    with srv.client(tok) as c:
        return c.post("/v1/videos/image2video", json={"model_name": "kinema-motion", "image": IMG,
                                                       "prompt": "p", **kw})


@pytest.mark.parametrize("header, code, words", [
    (None, 1001, "empty"),
    ("", 1001, "empty"),
    ("Basic abc", 1002, "Bearer"),
    ("Bearer wrong-key", 1002, "unknown"),
    ("Bearer " + token(secret="not-the-secret-at-all-0123456789"), 1002, "signature"),
    ("Bearer " + token(iss="ak-nobody"), 1002, "unknown access key"),
    ("Bearer " + token(nbf=int(time.time()) + 600), 1003, "nbf"),
    ("Bearer " + token(exp=int(time.time()) - 10), 1004, "exp"),
    ("Bearer a.b.c", 1002, "malformed"),
], ids=["missing", "blank", "not-bearer", "bad-key", "bad-signature", "unknown-iss", "nbf", "exp",
        "garbage-jwt"])
def test_auth_failures(keyed_server, header, code, words) -> None:
    headers = {} if header is None else {"authorization": header}
    with keyed_server.client() as c:
        for method, path in (("post", "/v1/videos/image2video"), ("get", "/v1/videos/image2video"),
                             ("get", "/v1/videos/image2video/123")):
            r = c.request(method, path, headers=headers, json={"image": IMG})
            assert r.status_code == 401, r.text
            assert r.json()["code"] == code and words.lower() in r.json()["message"].lower(), r.json()


def test_bearer_and_jwt_both_work(keyed_server) -> None:
    for tok in ("key-a", token()):
        r = create(keyed_server, tok)
        assert r.status_code == 200 and r.json()["code"] == 0, r.text


def test_tenants_are_isolated(keyed_server) -> None:
    r = create(keyed_server, "key-a", external_task_id="iso-1")
    task_id = r.json()["data"]["task_id"]
    for other in ("key-b", token(), token(iss="ak-two", secret="sk-two-secret-0123456789abcdef-0123")):
        with keyed_server.client(other) as c:
            for ident in (task_id, "iso-1"):
                r = c.get(f"/v1/videos/image2video/{ident}")
                assert r.status_code == 404 and r.json()["code"] == 1203
            unknown = c.get("/v1/videos/image2video/999999999999999999")
            assert unknown.status_code == 404 and unknown.json()["message"].replace(
                "999999999999999999", "X") == r.json()["message"].replace("iso-1", "X")
            listed = c.get("/v1/videos/image2video", params={"pageSize": 500}).json()["data"]
            assert task_id not in {t["task_id"] for t in listed}
    # The same external id is free for another tenant.
    assert create(keyed_server, "key-b", external_task_id="iso-1").status_code == 200


def test_external_task_id_lookup_and_uniqueness(keyed_server) -> None:
    r = create(keyed_server, "key-a", external_task_id="ext-42")
    data = r.json()["data"]
    assert data["task_info"]["external_task_id"] == "ext-42"
    with keyed_server.client("key-a") as c:
        by_ext = c.get("/v1/videos/image2video/ext-42").json()["data"]
        assert by_ext["task_id"] == data["task_id"]
        by_query = c.get("/v1/videos/image2video", params={"external_task_id": "ext-42"}).json()["data"]
        assert by_query["task_id"] == data["task_id"]
    dup = create(keyed_server, "key-a", external_task_id="ext-42")
    assert dup.status_code == 400 and dup.json()["code"] == 1201
    assert dup.json()["message"].startswith("external_task_id:") and "already used" in dup.json()["message"]


def test_pagination_newest_first(keyed_server) -> None:
    tok = token(iss="ak-two", secret="sk-two-secret-0123456789abcdef-0123")
    ids = [create(keyed_server, tok, external_task_id=f"page-{i}").json()["data"]["task_id"] for i in range(5)]
    with keyed_server.client(tok) as c:
        pages = [c.get("/v1/videos/image2video", params={"pageNum": n, "pageSize": 2}).json()
                 for n in (1, 2, 3, 4)]
    assert all(p["code"] == 0 for p in pages)
    got = [t["task_id"] for p in pages for t in p["data"]]
    assert got == list(reversed(ids))
    assert [len(p["data"]) for p in pages] == [2, 2, 1, 0]
    first = pages[0]["data"][0]
    assert {"task_id", "task_status", "task_status_msg", "task_info", "created_at", "updated_at",
            "task_result"} <= first.keys()
    assert isinstance(first["created_at"], int) and first["created_at"] > 1_600_000_000_000
