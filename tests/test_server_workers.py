"""`exportkb serve --workers N` (exportkb.server.workers): one SO_REUSEPORT socket per worker process.

Real processes on loopback: the workers all answer on one port, a killed worker is replaced, Ctrl-C /
SIGTERM stops every worker (no orphan keeps the port), a port in use is a clear error. The balance
itself (the reason for one socket per worker) is measured in benchmarks/server_load.py, not timed here.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")
from exportkb.server.workers import reuse_port_available, reuse_port_socket  # noqa: E402

from .conftest import ROOT  # noqa: E402

pytestmark = pytest.mark.skipif(not reuse_port_available(), reason="no SO_REUSEPORT on this platform")
UAE = ROOT / "examples" / "uae-datacenter.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> set[int]:
    """The live child processes of *pid* (Linux /proc)."""
    out: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out |= {int(x) for x in (task / "children").read_text().split()}
        except OSError:
            pass
    return out


def worker_pids(pid: int) -> set[int]:
    """The supervisor's worker processes (multiprocessing's spawned children; not its resource tracker)."""
    out = set()
    for c in children(pid):
        try:
            if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes():
                out.add(c)
        except OSError:
            pass
    return out


def wait_for(log: Path, text: str, proc: subprocess.Popen, timeout: float = 120.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = log.read_text(errors="replace")
        if text in got:
            return got
        if proc.poll() is not None:
            raise AssertionError(f"the server exited ({proc.returncode}) before {text!r}: {got}")
        time.sleep(0.2)
    raise AssertionError(f"no {text!r} within {timeout:g} s: {log.read_text(errors='replace')}")


def post_check(port: int) -> int:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/api/check", body=UAE.read_bytes(), headers={"content-type": "application/yaml"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def start(port: int, workers: int, log: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with log.open("wb") as err:
        return subprocess.Popen([sys.executable, "-m", "exportkb.cli", "serve", "--port", str(port),
                                 "--workers", str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=err)


def test_workers_answer_are_replaced_and_stop_together(tmp_path):
    port, log = free_port(), tmp_path / "serve.log"
    proc = start(port, 2, log)
    try:
        text = wait_for(log, "workers ready", proc)
        assert f"http://127.0.0.1:{port}/" in text
        workers = worker_pids(proc.pid)
        assert len(workers) == 2
        assert all(post_check(port) == 200 for _ in range(6))

        # a worker killed: the supervisor starts another, and the port keeps answering meanwhile
        victim = max(workers)
        os.kill(victim, signal.SIGKILL)
        text = wait_for(log, "starting another", proc)
        assert f"worker {victim} exited" in text
        assert all(post_check(port) == 200 for _ in range(4))
        end = time.monotonic() + 60
        while time.monotonic() < end and len(worker_pids(proc.pid) - {victim}) < 2:
            time.sleep(0.2)
        assert victim not in worker_pids(proc.pid) and len(worker_pids(proc.pid)) == 2

        # SIGTERM to the supervisor: every worker stops, the port is free again, exit status 0
        alive = children(proc.pid)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        end = time.monotonic() + 10
        while time.monotonic() < end and any(Path(f"/proc/{w}").exists() for w in alive):
            time.sleep(0.1)
        assert not any(Path(f"/proc/{w}").exists() and "zombie" not in Path(f"/proc/{w}/status").read_text().lower()
                       for w in alive)
        with pytest.raises(OSError):  # nothing listens on the port any more: refused
            http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/healthz")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_a_port_in_use_is_a_clear_error(tmp_path):
    """Another program (without SO_REUSEPORT) on the port: the command says so and how to fix it."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        proc = start(port, 2, tmp_path / "serve.log")
        assert proc.wait(60) != 0
        text = (tmp_path / "serve.log").read_text()
        assert f"cannot listen on 127.0.0.1:{port}" in text and "choose another --port" in text
        assert "Traceback" not in text


def test_reuse_port_sockets_share_a_port_and_say_tcp():
    """Two sockets bind one port; the protocol is TCP (asyncio sets TCP_NODELAY only then)."""
    a = reuse_port_socket("127.0.0.1", 0)
    try:
        b = reuse_port_socket("127.0.0.1", a.getsockname()[1])
        assert b.getsockname() == a.getsockname() and a.proto == socket.IPPROTO_TCP
        b.close()
    finally:
        a.close()


def test_a_broken_kb_is_one_clear_error_not_a_traceback_per_worker(tmp_path):
    import shutil
    kb = tmp_path / "kb"
    shutil.copytree(ROOT / "kb", kb)
    (kb / "zz_broken.lp").write_text("this is not ( a rule\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    got = subprocess.run([sys.executable, "-m", "exportkb.cli", "--kb", str(kb), "serve", "--port", str(free_port()),
                          "--workers", "2"], env=env, capture_output=True, text=True, timeout=120)
    assert got.returncode != 0
    assert "zz_broken.lp" in got.stderr and "Traceback" not in got.stderr
    assert "workers ready" not in got.stderr
