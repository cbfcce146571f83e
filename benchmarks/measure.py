"""Measurements for ``benchmarks.run``: timed processes, test data, warm single-case latency.

Why it is built this way:

* Every throughput figure is a **fresh process** (the ``exportkb`` CLI, or ``python -m clingo``)
  timed from outside: wall time, CPU time of the process and of every worker it reaped (from
  ``os.wait4``), and memory sampled from ``/proc`` while it runs (the largest process's ``VmHWM``
  and the peak of the summed RSS of the whole process tree). So the harness needs only the CLI
  and keeps working while the library's internals change.
* The parent stays small (test data is written by a child, ``python -m benchmarks.measure
  prepare``): Linux carries ``ru_maxrss`` across ``fork``/``execve``, so a big parent would
  inflate every child's figure.
* Warm latency runs in one child process through the public Python API (``Solver.determine``)
  and measures both wall time and CPU time (``time.process_time``) per call, because the machine
  may be shared. Proof paths are discovered at run time; a missing one is reported as
  ``{"na": reason}``, never a crash.
"""
from __future__ import annotations

import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def now() -> str:
    return f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


def exportkb_cmd() -> list[str]:
    """The CLI as a fresh clone has it after ``pip install -e .`` (falls back to ``python -m``)."""
    exe = Path(PY).with_name("exportkb")
    return [str(exe)] if exe.exists() else [PY, "-m", "exportkb.cli"]


# --------------------------------------------------------------------------- timed processes
def _children(pid: int) -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def _tree(pid: int) -> list[int]:
    kids, out, todo = _children(pid), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def _mem_kb(pid: int) -> tuple[int, int]:
    """(PSS or else RSS, VmHWM) of one process in KB; (0, 0) when it is gone.

    PSS (proportional set size) counts a page shared by forked workers once across them, so the
    sum over the tree is the memory the run really holds; RSS would count the KB inherited from the
    parent once per worker.
    """
    rss = hwm = pss = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
                break
    except (OSError, ValueError):
        pass
    return pss or rss, hwm


def run_timed(cmd: list[str], *, stdout: Path | None = None, tick: Callable[[float], None] | None = None,
              every: float = 10.0, timeout: float = 6 * 3600) -> dict[str, Any]:
    """Run ``cmd``; wall, CPU (process + reaped workers), memory of the process tree, exit code, stderr tail."""
    load = os.getloadavg()[0]
    at = now()
    with tempfile.TemporaryFile() as err, (stdout.open("wb") if stdout else open(os.devnull, "wb")) as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        peak_hwm = peak_sum = 0
        last_tick = t0
        sample_ok = Path("/proc/self/status").exists()
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if sample_ok:
                mems = [_mem_kb(p) for p in _tree(proc.pid)]
                peak_sum = max(peak_sum, sum(r for r, _ in mems))
                peak_hwm = max([peak_hwm, *(h for _, h in mems)])
            t = time.perf_counter()
            if t - t0 > timeout:
                proc.kill()
                os.wait4(proc.pid, 0)
                proc.returncode = -9
                return {"na": f"timed out after {timeout:.0f} s", "load": load, "at": at}
            if tick and t - last_tick >= every:
                tick(t - t0)
                last_tick = t
            time.sleep(0.05 if t - t0 < 2 else 0.25)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode("utf-8", "replace").strip()[-600:]
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "peak_mb": max(ru.ru_maxrss, peak_hwm) / 1024,
            "tree_peak_mb": peak_sum / 1024, "rc": proc.returncode, "stderr": tail, "load": load, "at": at}


def count_lines(path: Path, needle: bytes | None = None) -> tuple[int, int, int]:
    """(lines, lines containing ``needle``, bytes) of a file, read in blocks (outputs can be GBs)."""
    if not path.exists():
        return 0, 0, 0
    lines = hits = 0
    size = path.stat().st_size
    with path.open("rb") as fh:
        for line in fh:
            lines += 1
            if needle and needle in line:
                hits += 1
    return lines, hits, size


