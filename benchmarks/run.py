"""Benchmark `exportkb batch` against bare clingo on the same KB and facts (issue 8), in one run.

    python -m benchmarks.run                  # 1k/10k/100k → RESULTS.md + results.json (~18–25 min, 2 quiet cores)
    python -m benchmarks.run --plan           # the steps and the estimated time, nothing measured
    python -m benchmarks.run --quick          # 1k and 2k cases, fewer repetitions, printed (~2–3 min)
    python -m benchmarks.run --only proofs2 --sizes 100000 --merge     # re-run one row into RESULTS.md
    python -m benchmarks.run --skip proofs1 --proof-sizes 1000,10000   # a shorter full run

Rows (names for --only / --skip): clingo, batch1, batch2, proofs1, proofs2 (per size), cold, warm
(single-case latency), profile (cProfile of a 1-process batch).

Why it is built this way (details in benchmarks/measure.py and benchmarks/report.py): every
throughput figure is a fresh process — bare clingo, or the `exportkb` CLI — timed from outside
(wall, CPU of the process and its workers, memory of the process tree), so the harness depends
only on the CLI and keeps working while the library changes; a row that cannot run is reported
as "n/a (reason)". Ratios to bare clingo and the targets table are computed from the figures.
Progress with an ETA goes to standard error; the raw figures are saved after every step.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.measure import (PY, ROOT, count_lines, exportkb_cmd, now, pcts, run_timed,  # noqa: F401
                                write_facts)

__all__ = ["main", "write_facts"]  # write_facts: re-exported for scripts that write bare clingo's facts
ROW_NAMES = ["clingo", "batch1", "batch2", "proofs1", "proofs2", "cold", "warm", "profile"]
CASE = "tests/cases/aia/aia-we01-germany.yaml"
RESULTS_MD, RESULTS_JSON = ROOT / "benchmarks" / "RESULTS.md", ROOT / "benchmarks" / "results.json"
#: Assumed wall rates (cases/s) on 2 quiet cores, for the plan; replaced by measured rates as the run goes.
ASSUMED = {"prepare": 5000.0, "prepare+facts": 1000.0, "clingo": 1500.0, "batch1": 1500.0, "batch2": 2500.0,
           "proofs1": 300.0,
           "proofs2": 550.0, "profile": 600.0}
STARTUP_S = 1.0  # interpreter + imports + parsing kb/ per process


# --------------------------------------------------------------------------- the plan
class Plan:
    """The steps of a run with their estimated seconds; estimates follow the rates measured so far."""

    def __init__(self, steps: list[tuple[str, int]], reps: int, budget: float, quick: bool = False):
        self.steps, self.reps, self.budget, self.quick = steps, reps, budget, quick
        self.rates = dict(ASSUMED)
        self.done = 0
        self.learned: set[str] = set()
        self.t0 = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def estimate(self, kind: str, n: int) -> float:
        if kind == "cold":
            few, fewer = (5, 3) if self.quick else (20, 10)
            return min(self.reps, few) * 1.2 + 2 * min(self.reps, fewer) * 2.5
        if kind == "warm":
            return 3 + min(self.reps * 0.03, self.budget) + min(self.reps * 0.1, self.budget) \
                + min(self.reps * 0.5, self.budget)
        return STARTUP_S + n / self.rates[kind]

    def remaining(self) -> float:
        return sum(self.estimate(k, n) for k, n in self.steps[self.done:])

    def learn(self, kind: str, n: int, wall: float) -> None:
        if kind in self.rates and n >= 1000 and wall > STARTUP_S:
            self.rates[kind] = n / (wall - STARTUP_S)
            self.learned.add(kind)

    def describe(self) -> str:
        lines = [f"  {k:<14} {n:>9,}  ~{_dur(self.estimate(k, n))}"
                 for k, n in self.steps]
        total = self.remaining()
        return "\n".join(["plan (estimates from assumed rates on 2 quiet cores, cases/s: "
                          + ", ".join(f"{k} {v:,.0f}" for k, v in ASSUMED.items()) + "):", *lines,
                          f"  total ~{_dur(total)}"])

    def progress(self, what: str) -> str:
        left = self.remaining()
        end = datetime.now(timezone.utc) + timedelta(seconds=left)
        return (f"[{self.done}/{len(self.steps)}] {what}; elapsed {_dur(time.perf_counter() - self.t0)}, "
                f"run ETA {_dur(left)} (~{end:%H:%M} UTC)")


def _dur(s: float) -> str:
    s = max(0, int(s))
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def say(msg: str) -> None:
    print(f"{datetime.now(timezone.utc):%H:%M:%S} {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- steps
class LineCounter:
    """Counts the lines of a growing output file incrementally (outputs with proofs can be GBs)."""

    def __init__(self, path: Path):
        self.path, self.offset, self.lines = path, 0, 0

    def __call__(self) -> int:
        try:
            with self.path.open("rb") as fh:
                fh.seek(self.offset)
                while block := fh.read(1 << 20):
                    self.lines += block.count(b"\n")
                    self.offset += len(block)
        except OSError:
            pass
        return self.lines


def ticker(what: str, estimate: float):
    """A progress line every 15 s for a step that cannot count its own progress."""
    return lambda elapsed: say(f"    {what}: {_dur(elapsed)} elapsed of ~{_dur(estimate)} estimated")


def child_json(args: list[str], out: Path, tick=None) -> dict[str, Any]:
    """Run ``python -m benchmarks.measure ARGS``; its last stdout line is JSON (or the error is reported)."""
    m = run_timed([PY, "-m", "benchmarks.measure", *args], stdout=out, tick=tick, every=15.0)
    if m.get("rc") != 0:
        return {"na": f"exit {m.get('rc')}: {report._one_line(m.get('stderr', ''))}", "load": m.get("load", 0)}
    lines = out.read_text().strip().splitlines()
    return {**json.loads(lines[-1]), "wall": m["wall"], "cpu": m["cpu"]}


def prepare(n: int, work: Path, facts: bool, tick=None) -> dict[str, Any]:
    """The seeded log of n cases (and bare clingo's facts file), reused when the work dir has them."""
    log, fl = work / f"log{n}.jsonl", work / f"facts{n}.lp"
    meta = work / f"prep{n}.json"
    old = json.loads(meta.read_text()) if meta.exists() else {}
    if log.exists() and (not facts or "valid" in old or "facts_na" in old) and count_lines(log)[0] == n:
        return old
    res = child_json(["prepare", str(n), str(log), str(fl) if facts else "-"], work / "prepare.out", tick)
    meta.write_text(json.dumps(res))
    return res


def batch_row(key: str, n: int, log: Path, expected: int, work: Path, chunk: int | None, keep: bool) -> dict[str, Any]:
    jobs = report.ROWS[key][1]
    out = work / f"out-{key}-{n}.jsonl"
    cmd = [*exportkb_cmd(), "batch", str(log), "--out", str(out), "--errors", str(work / "errors.jsonl"),
           "--jobs", str(jobs), "--quiet"]
    if chunk:
        cmd += ["--chunk", str(chunk)]
    if key.startswith("proofs"):
        cmd += ["--proofs", "all"]
    counter = LineCounter(out)

    def tick(elapsed: float) -> None:
        done = counter()
        r = done / elapsed if elapsed else 0
        eta = f", ETA {_dur((n - done) / r)}" if r else ""
        say(f"    {key} {n:,}: {done:,}/{n:,} ({100 * done / n:.0f}%), {r:,.0f} cases/s{eta}")

    m = run_timed(cmd, stdout=None, tick=tick, every=15.0)
    if "wall" in m:
        lines, proofs, size = count_lines(out, b'"proofs"' if key.startswith("proofs") else None)
        m.update(cases=lines, expected=expected, out_bytes=size, jobs=jobs)
        if key.startswith("proofs"):
            m["with_proofs"] = proofs
        if m["rc"] == 0:
            m.pop("stderr", None)
    if not keep:
        out.unlink(missing_ok=True)
    return m


def bare_clingo(n: int, facts: Path, work: Path, tick=None) -> dict[str, Any]:
    kb_files = sorted(str(p) for p in (ROOT / "kb").rglob("*.lp"))
    out = work / "clingo.out"
    m = run_timed([PY, "-m", "clingo", *kb_files, str(facts), "-V0", "--warn=none"], stdout=out, tick=tick,
                  every=15.0)
    if "wall" in m:
        last = out.read_text().rstrip().rsplit("\n", 1)[-1] if out.stat().st_size else ""
        if last != "SATISFIABLE":
            return {"na": f"clingo exit {m['rc']}, last line {last!r}: {report._one_line(m['stderr'])}",
                    "load": m["load"]}
        m["rc"] = 0  # the python front-end exits 0, the C++ binary 10/30 on SAT
        m.pop("stderr", None)
    out.unlink(missing_ok=True)
    return m


def cold(reps: int, work: Path, quick: bool = False) -> dict[str, Any]:
    """Fresh processes, one case each: determine, batch with proofs, explain (full proofs)."""
    one = work / "one-case"
    one.mkdir(exist_ok=True)
    shutil.copy(ROOT / CASE, one / Path(CASE).name)
    few, fewer = (5, 3) if quick else (20, 10)
    cmds = {"check": ([*exportkb_cmd(), "check", CASE, "--json"], min(reps, few)),
            "batch_proofs": ([*exportkb_cmd(), "batch", str(one), "--proofs", "all", "--quiet",
                              "--out", str(work / "one.jsonl")], min(reps, fewer)),
            "explain": ([*exportkb_cmd(), "explain", CASE, "--format", "json"], min(reps, fewer))}
    res: dict[str, Any] = {}
    for key, (cmd, k) in cmds.items():
        walls, cpus, load = [], [], os.getloadavg()[0]
        for _ in range(k):
            m = run_timed(cmd, stdout=work / "cold.out")
            if m.get("rc") not in (0, 1):  # 1 = the case's expect: block differs; still a determination
                res[key] = {"na": f"exit {m.get('rc')}: {report._one_line(m.get('stderr', m.get('na', '')))}",
                            "load": load}
                break
            walls.append(m["wall"])
            cpus.append(m["cpu"])
        else:
            res[key] = {"wall_ms": pcts(walls), "cpu_ms": pcts(cpus), "load": load, "at": now(),
                        "bytes": (work / ("one.jsonl" if key == "batch_proofs" else "cold.out")).stat().st_size}
    return res


def warm(reps: int, budget: float, work: Path, proof_fns: list[str]) -> dict[str, Any]:
    res = child_json(["warm", CASE, str(reps), str(budget), *proof_fns], work / "warm.out")
    res.pop("wall", None)
    res.pop("cpu", None)
    return res


CATEGORIES = [  # (label, functions whose cumulative time counts, outermost calls only; "file.py:name" pins the file)
    ("reading the input", ("read_rows", "_read_jsonl", "_read_csv", "batch/engine.py:_decode")),
    ("validation (case_from_data)", ("case_from_data",)),
    ("building symbols (case facts + backend)", ("case_facts", "emit_facts")),
    ("adding the KB to a Control", ("add_to",)),
    ("grounding", ("ground",)),
    ("solving (clingo search + model)", ("solve", "wait", "resume")),
    ("reading the model", ("split_atoms", "parse_flat", "_determination", "parse_term", "fastclingo.py:rows")),
    ("result JSON (to_json, dumps, write)", ("to_json", "dumps", "write", "result_text", "write_result")),
    ("KB load (parse kb/)", ("kb/knowledge.py:load",)),
]


def _matches(file: str, name: str, names: tuple[str, ...]) -> bool:
    for entry in names:
        where, _, fn = entry.rpartition(":")
        if name == fn and (not where or file.endswith("/" + where)):
            return True
    return False


def profile(n: int, log: Path, work: Path) -> dict[str, Any]:
    """cProfile of the CLI on a 1-process batch; time by pipeline stage (matched by function name)."""
    stats_file = work / "batch.prof"
    cmd = [PY, "-m", "cProfile", "-o", str(stats_file), "-m", "exportkb.cli", "batch", str(log), "--jobs", "1",
           "--quiet", "--out", os.devnull]
    m = run_timed(cmd)
    if m.get("rc") not in (0, None) or not stats_file.exists():
        return {"na": f"exit {m.get('rc')}: {report._one_line(m.get('stderr', m.get('na', '')))}"}
    stats = pstats.Stats(str(stats_file)).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = sum(v[2] for v in stats.values())
    stages = []
    for label, names in CATEGORIES:
        ct = 0.0
        for (file, _, name), (_, _, _, cum, callers) in stats.items():
            if _matches(file, name, names) and ("exportkb" in file or "json" in file or "clingo" in file
                                                or file == "~"):
                if not any(_matches(c[0], c[2], names) for c in callers):
                    ct += cum
        stages.append((label, ct))
    return {"n": n, "stages": stages, "total": total, "load": m["load"], "at": m["at"]}


def machine() -> dict[str, str]:
    import clingo

    import exportkb
    cpu, mem = "?", "?"
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                   if l.startswith("model name"))
        kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal")).split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    git = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True)
    kbv = "?"
    try:
        kbv = exportkb.KnowledgeBase.load().version
    except Exception:  # noqa: BLE001 — informative only
        pass
    return {"cores": str(os.cpu_count()), "memory": mem, "cpu": cpu, "python": platform.python_version(),
            "clingo": clingo.__version__, "exportkb": exportkb.__version__, "kb": str(kbv),
            "os": platform.platform(), "git": git.stdout.strip() or "?"}


