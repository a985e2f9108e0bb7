"""What every dialect shares: body parsing with field-naming errors, and URL signing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kinema.errors import InvalidParameter, InvalidRequest

M = TypeVar("M", bound=BaseModel)

# storage key -> (url, ttl seconds)
UrlSigner = Callable[[str], tuple[str, int]]

# A router's pass-through URL expires when the upstream says; its TTL is not known, so claim
# no more than an hour.
PASSTHROUGH_TTL = 3600


def video_link(sign: UrlSigner, key: str | None, url: str | None = None) -> tuple[str, int]:
    """A stored file's signed URL, or the upstream URL a router passed through."""
    if url:
        return url, PASSTHROUGH_TTL
    return sign(key or "")


def parse_body(model: type[M], body: Any) -> M:
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = ".".join(_loc(part) for part in err["loc"] if not str(part).startswith("function-"))
        loc = loc.replace(".[", "[")
        raise InvalidParameter(loc or "body", _rule(err)) from None


def _loc(part: object) -> str:
    return f"[{part}]" if isinstance(part, int) else str(part)


def _rule(err: Any) -> str:
    msg = str(err["msg"])
    msg = msg.removeprefix("Value error, ")
    return msg[0].lower() + msg[1:] if msg else "is invalid"


def duration_seconds(value: Any) -> Any:
    """Accept 5, 5.0, "5" and "5.0" alike (clients send every form)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return int(value) if float(value).is_integer() else value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else value
    return value