# --------------------------------------------------------------------------- test data (child side)
def prepare(n: int, log: Path, facts: Path | None) -> dict[str, Any]:
    """Write the seeded log of ``n`` cases, and the facts bare clingo gets (when asked)."""
    from benchmarks.generate import generate
    from exportkb import KnowledgeBase
    kb = KnowledgeBase.load()
    with log.open("w", encoding="utf-8") as fh:
        for case in generate(n, countries=sorted(kb.countries)):
            fh.write(json.dumps(case) + "\n")
    res: dict[str, Any] = {"cases": n}
    if facts is not None:
        try:
            res["valid"] = write_facts(log, facts, kb)
        except Exception as exc:  # an internal API moved: bare clingo is then n/a, the rest still runs
            res["facts_na"] = f"{type(exc).__name__}: {exc}"
    return res


def write_facts(log: Path, facts: Path, kb: Any = None) -> int:
    """The facts the library adds for every valid case of the log (``facts.case_facts``), as one .lp file.

    Rows the loader refuses are skipped: the batch reports them as errors and solves nothing for them.
    Each case gets a distinct case key, as in one batch grounding.
    """
    from exportkb import KnowledgeBase
    from exportkb.errors import CaseError
    from exportkb.case.facts import case_facts
    from exportkb.case.loader import case_from_data
    kb = kb or KnowledgeBase.load()
    n = 0
    with log.open(encoding="utf-8") as src, facts.open("w", encoding="utf-8") as fh:
        for line in src:
            if not line.strip():
                continue
            try:
                case = case_from_data(json.loads(line, parse_float=Decimal), kb)
            except CaseError:
                continue
            fh.write("".join(str(s) + ".\n" for s in case_facts(case, f"#{n}")))
            n += 1
    return n


# --------------------------------------------------------------------------- warm latency (child side)
def pcts(values: list[float]) -> dict[str, float]:
    """p50 / p99 / n of a list of seconds, in milliseconds."""
    ms = sorted(v * 1000 for v in values)
    return {"p50": statistics.median(ms), "p99": ms[min(len(ms) - 1, int(round(0.99 * (len(ms) - 1))))],
            "n": len(ms)}


