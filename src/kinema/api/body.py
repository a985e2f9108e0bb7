"""Reading a JSON body under a size cap, without trusting Content-Length."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from kinema.errors import InvalidRequest


async def read_json(request: Request) -> Any:
    cap: int = request.app.state.settings.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise InvalidRequest(f"request body is larger than {cap} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise InvalidRequest(f"request body is larger than {cap} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks) or b"null")
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("request body is not valid JSON") from None
