"""Load-test the API: task creation and query against `kinema serve` (SQLite and PostgreSQL),
beside a bare FastAPI endpoint that returns a constant on the same machine.

    python bench/bench_api_load.py --clients 32 --seconds 30

Servers run with KINEMA_WORKERS=0 (no rendering), so the numbers are the API's own cost:
validation (decoding the image), storing the input, the database insert, and the reply.
The clients are httpx async clients split over --procs processes on the same machine."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.media import png_b64  # noqa: E402
from tests.support.server import free_port, start_server  # noqa: E402
from tests.support.services import start_postgres  # noqa: E402

BARE = """
from fastapi import FastAPI
import uvicorn
app = FastAPI()
@app.get("/const")
async def const():
    return {"code": 0, "message": "SUCCEED"}
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", access_log=False)
"""


async def _drive(url: str, kind: str, clients: int, seconds: float,
                 ids: list[str]) -> tuple[list[float], int]:
    body = {"model_name": "kling-v1", "image": png_b64(480, 360, seed=1), "prompt": "slow push in",
            "duration": "5"}
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def one(n: int) -> None:
            nonlocal errors
            i = n
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    if kind == "create":
                        r = await client.post("/v1/videos/image2video", json=body)
                    elif kind == "query":
                        r = await client.get(f"/v1/videos/image2video/{ids[i % len(ids)]}")
                    else:
                        r = await client.get("/const")
                except httpx.HTTPError:  # a reset connection counts as an error, not a crash
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if r.status_code != 200 or r.json().get("code") != 0:
                    errors += 1
                elif kind == "create" and len(ids) < 5000:
                    ids.append(r.json()["data"]["task_id"])
                i += clients

        await asyncio.gather(*(one(n) for n in range(clients)))
    return latencies, errors


def _worker(args: tuple[str, str, int, float, list[str]]) -> tuple[list[float], int, list[str]]:
    url, kind, clients, seconds, ids = args
    ids = list(ids)
    lat, err = asyncio.run(_drive(url, kind, clients, seconds, ids))
    return lat, err, ids


def load(url: str, kind: str, clients: int, seconds: float, procs: int,
         ids: list[str] | None = None) -> dict[str, float]:
    share = [clients // procs + (1 if p < clients % procs else 0) for p in range(procs)]
    with mp.get_context("spawn").Pool(procs) as pool:
        parts = pool.map(_worker, [(url, kind, n, seconds, ids or []) for n in share])
    lat = sorted(x for p in parts for x in p[0])
    if ids is not None and kind == "create":
        ids.extend(i for p in parts for i in p[2])

    def pct(q: float) -> float:
        return lat[min(len(lat) - 1, int(q * len(lat)))] * 1000 if lat else float("nan")

    return {"rps": len(lat) / seconds, "p50": pct(0.50), "p99": pct(0.99), "n": len(lat),
            "errors": sum(p[1] for p in parts)}


def bench_kinema(label: str, env: dict[str, str], args: argparse.Namespace) -> dict[str, object]:
    tmp = Path(tempfile.mkdtemp(prefix=f"kinema-bench-{label}-"))
    srv = start_server(tmp, {"KINEMA_WORKERS": "0", "KINEMA_LOG_LEVEL": "WARNING", **env})
    try:
        ids: list[str] = []
        load(srv.url, "create", 4, 2, 1, ids)  # warm-up, and ids to query
        create = load(srv.url, "create", args.clients, args.seconds, args.procs, ids)
        query = load(srv.url, "query", args.clients, args.seconds, args.procs, ids)
        return {"label": label, "create": create, "query": query}
    finally:
        srv.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--procs", type=int, default=2, help="client processes")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()

    port = free_port()
    bare = subprocess.Popen([sys.executable, "-c", BARE.replace("{port}", str(port))])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/const", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        bare_res = load(f"http://127.0.0.1:{port}", "bare", args.clients, args.seconds, args.procs)
    finally:
        bare.kill()

    results = [bench_kinema("sqlite", {}, args)]
    if not args.no_postgres:
        pg = start_postgres()
        try:
            results.append(bench_kinema("postgres", {"KINEMA_DATABASE_URL": pg.new_database()}, args))
        finally:
            pg.stop()

    print(f"\n{args.clients} clients x {args.seconds:g} s per phase, {args.procs} client processes, "
          f"{os.cpu_count()} CPUs; bare FastAPI constant endpoint: {bare_res['rps']:.0f} req/s "
          f"(p50 {bare_res['p50']:.1f} ms, p99 {bare_res['p99']:.1f} ms)\n")
    print("| database | create tasks/s | create p50 ms | create p99 ms | query req/s | query p50 ms "
          "| query p99 ms | errors | create / bare | query / bare |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        c, q = r["create"], r["query"]  # type: ignore[index]
        print(f"| {r['label']} | {c['rps']:.0f} | {c['p50']:.1f} | {c['p99']:.1f} | {q['rps']:.0f} | "
              f"{q['p50']:.1f} | {q['p99']:.1f} | {c['errors'] + q['errors']:.0f} | "
              f"{c['rps'] / bare_res['rps']:.3f} | {q['rps'] / bare_res['rps']:.3f} |")


if __name__ == "__main__":
    main()