def _timed_reps(fn: Callable[[], Any], reps: int, budget: float) -> dict[str, Any]:
    """One warm-up call (reported as ``first_ms``), then up to ``reps`` calls or ``budget`` seconds (≥ 3 calls)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    first = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
    walls, cpus = [], []
    start = time.perf_counter()
    while len(walls) < reps and (len(walls) < 3 or time.perf_counter() - start < budget):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return {"wall_ms": pcts(walls), "cpu_ms": pcts(cpus), "first_ms": {"wall": first[0], "cpu": first[1]},
            "bytes": len(out) if isinstance(out, str) else None}


def _dumps(obj: Any) -> str:
    """JSON of a result that may hold Proof objects (anything with ``to_json``)."""
    return json.dumps(obj, default=lambda o: o.to_json() if hasattr(o, "to_json") else str(o))


#: exportkb.explain functions measured by a dedicated path below (not again by discovery).
_COVERED = {"explain_determination", "explain"}


def _discovered(kb: Any, solver: Any, case: Any) -> list[tuple[str, Callable[[], str] | str]]:
    """Public functions of ``exportkb.explain`` called as ``f(kb, case)`` (a new fast path is measured
    without editing this file); each is preceded by ``Solver.determine`` so the figure is comparable."""
    import exportkb.explain as E
    out: list[tuple[str, Callable[[], str] | str]] = []
    for name in sorted(getattr(E, "__all__", [])):
        fn = getattr(E, name, None)
        if name in _COVERED or not inspect.isfunction(fn):
            continue
        try:
            req = [p.name for p in inspect.signature(fn).parameters.values()
                   if p.default is inspect.Parameter.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            continue
        if req not in (["kb", "case"], ["case", "kb"]):
            continue
        args = (kb, case) if req[0] == "kb" else (case, kb)

        def path(fn=fn, args=args) -> str:
            out = solver.determine(case).to_json()
            out["proofs"] = fn(*args)
            return _dumps(out)
        out.append((f"determine + `exportkb.explain.{name}({', '.join(req)})` (found at run time)", path))
    return out


def _explicit(spec: str, kb: Any, case: Any) -> tuple[str, Callable[[], str] | str]:
    """``--proof-fn module:function``: called as ``function(kb, case)``, it does the whole job (no determine added)."""
    label = f"`{spec}(kb, case)` (given with --proof-fn)"
    try:
        import importlib
        mod, _, attr = spec.partition(":")
        fn = getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        return label, f"{type(exc).__name__}: {exc}"
    return label, lambda: _dumps(fn(kb, case))


def proof_paths(kb: Any, solver: Any, case: Any, explicit: list[str] = ()) -> list[tuple[str, Callable[[], str] | str]]:
    """Every public way the library offers to get one case's determination with the proofs of all its
    determinations, as (label, zero-argument callable returning the JSON text) or (label, why not available)."""
    paths: list[tuple[str, Callable[[], str] | str]] = []
    # 1. exactly what `exportkb batch --proofs all` does per row
    label = "determine + `explain.attach.attach_proofs` (what `batch --proofs all` does per row)"
    try:
        from exportkb.explain.attach import attach_proofs
        params = list(inspect.signature(attach_proofs).parameters)
        if params[:3] != ["kb", "box", "pending"]:
            raise TypeError(f"attach_proofs{inspect.signature(attach_proofs)} is not (kb, box, pending)")
        box: dict = {}

        def via_attach() -> str:
            out = solver.determine(case).to_json()
            attach_proofs(kb, box, [(case, out)])
            if "proofs" not in out:
                raise RuntimeError("attach_proofs added no 'proofs' key")
            return _dumps(out)
        paths.append((label, via_attach))
    except (ImportError, TypeError, ValueError) as exc:
        paths.append((label, f"{type(exc).__name__}: {exc}"))
    # 2. the explain API: a why-proof (format 1) of every determination
    label = "determine + `Explainer.case(...).determinations()` (full proofs, format 1)"
    try:
        from exportkb.explain import Explainer
        ex = Explainer(kb)

        def via_explainer() -> str:
            out = solver.determine(case).to_json()
            out["proofs"] = [p.to_json() for p in ex.case(case).determinations()]
            return _dumps(out)
        paths.append((label, via_explainer))
    except Exception as exc:  # noqa: BLE001 — any failure here is a figure we cannot give, with its reason
        paths.append((label, f"{type(exc).__name__}: {exc}"))
    # 3. one solve for the determination and its compact proof (the library's single-case fast path)
    label = "`CompactRecorder.determine_and_prove(case)` (one solve: determination + compact proof)"
    try:
        from exportkb.explain.compact import CompactRecorder
        rec = CompactRecorder(kb)

        def via_one_solve() -> str:
            det, proof = rec.determine_and_prove(case)
            out = det.to_json()
            out["proofs"] = proof
            return _dumps(out)
        paths.append((label, via_one_solve))
    except Exception as exc:  # noqa: BLE001
        paths.append((label, f"{type(exc).__name__}: {exc}"))
    # 4. new public functions of exportkb.explain, and any the caller names
    try:
        paths += _discovered(kb, solver, case)
    except Exception as exc:  # noqa: BLE001
        paths.append(("functions of exportkb.explain", f"{type(exc).__name__}: {exc}"))
    paths += [_explicit(spec, kb, case) for spec in explicit]
    return paths


def warm(case_file: Path, reps: int, budget: float, explicit: list[str] = ()) -> dict[str, Any]:
    """Single-case latency in one warm process: determine + JSON, and every proof path the library has."""
    from exportkb import KnowledgeBase, Solver, load_case
    load = os.getloadavg()[0]
    kb = KnowledgeBase.load()
    solver = Solver(kb)
    case = load_case(case_file, kb)
    res: dict[str, Any] = {"load": load, "at": now(), "paths": []}
    res["determine"] = _timed_reps(lambda: _dumps(solver.determine(case).to_json()), reps, budget)
    for label, fn in proof_paths(kb, solver, case, explicit):
        if isinstance(fn, str):
            res["paths"].append({"label": label, "na": fn})
            continue
        try:
            res["paths"].append({"label": label, **_timed_reps(fn, reps, budget)})
        except Exception as exc:  # noqa: BLE001
            res["paths"].append({"label": label, "na": f"{type(exc).__name__}: {exc}"[:300]})
    return res


def main(argv: list[str]) -> None:
    """Child entry point: ``python -m benchmarks.measure prepare|warm ...``; the last stdout line is JSON."""
    kind, *rest = argv
    if kind == "prepare":
        res = prepare(int(rest[0]), Path(rest[1]), Path(rest[2]) if len(rest) > 2 and rest[2] != "-" else None)
    elif kind == "warm":
        res = warm(Path(rest[0]), int(rest[1]), float(rest[2]), rest[3:])
    else:
        raise SystemExit(f"unknown measurement {kind!r} (prepare, warm)")
    print(json.dumps(res, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
