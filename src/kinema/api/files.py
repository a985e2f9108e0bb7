"""Serving local files behind signed, expiring URLs (with HTTP Range support)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from kinema.api.context import services
from kinema.errors import AuthInvalid, NotFound
from kinema.storage import LocalStorage

router = APIRouter(tags=["files"])


@router.get("/files/{key:path}")
async def get_file(key: str, request: Request, expires: str = Query(""),
                   sig: str = Query("")) -> FileResponse:
    storage = services(request).storage
    if not isinstance(storage, LocalStorage):
        raise NotFound("files are served by the object store")
    if not storage.verify(key, expires, sig):
        raise AuthInvalid("the file URL is invalid or has expired")
    try:
        path = storage.path(key)
    except ValueError:
        raise NotFound("no such file") from None
    if not path.is_file():
        raise NotFound("no such file")
    media = "video/mp4" if key.endswith(".mp4") else "application/octet-stream"
    return FileResponse(path, media_type=media)
