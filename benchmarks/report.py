"""Markdown for ``benchmarks.run``: figures, ratios to bare clingo and the issue's targets.

Why it is built this way: every verdict is computed here from the raw figures of one run
(``results.json``), so re-rendering never needs a hand edit and a target row can never say "met"
for a figure that is not there — a missing figure renders as "n/a (reason)". The "why" column
gives computed figures only (CPU per case, cores used, the share of the proof work); the prose
analysis belongs to the hand-written part of RESULTS.md.
"""
from __future__ import annotations

from typing import Any

#: Throughput rows: key → (label, worker processes).
ROWS: dict[str, tuple[str, int]] = {
    "clingo": ("bare clingo (`python -m clingo`, one grounding)", 1),
    "batch1": ("`exportkb batch`, 1 process", 1),
    "batch2": ("`exportkb batch --jobs 2`", 2),
    "proofs1": ("`exportkb batch --proofs all`, 1 process", 1),
    "proofs2": ("`exportkb batch --proofs all --jobs 2`", 2),
}
#: Cold single-case latency rows: key → label.
COLD: dict[str, str] = {
    "check": "cold: fresh `exportkb check CASE --json` process",
    "batch_proofs": "cold: fresh `exportkb batch ONE.jsonl --proofs all` process",
    "explain": "cold: fresh `exportkb explain CASE --format json` process (full proofs)",
}
TARGETS = {
    "batch_vs_clingo": 0.9,        # batch (2 processes) throughput ≥ 0.9 × bare clingo
    "proofs_cases_per_s": 2000,    # ≥ 2,000 cases/s with proofs for every case
    "prototype_clingo": 15000,     # the bare-clingo-level rate on the prototype KB
    "proof_p50_ms": 10.0,          # one case with its proof, p50 ≤ 10 ms
    "proofs_100k_mb": 700,         # 100,000 cases with proofs ≤ 700 MB peak
}
#: The target rows, always rendered (the test checks that each one is there).
TARGET_NAMES = ["batch (2 processes) ≥ 0.9 × bare clingo", "with proofs for every case ≥ 2,000 cases/s",
                "one case with its proof p50 ≤ 10 ms", "100,000 cases with proofs ≤ 700 MB peak"]
BEGIN, END = "<!-- benchmarks.run: begin generated figures -->", "<!-- benchmarks.run: end generated figures -->"


def ok(m: dict[str, Any] | None) -> bool:
    return bool(m) and "wall" in m and m.get("rc", 0) == 0 and "na" not in m


def why_na(m: dict[str, Any] | None, what: str = "not measured in this run") -> str:
    if not m:
        return f"n/a ({what})"
    if "na" in m:
        return f"n/a ({m['na']})"
    return f"n/a (exit {m.get('rc')}: {_one_line(m.get('stderr', ''))})"


def _one_line(text: str, limit: int = 160) -> str:
    lines = [l.strip() for l in text.strip().splitlines() if l.strip()]
    s = (lines[-1] if lines else "no message").replace("|", "\\|")
    return s if len(s) <= limit else s[:limit] + "…"


def verdict(measured: float, target: float, at_least: bool) -> str:
    """'met', or 'missed by F×' (F = how far the figure is from the target, always ≥ 1)."""
    good = measured >= target if at_least else measured <= target
    if good:
        return "met"
    if measured <= 0:
        return "missed"
    return f"missed by {target / measured if at_least else measured / target:.2f}×"


def rate(n: int, secs: float) -> float:
    return n / secs if secs > 0 else float("inf")


def ideal_rate(n: int, m: dict[str, Any], jobs: int) -> float:
    """Throughput if each of the ``jobs`` processes had a free core: N / (CPU / jobs)."""
    return rate(n, m["cpu"] / jobs)


def _f(x: float, digits: int = 0) -> str:
    return f"{x:,.{digits}f}"


