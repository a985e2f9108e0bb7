"""A typed client for any Kling-compatible image2video API (kinema's, or Kling's own).

    from kinema.client import Client
    with Client("http://127.0.0.1:8000", api_key="...") as kling:
        task = kling.image2video("photo.jpg", prompt="slow push in", camera={"zoom": 5})
        task = kling.wait(task, on_progress=lambda t: print(t.status, t.progress))
        kling.download(task, "out.mp4")
"""

from kinema.client.aio import AsyncClient
from kinema.client.auth import AccessKeyAuth, ApiKeyAuth
from kinema.client.body import CAMERA_AXES, CAMERA_PRESETS, image2video_body
from kinema.client.errors import (
    AccountError,
    AuthenticationError,
    ConnectionFailed,
    InvalidRequestError,
    KlingError,
    NotFoundError,
    PolicyError,
    RateLimitError,
    ServerError,
    TaskFailedError,
    WaitTimeout,
    error_for,
)
from kinema.client.models import Task, Video
from kinema.client.sync import Client

__all__ = [
    "AccessKeyAuth", "AccountError", "ApiKeyAuth", "AsyncClient", "AuthenticationError",
    "CAMERA_AXES", "CAMERA_PRESETS", "Client", "ConnectionFailed", "InvalidRequestError",
    "KlingError", "NotFoundError", "PolicyError", "RateLimitError", "ServerError", "Task",
    "TaskFailedError", "Video", "WaitTimeout", "error_for", "image2video_body",
]
