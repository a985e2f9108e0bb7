"""A real kinema server in a subprocess on a free port, and a real callback receiver."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    data_dir: Path
    env: dict[str, str]
    log_path: Path

    def client(self, token: str | None = None, **kw: Any) -> httpx.Client:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kw)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def task_row(self, task_id: str) -> dict[str, Any]:
        """The stored row of a task, read straight from the server's database (any backend)."""
        from sqlalchemy import create_engine, text

        url = self.env.get("KINEMA_DATABASE_URL") or f"sqlite:///{self.data_dir / 'kinema.db'}"
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                row = dict(conn.execute(text("SELECT * FROM tasks WHERE id = :id"),
                                        {"id": task_id}).mappings().one())
        finally:
            engine.dispose()
        for key in ("request", "result"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
        return row

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_task(self, path: str, *, token: str | None = None, timeout: float = 120,
                  done: tuple[str, ...] = ("succeed", "failed", "succeeded",
                                           "TASK_STATUS_SUCCEED", "TASK_STATUS_FAILED")) -> dict:
        """Poll a query path until the task's status is terminal; returns the body."""
        deadline = time.monotonic() + timeout
        with self.client(token) as c:
            while time.monotonic() < deadline:
                body = c.get(path).json()
                status = (body.get("data") or {}).get("task_status") if "data" in body else (
                    body.get("status") or (body.get("task") or {}).get("status"))
                if status in done:
                    return body
                time.sleep(0.25)
        raise TimeoutError(f"task at {path} did not finish in {timeout}s:\n{self.log()[-3000:]}")


def start_server(tmp: Path, env: dict[str, str] | None = None, *, port: int | None = None,
                 data_dir: Path | None = None, args: tuple[str, ...] = (),
                 start_timeout: float = 60) -> Server:
    port = port or free_port()
    data_dir = data_dir or tmp / "data"
    full_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "KINEMA_DATA_DIR": str(data_dir),
        "KINEMA_ALLOW_PRIVATE_URLS": "1",
        "KINEMA_CALLBACK_BACKOFF": "0.2",
        "KINEMA_LEASE_SECONDS": "3",
        "KINEMA_LOG_LEVEL": "INFO",
        **(env or {}),
    }
    if os.environ.get("KINEMA_TEST_DATABASE_URL") and "KINEMA_DATABASE_URL" not in (env or {}):
        full_env["KINEMA_DATABASE_URL"] = os.environ["KINEMA_TEST_DATABASE_URL"]
    log_path = tmp / f"server-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kinema", "serve", "--port", str(port), *args],
        env=full_env, stdout=log_path.open("ab"), stderr=subprocess.STDOUT, cwd=tmp,
        start_new_session=True)
    server = Server(url=f"http://127.0.0.1:{port}", proc=proc, data_dir=data_dir,
                    env=full_env, log_path=log_path)
    deadline = time.monotonic() + start_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"server did not start:\n{server.log()}")


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A real HTTP server that records POSTs; it can fail the first N with HTTP 500."""

    fail_first: int = 0
    received: list[Received] = field(default_factory=list)
    attempts: int = 0

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 60) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.received)

    def close(self) -> None:
        self.httpd.shutdown()