def header(res: dict[str, Any]) -> list[str]:
    mc, cfg = res.get("machine", {}), res.get("config", {})
    loads = [m["load"] for m in _all_measurements(res) if "load" in m]
    L = [f"- machine: {mc.get('cores', '?')} cores, {mc.get('memory', '?')}, {mc.get('cpu', '?')}; {mc.get('os', '?')}",
         f"- run: {res.get('started', '?')} → {res.get('finished', '?')}; Python {mc.get('python', '?')}, "
         f"clingo {mc.get('clingo', '?')}, exportkb {mc.get('exportkb', '?')} (KB {mc.get('kb', '?')}), "
         f"git {mc.get('git', '?')}",
         "- load average (1 min) at the start of the measurements: "
         + (f"{min(loads):.1f}–{max(loads):.1f}" if loads else "?")
         + "; wall times are only comparable on a quiet machine, CPU times (process + reaped workers) are "
         "less distorted by other processes",
         f"- command: `{cfg.get('command', 'python -m benchmarks.run')}`; sizes {cfg.get('sizes')}, with proofs "
         f"{cfg.get('proof_sizes')}; chunk {cfg.get('chunk') or 'the CLI default'}",
         "- bare clingo = `python -m clingo` (the pyclingo front-end of the same C++ library) on every "
         "`kb/**/*.lp` and one facts file holding exactly the facts the library adds (`exportkb.case.facts.case_facts`, "
         "one case key per case), all cases in one grounding, `-V0`, model printed to a file; writing the facts "
         "is not timed",
         "- `exportkb batch` rows = the CLI end to end on the generated JSONL log (start-up, reading, validation, "
         "grounding, solving, JSON written to a file), `--quiet`",
         "- ideal = N / (CPU / processes): the rate if every process had a free core; × bare clingo compares "
         "with bare clingo's rate in the same run (wall with wall, ideal with bare clingo's N / CPU)",
         "- peak memory: the largest single process (peak RSS: VmHWM / ru_maxrss) and the peak of the memory of "
         "the whole process tree (parent + workers: sum of PSS, so pages the forked workers share count once; "
         "sampled every 0.25 s)"]
    return L


def _all_measurements(res: dict[str, Any]) -> list[dict[str, Any]]:
    out = [m for per in res.get("rows", {}).values() for m in per.values()]
    lat = res.get("latency", {})
    out += list(lat.get("cold", {}).values())
    if lat.get("warm"):
        out.append(lat["warm"])
    return [m for m in out if isinstance(m, dict)]