# --------------------------------------------------------------------------- the run
def selected(a: argparse.Namespace) -> list[str]:
    rows = a.only.split(",") if a.only else list(ROW_NAMES)
    skip = a.skip.split(",") if a.skip else []
    for name in rows + skip:
        if name not in ROW_NAMES:
            raise SystemExit(f"unknown row {name!r}; rows: {', '.join(ROW_NAMES)}")
    return [r for r in rows if r not in skip]


def steps_for(a: argparse.Namespace, rows: list[str]) -> list[tuple[str, int]]:
    """The steps in run order: smaller sizes, then latency and the profile, then the largest size
    (so a long last size cannot cost the other figures); within a size the 2-process proofs row,
    the one the targets use, runs before the 1-process one."""
    steps: list[tuple[str, int]] = []
    prepared: set[int] = set()
    sizes = sorted(set(a.sizes) | set(a.proof_sizes))

    def size_steps(n: int) -> None:
        keys = [k for k in ("clingo", "batch1", "batch2") if k in rows and n in a.sizes]
        keys += [k for k in ("proofs2", "proofs1") if k in rows and n in a.proof_sizes]
        if keys:
            steps.append(("prepare+facts" if "clingo" in keys else "prepare", n))
            prepared.add(n)
            steps.extend((k, n) for k in keys)

    for n in sizes[:-1]:
        size_steps(n)
    for k in ("cold", "warm"):
        if k in rows:
            steps.append((k, 1))
    if "profile" in rows:
        if a.profile_size not in prepared:
            steps.append(("prepare", a.profile_size))
            prepared.add(a.profile_size)
        steps.append(("profile", a.profile_size))
    if sizes:
        size_steps(sizes[-1])
    return steps


