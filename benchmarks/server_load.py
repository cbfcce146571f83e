"""Load test of `exportkb serve`: concurrent clients on loopback, bounded in count and time.

Starts the server (uvicorn, the app factory ``exportkb.server.app:app_from_env``, as ``exportkb serve --workers N`` runs it) on a free
127.0.0.1 port in a child process, waits for ``/healthz``, then runs CLIENTS threads, each with one
keep-alive HTTP connection, POSTing the shipped examples in turn to ``/api/check`` (closed loop, or open loop at
``--rate`` requests/s) until REQUESTS requests are done or
SECONDS have passed, whichever comes first. Prints requests/s, latency p50/p95/max and the errors
(any status but 200, or a connection failure), and with ``--json`` writes them.

Target of issue 17: >= 200 ``check`` requests/s on 2 cores, p95 <= 50 ms, no error.

    python -m benchmarks.server_load                              # the full run (the lead's quiet machine)
    python -m benchmarks.server_load --clients 2 --requests 40    # a small check that it works
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "uae-datacenter.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "exportkb.server.app:app_from_env", "--host", "127.0.0.1",
           "--port", str(port), "--log-level", "warning", "--workers", str(workers)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_ready(port: int, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /healthz within {timeout:g} s")


def run_load(port: int, clients: int, requests: int, seconds: float, bodies: list[bytes],
             rate: float | None = None) -> dict:
    """Closed loop (``rate`` None: each client sends its next request when the last is answered, so the
    server is saturated and latency is queueing) or open loop (requests scheduled at ``rate`` per second
    whatever the answers; latency counted from the scheduled time, so a server that falls behind is
    charged for the wait — no coordinated omission)."""
    lat: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    sent = [0]
    start = time.perf_counter()
    deadline = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                if sent[0] >= requests or time.monotonic() > deadline:
                    return
                i = sent[0]
                sent[0] += 1
            body = bodies[i % len(bodies)]
            if rate:
                t0 = start + i / rate
                wait = t0 - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
            else:
                t0 = time.perf_counter()
            try:
                conn.request("POST", "/api/check", body=body, headers={"content-type": "application/yaml"})
                resp = conn.getresponse()
                resp.read()
                ok = resp.status == 200
                err = None if ok else f"HTTP {resp.status}"
            except OSError as exc:
                err = f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            dt = time.perf_counter() - t0
            with lock:
                lat.append(dt)
                if err:
                    errors.append(err)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()

    p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: float("nan"))
    return {"clients": clients, "rate": rate, "requests": len(lat), "seconds": round(wall, 3),
            "requests_per_s": round(len(lat) / wall, 1) if wall else 0.0,
            "p50_ms": round(p(0.50), 1), "p95_ms": round(p(0.95), 1), "max_ms": round(lat[-1] * 1000, 1) if lat else None,
            "mean_ms": round(statistics.mean(lat) * 1000, 1) if lat else None,
            "errors": len(errors), "error_kinds": sorted(set(errors))[:5], "cpus": os.cpu_count()}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    ap.add_argument("--requests", type=int, default=5000, help="requests in all, at most (default 5000)")
    ap.add_argument("--seconds", type=float, default=60.0, help="wall-clock bound of the load phase (default 60)")
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2: one per core)")
    ap.add_argument("--warmup", type=int, default=20, help="requests before measuring (each worker's first solves)")
    ap.add_argument("--rate", type=float, default=None,
                    help="open loop: send this many requests per second whatever the answers (latency from the "
                         "scheduled time); default: closed loop, each client waits for its answer")
    ap.add_argument("--case", type=Path, action="append", default=None, metavar="FILE",
                    help="POST this case file (repeatable); default: every shipped example in turn")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    a = ap.parse_args(argv)
    if not (1 <= a.clients <= 256 and 1 <= a.requests <= 1_000_000 and 0 < a.seconds <= 3600) or (a.rate is not None and not 0 < a.rate <= 100_000):
        ap.error("clients 1..256, requests 1..1,000,000, seconds in (0, 3600]")
    # the shipped examples in turn: five destinations and shapes, not one case solved again and again
    files = a.case or sorted(CASE.parent.glob("*.yaml"))
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        ap.error(f"--case: no such file: {', '.join(missing)}")
    bodies = [p.read_bytes() for p in files]
    port = free_port()
    proc = start_server(port, a.workers)
    try:
        wait_ready(port)
        run_load(port, min(a.clients, 4), a.warmup, 30.0, bodies)
        res = run_load(port, a.clients, a.requests, a.seconds, bodies, a.rate)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
    res["workers"] = a.workers
    res["target"] = ">= 200 requests/s, p95 <= 50 ms, 0 errors"
    res["meets_target"] = res["requests_per_s"] >= 200 and res["p95_ms"] <= 50 and res["errors"] == 0
    loop = f"open loop at {a.rate:g}/s" if a.rate else "closed loop"
    print(f"server load ({loop}): {res['requests']} check requests from {res['clients']} clients, {a.workers} worker(s), "
          f"{res['cpus']} CPUs: {res['requests_per_s']} requests/s, p50 {res['p50_ms']} ms, p95 {res['p95_ms']} ms, "
          f"max {res['max_ms']} ms, {res['errors']} error(s) — target {res['target']}: "
          f"{'met' if res['meets_target'] else 'NOT met'}")
    res["cases"] = [f.name for f in files]
    if a.json:
        a.json.write_text(json.dumps(res, indent=2) + "\n")
    return res


if __name__ == "__main__":
    main()
