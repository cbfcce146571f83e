"""Several server processes on one port, each with its own listening socket (``SO_REUSEPORT``).

Why not uvicorn's ``--workers``: uvicorn's workers share one listening socket, and the worker
that wakes first accepts every connection waiting in the backlog. Keep-alive clients that connect
at once (a load generator, a proxy's connection pool, a notebook's thread pool) then all land on
one process while the others idle: measured with wrk, 2, 4 or 8 connections gave one core's worth
of answers (benchmarks/RESULTS.md, "Server load"). Here every worker binds its own socket to the
same address with ``SO_REUSEPORT`` (Linux 3.9+), and the kernel spreads new connections
over the workers' sockets by a hash of the connection's addresses — what nginx's ``reuseport`` and
gunicorn's ``--reuse-port`` do. Only processes of the same user may join a ``SO_REUSEPORT`` group
on Linux, so another user cannot take a share of the connections.

The supervisor (:func:`serve_workers`) holds the port (bound, not listening, so it receives no
connections; ``--port 0`` picks one free port for all workers), starts the workers, restarts one
that dies, and on Ctrl-C / SIGTERM stops them all. A worker that cannot start three times within a
minute stops the server with its error. Each worker dies with the supervisor (``PR_SET_PDEATHSIG``
on Linux), so no orphan keeps answering on the port.

Elsewhere (Windows, macOS, the BSDs: no balancing ``SO_REUSEPORT``), :func:`reuse_port_available` is
False and ``exportkb serve`` falls back to uvicorn's shared socket.
"""
from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

#: An app factory's import path (``module:function``), as uvicorn's ``--factory`` takes it.
APP_FACTORY = "exportkb.server.app:app_from_env"


@dataclass(frozen=True)
class WorkerSettings:
    """What each worker process needs to serve: the address, the app factory, uvicorn's options."""

    host: str
    port: int
    factory: str = APP_FACTORY
    log_level: str = "warning"
    backlog: int = 2048


def reuse_port_available() -> bool:
    """True where ``SO_REUSEPORT`` spreads connections over the sockets sharing a port: Linux.

    (macOS and the BSDs accept the option but hand every connection to one socket; FreeBSD's
    ``SO_REUSEPORT_LB`` would balance, but is not used here: those platforms get uvicorn's workers.)"""
    if not hasattr(socket, "SO_REUSEPORT") or not sys.platform.startswith("linux"):
        return False
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    except OSError:
        return False
    return True


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with ``SO_REUSEPORT`` (not yet listening).

    The protocol is given as ``IPPROTO_TCP`` on purpose: asyncio sets ``TCP_NODELAY`` only on
    sockets whose ``proto`` says TCP, and without it a response written in two parts (headers,
    body) waits ~40 ms for the client's delayed ACK (measured: 56 ms instead of 13 ms a request).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind((host, port))
    except BaseException:
        s.close()
        raise
    return s


def _die_with_parent() -> None:
    """Ask Linux to send this process SIGTERM when its parent (the supervisor) dies."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the supervisor still stops its workers
        pass


def _worker_main(settings: WorkerSettings, parent_pid: int, ready: Any) -> None:
    """One worker: its own SO_REUSEPORT socket on the shared port, one uvicorn server on it.

    The socket starts listening only once the app is built (KB parsed, residual split made):
    the kernel sends connections only to listening sockets, so none waits on a worker still
    loading. Then the worker's pid goes into *ready* for the supervisor."""
    _die_with_parent()
    if os.getppid() != parent_pid:  # the supervisor died before prctl took effect
        return
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list | None = None) -> None:
            for sock in sockets or ():
                sock.listen(settings.backlog)
            await super().startup(sockets)
            if not self.should_exit:
                ready.put(os.getpid())

    sock = reuse_port_socket(settings.host, settings.port)
    config = uvicorn.Config(settings.factory, factory=True, log_level=settings.log_level, server_header=False,
                            backlog=settings.backlog)
    Server(config).run(sockets=[sock])


def serve_workers(settings: WorkerSettings, workers: int, echo: Callable[[str], None] = lambda m: None,
                  max_failures: int = 3, failure_window: float = 60.0) -> int:
    """Run *workers* server processes on one port until Ctrl-C / SIGTERM; the exit status.

    The port is held by the supervisor for the whole run (bound with ``SO_REUSEPORT``, not
    listening), so ``port=0`` gives every worker the same free port and no other program can take
    it between a worker's restart. Returns 0 after a requested stop, 1 when a worker kept failing.
    """
    holder = reuse_port_socket(settings.host, settings.port)
    settings = WorkerSettings(settings.host, holder.getsockname()[1], settings.factory, settings.log_level,
                              settings.backlog)
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no clingo object crosses a fork
    procs: list = []
    stopping = False
    failures: list[float] = []

    ready = ctx.Queue()
    up: set[int] = set()

    def start() -> "multiprocessing.process.BaseProcess":
        p = ctx.Process(target=_worker_main, args=(settings, os.getpid(), ready), name="exportkb-serve-worker",
                        daemon=False)
        p.start()
        return p

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    old = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        procs = [start() for _ in range(workers)]
        announced = False
        while not stopping:
            try:
                up.add(ready.get(timeout=0.2))
            except queue.Empty:
                pass
            if not announced and len(up & {p.pid for p in procs}) == workers:
                announced = True
                where = f"[{settings.host}]" if ":" in settings.host else settings.host
                echo(f"exportkb: {workers} workers ready at http://{where}:{settings.port}/ (one socket each, "
                     "SO_REUSEPORT: the kernel spreads connections over them)")
            for i, p in enumerate(procs):
                if p.is_alive() or stopping:
                    continue
                now = time.monotonic()
                failures[:] = [t for t in failures if now - t < failure_window] + [now]
                if len(failures) >= max_failures:
                    echo(f"exportkb: a worker exited {len(failures)} times within {failure_window:g} s "
                         f"(last exit code {p.exitcode}); stopping (the worker's error is above)")
                    return 1
                echo(f"exportkb: worker {p.pid} exited with code {p.exitcode}; starting another")
                procs[i] = start()
        return 0
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + 10
        for p in procs:
            p.join(max(0.1, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1)
        holder.close()
        ready.close()
        for sig, handler in old.items():
            signal.signal(sig, handler)