def drop_if_over(plan: Plan, limit_min: float, res: dict[str, Any]) -> None:
    """Keep the run within --max-minutes: once the rates measured so far project past it, drop the
    1-process proofs rows of the largest sizes (reported as n/a with the command that runs them)."""
    if not limit_min or "proofs1" not in plan.learned:
        return
    for i in sorted((i for i in range(plan.done, len(plan.steps)) if plan.steps[i][0] == "proofs1"),
                    key=lambda i: -plan.steps[i][1]):
        projected = plan.elapsed() + plan.remaining()
        if projected <= limit_min * 60:
            return
        kind, n = plan.steps.pop(i)
        res["rows"].setdefault(kind, {})[str(n)] = {
            "na": f"skipped: the run was projected to take {projected / 60:.0f} min at the rates measured so far "
                  f"(> --max-minutes {limit_min:g}); run it alone with `python -m benchmarks.run --only {kind} "
                  f"--sizes {n} --merge`", "load": os.getloadavg()[0], "at": now()}
        say(f"skipping {kind} {n:,}: {res['rows'][kind][str(n)]['na']}")


def run(a: argparse.Namespace, work: Path, res: dict[str, Any], save) -> dict[str, Any]:
    rows = selected(a)
    plan = Plan(steps_for(a, rows), a.reps, a.budget, a.quick)
    say(plan.describe())
    res.setdefault("rows", {})
    res.setdefault("latency", {})
    prep: dict[int, dict[str, Any]] = {}
    while plan.done < len(plan.steps):
        drop_if_over(plan, a.max_minutes, res)
        kind, n = plan.steps[plan.done]
        say(plan.progress(f"{kind} {n:,}…" if kind not in ("cold", "warm") else f"{kind}…"))
        t = time.perf_counter()
        if kind.startswith("prepare"):
            prep[n] = prepare(n, work, facts=kind == "prepare+facts",
                              tick=ticker(f"{kind} {n:,}", plan.estimate(kind, n)))
            res.setdefault("prepare", {})[str(n)] = prep[n]
            what = f"prepared {n:,} cases"
        elif kind == "clingo":
            p = prep[n]
            m = (bare_clingo(n, work / f"facts{n}.lp", work, ticker(f"clingo {n:,}", plan.estimate(kind, n)))
                 if "valid" in p
                 else {"na": p.get("facts_na") or p.get("na") or "no facts file"})
            res["rows"].setdefault("clingo", {})[str(n)] = m
            what = f"clingo {n:,}: " + (f"{m['wall']:.1f} s wall, {m['cpu']:.1f} s CPU" if "wall" in m
                                        else report.why_na(m))
        elif kind in report.ROWS:
            expected = prep[n].get("valid", n)
            m = batch_row(kind, n, work / f"log{n}.jsonl", expected, work, a.chunk, a.keep_outputs)
            res["rows"].setdefault(kind, {})[str(n)] = m
            what = f"{kind} {n:,}: " + (f"{m['wall']:.1f} s wall, {m['cpu']:.1f} s CPU, {n / m['wall']:,.0f} cases/s"
                                        if report.ok(m) else report.why_na(m))
        elif kind == "cold":
            res["latency"]["cold"] = cold(a.reps, work, a.quick)
            what = "cold latency"
        elif kind == "warm":
            res["latency"]["warm"] = warm(a.reps, a.budget, work, a.proof_fn)
            what = "warm latency"
        else:
            res["profile"] = profile(n, work / f"log{n}.jsonl", work)
            what = f"profile {n:,}"
        wall = time.perf_counter() - t
        plan.learn(kind, n, wall)
        plan.done += 1
        say(plan.progress(f"{what} ({_dur(wall)})"))
        res["finished"] = now()
        save(res)
    return res


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:3]))
    ap.add_argument("--sizes", help="case counts of the clingo/batch rows (default 1000,10000,100000; quick 1000,2000)")
    ap.add_argument("--proof-sizes", help="case counts of the proofs rows (default: --sizes)")
    ap.add_argument("--only", help="comma-separated rows to run (default all): " + ",".join(ROW_NAMES))
    ap.add_argument("--skip", help="comma-separated rows not to run")
    ap.add_argument("--quick", action="store_true", help="sizes 1000,2000, 50 repetitions, 15 s per warm path")
    ap.add_argument("--reps", type=int,
                    help="warm repetitions (default 300; quick 50); cold: at most 20 and 10 (quick 5 and 3)")
    ap.add_argument("--budget", type=float, help="seconds at most per warm latency path (default 60; quick 15)")
    ap.add_argument("--proof-fn", action="append", default=[], metavar="MODULE:FUNCTION",
                    help="also measure FUNCTION(kb, case) as a warm single-case proof path (repeatable); public "
                    "functions of exportkb.explain taking (kb, case) are found and measured without this")
    ap.add_argument("--max-minutes", type=float, default=25.0, help="once the measured rates project the run past "
                    "this, drop the 1-process proofs rows of the largest sizes, saying so (default 25; 0 = no limit)")
    ap.add_argument("--chunk", type=int, default=None, help="--chunk of the batch runs (default: the CLI's)")
    ap.add_argument("--profile-size", type=int, help="cases in the profiled batch (default min(10000, largest size))")
    ap.add_argument("--out", help="markdown: a RESULTS.md whose generated block is replaced, or - for stdout "
                    "(default: benchmarks/RESULTS.md for a default full run or --merge, else stdout)")
    ap.add_argument("--json", type=Path, help="raw figures (default: benchmarks/results.json for a default full run "
                    "or --merge)")
    ap.add_argument("--merge", action="store_true", help="start from the figures of --json and replace only what "
                    "this run measures")
    ap.add_argument("--render", action="store_true", help="only re-render --json into --out; measure nothing")
    ap.add_argument("--plan", action="store_true", help="print the steps and the estimated time; measure nothing")
    ap.add_argument("--workdir", type=Path, help="keep generated logs here and reuse them (default: a temp dir)")
    ap.add_argument("--keep-outputs", action="store_true", help="keep the batch outputs in the work dir")
    a = ap.parse_args(argv)
    default_sizes = "1000,2000" if a.quick else "1000,10000,100000"
    full_default = not (a.quick or a.sizes or a.proof_sizes or a.only or a.skip)
    a.sizes = [int(s) for s in (a.sizes or default_sizes).split(",")]
    a.proof_sizes = [int(s) for s in a.proof_sizes.split(",")] if a.proof_sizes else list(a.sizes)
    a.reps = a.reps or (50 if a.quick else 300)
    a.budget = a.budget if a.budget is not None else (15.0 if a.quick else 60.0)
    a.profile_size = a.profile_size or min(min(a.sizes) if a.quick else 10_000, max(a.sizes))
    to_files = full_default or a.merge or a.render
    a.json = a.json or (RESULTS_JSON if to_files else None)
    a.out = a.out or (str(RESULTS_MD) if to_files else "-")
    return a