def throughput(res: dict[str, Any]) -> list[str]:
    rows, sizes = res.get("rows", {}), res.get("config", {}).get("sizes") or []
    all_sizes = sorted({int(n) for per in rows.values() for n in per} | set(sizes))
    L = ["| cases | way | wall | CPU | cores used | cases/s wall | cases/s ideal | × bare clingo wall / ideal "
         "| peak memory: largest process / all | output per case | load |",
         "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for n in all_sizes:
        c = rows.get("clingo", {}).get(str(n))
        for key, (label, jobs) in ROWS.items():
            m = rows.get(key, {}).get(str(n))
            if m is None:
                continue
            if not ok(m):
                L.append(f"| {n:,} | {label} | {why_na(m)} | | | | | | | | {m.get('load', 0):.1f} |")
                continue
            done = m.get("cases", n)
            note = "" if done == m.get("expected", n) else f" (**{done:,} of {m.get('expected', n):,} results**)"
            if key.startswith("proofs") and m.get("with_proofs", done) != done:
                note += f" (**proofs on {m.get('with_proofs', 0):,} rows**)"
            ratio = (f"{c['wall'] / m['wall']:.2f}× / {c['cpu'] / (m['cpu'] / jobs):.2f}×"
                     if ok(c) and key != "clingo" else "")
            out = f"{m['out_bytes'] / max(done, 1):,.0f} B" if m.get("out_bytes") is not None else ""
            L.append(f"| {n:,} | {label}{note} | {m['wall']:.2f} s | {m['cpu']:.2f} s | {m['cpu'] / m['wall']:.2f} | "
                     f"{_f(rate(n, m['wall']))} | {_f(ideal_rate(n, m, jobs))} | {ratio} | "
                     f"{m['peak_mb']:.0f} / {m.get('tree_peak_mb', 0):.0f} MB | {out} | {m['load']:.1f} |")
    prep = res.get("prepare", {})
    bad = [f"{int(n):,} → {p['valid']:,}" for n, p in prep.items() if "valid" in p and p["valid"] != int(n)]
    if bad:
        L += ["", "Cases the loader refused (bare clingo solves only the valid ones): " + ", ".join(bad)]
    return L


def latency(res: dict[str, Any]) -> list[str]:
    lat = res.get("latency", {})
    L = [f"Single-case latency, case `{res.get('config', {}).get('case', '?')}` (ms; CPU = `time.process_time` of "
         "the measuring process, or the child's CPU for cold runs):", "",
         "| path | wall p50 | wall p99 | CPU p50 | CPU p99 | runs | first call wall / CPU | JSON bytes | load |",
         "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for key, label in COLD.items():
        m = lat.get("cold", {}).get(key)
        if m is None:
            continue
        if "wall_ms" not in m:
            L.append(f"| {label} | {why_na(m)} | | | | | | | {m.get('load', 0):.1f} |")
            continue
        L.append(_lat_row(label, m, m.get("load", 0)))
    warm = lat.get("warm")
    if warm is not None and "determine" not in warm:
        L.append(f"| warm | {why_na(warm)} | | | | | | | |")
    elif warm:
        L.append(_lat_row("warm: `Solver.determine` + JSON", warm["determine"], warm["load"]))
        for p in warm.get("paths", []):
            L.append(f"| warm: {p['label']} | n/a ({_one_line(p['na'])}) | | | | | | | |" if "na" in p
                     else _lat_row(f"warm: {p['label']}", p, warm["load"]))
    return L


def _lat_row(label: str, m: dict[str, Any], load: float) -> str:
    w, c = m["wall_ms"], m["cpu_ms"]
    first = m.get("first_ms")
    first_s = f"{first['wall']:.1f} / {first['cpu']:.1f}" if first else ""
    size = f"{m['bytes']:,}" if m.get("bytes") is not None else ""
    return (f"| {label} | {w['p50']:.1f} | {w['p99']:.1f} | {c['p50']:.1f} | {c['p99']:.1f} | {w['n']} | "
            f"{first_s} | {size} | {load:.1f} |")


def profile(res: dict[str, Any]) -> list[str]:
    prof = res.get("profile")
    if not prof:
        return []
    if "stages" not in prof:
        return [f"Profile: {why_na(prof)}"]
    total = prof["total"] or 1
    L = [f"Profile of `exportkb batch` on {prof['n']:,} cases, 1 process, under cProfile (which inflates Python-heavy "
         "stages; stages are cumulative time of the outermost matching calls; function names are matched "
         "by name, so a renamed function moves its time to \"other\"):", "",
         "| stage | seconds | share |", "| --- | ---: | ---: |"]
    for label, secs in prof["stages"]:
        L.append(f"| {label} | {secs:.2f} | {100 * secs / total:.0f}% |")
    other = prof["total"] - sum(secs for _, secs in prof["stages"])
    L.append(f"| other (start-up, imports, unmatched; negative if stages overlap) | {other:.2f} | "
             f"{100 * other / total:.0f}% |")
    L.append(f"| total (profiled) | {prof['total']:.2f} | 100% |")
    return L


def targets(res: dict[str, Any]) -> list[str]:
    """The issue's targets against this run's figures: met or missed, by how much, and the figures behind it."""
    rows, T = res.get("rows", {}), TARGETS
    L = ["| target | measured | verdict | figures behind it |", "| --- | --- | --- | --- |"]
    clingo = rows.get("clingo", {})
    # 1. batch throughput against bare clingo
    sizes = sorted({int(n) for n in rows.get("batch2", {})} | {int(n) for n in clingo})
    if not sizes:
        L.append(f"| {TARGET_NAMES[0]} | {why_na(None)} | n/a | |")
    for n in sizes:
        c, b, b1 = clingo.get(str(n)), rows.get("batch2", {}).get(str(n)), rows.get("batch1", {}).get(str(n))
        name = f"{TARGET_NAMES[0]}, {n:,} cases"
        if not ok(c) or not ok(b):
            L.append(f"| {name} | {why_na(b if not ok(b) else c)} | n/a | |")
            continue
        wall, ideal = c["wall"] / b["wall"], c["cpu"] / (b["cpu"] / 2)
        why = (f"CPU per case: batch {1000 * b['cpu'] / n:.3f} ms (2 processes"
               + (f"; 1 process {1000 * b1['cpu'] / n:.3f} ms" if ok(b1) else "")
               + f"), bare clingo {1000 * c['cpu'] / n:.3f} ms; the 2 processes used {b['cpu'] / b['wall']:.2f} cores "
               f"on average; load {b['load']:.1f}")
        L.append(f"| {name} | wall {wall:.2f}×, ideal {ideal:.2f}× ({_f(rate(n, b['wall']))} vs "
                 f"{_f(rate(n, c['wall']))} cases/s wall) | wall: {verdict(wall, T['batch_vs_clingo'], True)}; "
                 f"ideal: {verdict(ideal, T['batch_vs_clingo'], True)} | {why} |")
    # 2. throughput with proofs
    psizes = sorted({int(n) for k in ("proofs1", "proofs2") for n in rows.get(k, {})})
    if not psizes:
        L.append(f"| {TARGET_NAMES[1]} | {why_na(None)} | n/a | |")
    for n in psizes:
        key = "proofs2" if ok(rows.get("proofs2", {}).get(str(n))) else "proofs1"
        m, jobs = rows.get(key, {}).get(str(n)), ROWS[key][1]
        name = f"{TARGET_NAMES[1]}, {n:,} cases"
        if not ok(m):
            L.append(f"| {name} | {why_na(rows.get('proofs2', {}).get(str(n)) or m)} | n/a | |")
            continue
        w, i = rate(n, m["wall"]), ideal_rate(n, m, jobs)
        c, plain = clingo.get(str(n)), rows.get(f"batch{jobs}", {}).get(str(n))
        ratio_target = T["proofs_cases_per_s"] / T["prototype_clingo"]
        ratio = ""
        if ok(c):
            r = i / rate(n, c["cpu"])
            ratio = f"; as a ratio to bare clingo (ideal {r:.2f}× against {ratio_target:.3f}× = 2,000 / 15,000 on " \
                    f"the prototype): {verdict(r, ratio_target, True)}"
        why = f"CPU per case with proofs {1000 * m['cpu'] / n:.2f} ms"
        if ok(plain):
            why += f" = {m['cpu'] / plain['cpu']:.1f}× the batch without proofs ({1000 * plain['cpu'] / n:.3f} ms)"
        if ok(c):
            why += f", {m['cpu'] / c['cpu']:.1f}× bare clingo"
        if m.get("out_bytes") is not None:
            why += f"; {m['out_bytes'] / max(m.get('cases', n), 1):,.0f} bytes of JSON per case"
        L.append(f"| {name} ({jobs} process{'es' if jobs > 1 else ''}) | {_f(w)} cases/s wall, {_f(i)} ideal | "
                 f"wall: {verdict(w, T['proofs_cases_per_s'], True)}; ideal: "
                 f"{verdict(i, T['proofs_cases_per_s'], True)}{ratio} | {why} |")
    # 3. one case with its proof
    warm = res.get("latency", {}).get("warm") or {}
    paths = [p for p in warm.get("paths", []) if "wall_ms" in p]
    if not paths:
        reasons = "; ".join(f"{p['label']}: {_one_line(p['na'], 80)}" for p in warm.get("paths", []) if "na" in p)
        L.append(f"| {TARGET_NAMES[2]} | {why_na(None if not reasons else {'na': reasons})} | n/a | |")
    else:
        best = min(paths, key=lambda p: p["wall_ms"]["p50"])
        w, c = best["wall_ms"]["p50"], best["cpu_ms"]["p50"]
        d = warm.get("determine")
        why = f"fastest of {len(paths)} path(s): {best['label']}"
        if d:
            why += (f"; determine + JSON alone p50 {d['wall_ms']['p50']:.1f} ms wall / "
                    f"{d['cpu_ms']['p50']:.1f} ms CPU, so the proof part is ≈ {c - d['cpu_ms']['p50']:.1f} ms CPU")
        L.append(f"| {TARGET_NAMES[2]} (warm) | {w:.1f} ms wall, {c:.1f} ms CPU (p99 {best['wall_ms']['p99']:.1f} / "
                 f"{best['cpu_ms']['p99']:.1f}) | wall: {verdict(w, T['proof_p50_ms'], False)}; CPU: "
                 f"{verdict(c, T['proof_p50_ms'], False)} | {why}; load {warm.get('load', 0):.1f} |")
    # 4. memory with proofs at 100k
    big = sorted((int(n), k) for k in ("proofs2", "proofs1") for n, m in rows.get(k, {}).items()
                 if int(n) >= 100_000 and ok(m))
    if not big:
        tried = [m for k in ("proofs2", "proofs1") for n, m in rows.get(k, {}).items() if int(n) >= 100_000]
        reason = why_na(tried[0]) if tried else why_na(None, "no 100,000-case run with proofs in this run")
        L.append(f"| {TARGET_NAMES[3]} | {reason} | n/a | |")
    for n, key in big:
        m = rows[key][str(n)]
        L.append(f"| {TARGET_NAMES[3]} ({n:,} cases, {ROWS[key][1]} process{'es' if ROWS[key][1] > 1 else ''}) | "
                 f"{m['tree_peak_mb']:.0f} MB all processes, {m['peak_mb']:.0f} MB largest | "
                 f"{verdict(m['tree_peak_mb'], T['proofs_100k_mb'], False)} (all processes); "
                 f"{verdict(m['peak_mb'], T['proofs_100k_mb'], False)} (largest) | "
                 f"{m['out_bytes'] / max(m.get('cases', n), 1):,.0f} bytes of output per case |")
    # no target, for the record
    for n in sorted(int(x) for x in rows.get("batch2", {})):
        m = rows["batch2"][str(n)]
        if n >= 100_000 and ok(m):
            L.append(f"| (no target) {n:,} cases without proofs, 2 processes: peak memory | {m['tree_peak_mb']:.0f} MB "
                     f"all processes, {m['peak_mb']:.0f} MB largest | | |")
    return L


def render(res: dict[str, Any]) -> str:
    """The generated block of RESULTS.md (between the BEGIN/END markers)."""
    L = [BEGIN, "", *header(res), "", "### Throughput", "", *throughput(res), "", "### Single-case latency", "",
         *latency(res), ""]
    prof = profile(res)
    if prof:
        L += ["### Where the batch spends its time", "", *prof, ""]
    L += ["### Targets of issue 8 (computed from the figures above)", "",
          "\"missed by F×\": the figure would have to improve F-fold. Wall verdicts depend on the machine being "
          "quiet; ideal/CPU verdicts assume each process had a free core.", "", *targets(res), "", END]
    return "\n".join(L) + "\n"


def splice(document: str, block: str) -> str:
    """Replace the generated block of an existing RESULTS.md, keeping the hand-written text around it."""
    if BEGIN in document and END in document:
        head, rest = document.split(BEGIN, 1)
        return head + block.rstrip("\n") + rest.split(END, 1)[1]
    return document.rstrip("\n") + "\n\n" + block
