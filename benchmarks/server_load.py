"""Load test of `exportkb serve`: concurrent clients on loopback, bounded in count and time.

Starts the server (uvicorn, the app factory ``exportkb.server.app:app_from_env``, as ``exportkb serve --workers N`` runs it) on a free
127.0.0.1 port in a child process, waits for ``/healthz``, then runs CLIENTS threads, each with one
keep-alive HTTP connection, POSTing the shipped examples in turn to ``/api/check`` (closed loop, or open loop at
``--rate`` requests/s) until REQUESTS requests are done or
SECONDS have passed, whichever comes first. Prints requests/s, latency p50/p95/max and the errors
(any status but 200, or a connection failure), and with ``--json`` writes them.

With `--generator wrk` the clients are wrk connections; `--generated N` posts N distinct generated cases.

Target of issue 17: >= 200 ``check`` requests/s on 2 cores, p95 <= 50 ms, no error.

    python -m benchmarks.server_load                              # the full run (the lead's quiet machine)
    python -m benchmarks.server_load --clients 2 --requests 40    # a small check that it works
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "examples" / "uae-datacenter.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int, log: Path) -> subprocess.Popen:
    """``exportkb serve --workers N`` as a user starts it (with N > 1, one SO_REUSEPORT socket per worker
    where the platform has it: exportkb.server.workers)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "exportkb.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers)]
    with log.open("wb") as err:  # a file, not a pipe: a chatty server never blocks on a full pipe
        return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)


def wait_ready(port: int, log: Path, workers: int, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    """Until ``/healthz`` answers and, with several workers, the supervisor has said that all of them
    listen: a client that connects earlier is hashed onto the workers already up, and stays there."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
        if workers > 1 and "workers ready" not in log.read_text(errors="replace"):
            time.sleep(0.2)
            continue
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the server was not ready within {timeout:g} s: {log.read_text(errors='replace')[-2000:]}")


WRK_SCRIPT = """
local bodies, n = {}, 0
for i, path in ipairs({%(paths)s}) do
  local f = assert(io.open(path, "rb")); bodies[i] = f:read("*a"); f:close()
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "%(ctype)s"
request = function()
  n = n + 1
  return wrk.format(nil, "/api/check", nil, bodies[(n %% #bodies) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("EXPORTKB %%d %%d %%d %%d %%.1f %%.1f %%.1f %%.1f %%.1f\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
end
"""


def run_wrk(port: int, clients: int, seconds: float, bodies: list[bytes], ctype: str, tmp: Path) -> dict:
    """The same closed loop with wrk (Debian's C load generator): each of CLIENTS connections sends its next
    request when the last is answered, for SECONDS. Its own CPU cost is a fraction of the Python threads',
    so more of the 2 cores go to the server; wrk counts by time, not by request."""
    paths = []
    for i, b in enumerate(bodies):
        f = tmp / f"body-{i}"
        f.write_bytes(b)
        paths.append(f'"{f}"')
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT % {"paths": ", ".join(paths), "ctype": ctype})
    threads = max(1, min(clients, os.cpu_count() or 1))
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s",
                          "-s", str(script), f"http://127.0.0.1:{port}/api/check"],
                         capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith("EXPORTKB "))
    n, dur_us, errors, _, p50, p95, p99, mx, mean = line.split()[1:]
    wall = int(dur_us) / 1e6
    return {"clients": clients, "rate": None, "requests": int(n), "seconds": round(wall, 3),
            "requests_per_s": round(int(n) / wall, 1), "p50_ms": float(p50), "p95_ms": float(p95),
            "p99_ms": float(p99), "max_ms": float(mx), "mean_ms": float(mean), "errors": int(errors),
            "error_kinds": [], "cpus": os.cpu_count(), "generator": "wrk"}


def run_load(port: int, clients: int, requests: int, seconds: float, bodies: list[bytes],
             rate: float | None = None, ctype: str = "application/yaml") -> dict:
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
                conn.request("POST", "/api/check", body=body, headers={"content-type": ctype})
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
            "errors": len(errors), "error_kinds": sorted(set(errors))[:5], "cpus": os.cpu_count(), "generator": "python"}


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
    ap.add_argument("--generated", type=int, default=None, metavar="N",
                    help="POST N distinct generated cases (benchmarks.generate, as JSON) instead of the examples: "
                         "no two requests alike, so nothing repeated can be remembered")
    ap.add_argument("--generator", choices=("python", "wrk"), default="python",
                    help="the load generator: Python threads (default; everywhere) or wrk (must be installed; "
                         "its own CPU cost is smaller, so more of the cores go to the server)")
    ap.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    a = ap.parse_args(argv)
    if not (1 <= a.clients <= 256 and 1 <= a.requests <= 1_000_000 and 0 < a.seconds <= 3600) or (a.rate is not None and not 0 < a.rate <= 100_000):
        ap.error("clients 1..256, requests 1..1,000,000, seconds in (0, 3600]")
    if a.generated is not None and a.case:
        ap.error("give --case or --generated, not both")
    if a.generator == "wrk" and shutil.which("wrk") is None:
        ap.error("--generator wrk: wrk is not installed (fix: apt-get install wrk, or use --generator python)")
    if a.generated is not None:
        if not 1 <= a.generated <= 100_000:
            ap.error("--generated: 1..100,000 cases")
        from benchmarks.generate import generate
        from exportkb import KnowledgeBase
        countries = sorted(KnowledgeBase.load().countries)
        bodies = [json.dumps(c).encode() for c in generate(a.generated, countries=countries)]
        ctype, cases = "application/json", [f"{a.generated} generated (benchmarks.generate, seed 2025)"]
    else:
        # the shipped examples in turn: five destinations and shapes, not one case solved again and again
        files = a.case or sorted(CASE.parent.glob("*.yaml"))
        missing = [str(f) for f in files if not f.is_file()]
        if missing:
            ap.error(f"--case: no such file: {', '.join(missing)}")
        bodies = [p.read_bytes() for p in files]
        ctype, cases = "application/yaml", [f.name for f in files]
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="exportkb-load-") as tmpdir:
        tmp = Path(tmpdir)
        log = tmp / "server.log"
        proc = start_server(port, a.workers, log)
        try:
            wait_ready(port, log, a.workers, proc)
            run_load(port, min(a.clients, 4), a.warmup, 30.0, bodies, ctype=ctype)
            if a.generator == "wrk":
                res = run_wrk(port, a.clients, a.seconds, bodies, ctype, tmp)
            else:
                res = run_load(port, a.clients, a.requests, a.seconds, bodies, a.rate, ctype=ctype)
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    res["workers"] = a.workers
    res["target"] = ">= 200 requests/s, p95 <= 50 ms, 0 errors"
    res["meets_target"] = res["requests_per_s"] >= 200 and res["p95_ms"] <= 50 and res["errors"] == 0
    loop = f"open loop at {a.rate:g}/s" if a.rate else "closed loop"
    print(f"server load ({loop}, {res['generator']} clients): {res['requests']} check requests from {res['clients']} clients, {a.workers} worker(s), "
          f"{res['cpus']} CPUs: {res['requests_per_s']} requests/s, p50 {res['p50_ms']} ms, p95 {res['p95_ms']} ms, "
          f"max {res['max_ms']} ms, {res['errors']} error(s) — target {res['target']}: "
          f"{'met' if res['meets_target'] else 'NOT met'}")
    res["cases"] = cases
    if a.json:
        a.json.write_text(json.dumps(res, indent=2) + "\n")
    return res


if __name__ == "__main__":
    main()