def main(argv: list[str] | None = None) -> None:
    a = parse_args(argv)
    if a.plan:
        print(Plan(steps_for(a, selected(a)), a.reps, a.budget, a.quick).describe())
        return
    if a.render or a.merge:
        if not a.json or not a.json.exists():
            raise SystemExit(f"--render/--merge need the figures of an earlier run: {a.json} does not exist")
        res = json.loads(a.json.read_text())
        if res.get("format") != 2:
            raise SystemExit(f"{a.json} was written by an older harness (no 'format': 2); re-run the benchmark")
    else:
        res = {"format": 2}
    if not a.render:
        res["machine"] = machine()
        res.setdefault("started", now())
        cfg = res.setdefault("config", {})
        cfg.update(case=CASE, chunk=a.chunk, command="python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None
                                                                                               else argv))
        cfg["sizes"] = sorted(set(cfg.get("sizes", [])) | set(a.sizes)) if a.merge else a.sizes
        cfg["proof_sizes"] = sorted(set(cfg.get("proof_sizes", [])) | set(a.proof_sizes)) if a.merge else a.proof_sizes

        def save(r: dict[str, Any]) -> None:
            if a.json:
                a.json.write_text(json.dumps(r, indent=1, default=str) + "\n", encoding="utf-8")

        if a.workdir:
            a.workdir.mkdir(parents=True, exist_ok=True)
            run(a, a.workdir, res, save)
        else:
            with tempfile.TemporaryDirectory(prefix="exportkb-bench-") as tmp:
                run(a, Path(tmp), res, save)
    block = report.render(res)
    if a.out == "-":
        print(block)
    else:
        out = Path(a.out)
        out.write_text(report.splice(out.read_text(encoding="utf-8"), block) if out.exists() else
                       "# Batch benchmarks\n\n" + block, encoding="utf-8")
        say(f"wrote {out}" + (f" and {a.json}" if a.json and not a.render else ""))


if __name__ == "__main__":
    main()
