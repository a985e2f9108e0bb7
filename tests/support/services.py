"""Throwaway PostgreSQL and redis-server instances for tests (real servers, free ports).

Both are installed from Debian packages by .ci/run; where the binaries are missing the
fixtures skip with the reason. PostgreSQL's initdb refuses to run as root, so as root the
cluster is made and run by the `postgres` system user."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import free_port


def _pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_pg_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


@dataclass
class Postgres:
    bin: Path
    data: Path
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = f"k_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(f"postgresql://{self.user}@127.0.0.1:{self.port}/postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(_as_pg_user([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                                    "stop"]), capture_output=True, check=False)


def start_postgres() -> Postgres:
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not found; apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="kinema-pg-"))
    root.chmod(0o755)
    data, sock = root / "data", root / "sock"
    data.mkdir()
    sock.mkdir()
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    if os.geteuid() == 0:
        for path in (root, data, sock):
            shutil.chown(path, "postgres", "postgres")
    subprocess.run(_as_pg_user([str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust",
                                "--no-sync", "-E", "UTF8"]), check=True, capture_output=True)
    port = free_port()
    opts = (f"-p {port} -k {sock} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
    subprocess.run(_as_pg_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                                "-o", opts, "-w", "-t", "60", "start"]), check=True, capture_output=True)
    return Postgres(bin=bin_dir, data=data, port=port, user=user)


@dataclass
class Redis:
    port: int
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary
        self.log = self.log or Path(tempfile.mkdtemp(prefix="kinema-redis-")) / "redis.log"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.log.parent)],
            stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
        import redis

        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """A hard stop: nothing is saved, so every queued message is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


def start_redis() -> Redis:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not found; apt-get install redis-server")
    server = Redis(port=free_port())
    server.start()
    return server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    pg = start_postgres()
    yield pg
    pg.stop()
    shutil.rmtree(pg.data.parent, ignore_errors=True)


@pytest.fixture
def redis_server() -> Iterator[Redis]:
    server = start_redis()
    yield server
    server.stop()


@dataclass
class Worker:
    """A real `kinema worker` process (Celery consumer with a broker)."""

    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)  # the whole process group: nothing survives a SIGKILL
            self.proc.wait(timeout=30)


def start_worker(tmp: Path, env: dict[str, str], *args: str, ready: bool = True) -> Worker:
    """Start `python -m kinema worker ARGS` with `env` on top of the test server's defaults."""
    from tests.support.server import ROOT

    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "KINEMA_ALLOW_PRIVATE_URLS": "1",
                "KINEMA_CALLBACK_BACKOFF": "0.2", "KINEMA_LEASE_SECONDS": "3", **env}
    tmp.mkdir(parents=True, exist_ok=True)
    log_path = tmp / f"worker-{uuid.uuid4().hex[:6]}.log"
    proc = subprocess.Popen([sys.executable, "-m", "kinema", "worker", *args], env=full_env,
                            stdout=log_path.open("ab"), stderr=subprocess.STDOUT, cwd=tmp,
                            start_new_session=True)
    worker = Worker(proc, log_path)
    deadline = time.monotonic() + 60
    while ready and time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with {proc.returncode}:\n{worker.log()}")
        if " ready." in worker.log():
            return worker
        time.sleep(0.1)
    if ready:
        worker.kill()
        raise RuntimeError(f"worker did not start:\n{worker.log()}")
    return worker
