"""Time and memory budgets (issue 12 item 13): every solving command honours them, --jobs is capped,
and a --time-limit of 0, a negative number, NaN or infinity is refused by every command that has it.

The large-case tests run the CLI in a subprocess with a hard timeout (and an address-space cap
of its own), so a regression can never hang or exhaust the test machine.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from exportkb.budget import (BudgetExceeded, Deadline, MEMORY_CHECK_EVERY, cap_jobs, check_time_limit,
                             enforced)
from exportkb.cli import main
from exportkb.explain import Explainer
from exportkb.case.loader import load_case

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "de-cloud-provider.yaml"
HARD_TIMEOUT = 90  # seconds: the subprocess is killed past this, whatever the code does


def _large_case(tmp_path, n: int = 2000):
    """A valid case with *n* item lines (the loader's maximum is 2,000): its proofs grow quadratically."""
    data = {"case": "large", "date": "2025-06-01", "transaction": "export", "from": "US", "to": "DE",
            "end_use": "datacenter_services",
            "items": [{"id": f"g{i}", "eccn": "3A090.a", "quantity": 1, "tpp": 15832} for i in range(n)],
            "parties": [{"id": "de", "role": "ultimate_consignee", "country": "DE", "headquarters": "DE",
                         "ultimate_parent_headquarters": "DE"}]}
    path = tmp_path / "large.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _cap_child() -> None:  # runs in the child before exec: never more than 3 GB of address space
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (3 * 2**30, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _cli(args: list[str]) -> tuple[int, str, str, float]:
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "exportkb.cli", *args], capture_output=True, text=True,
                          timeout=HARD_TIMEOUT, preexec_fn=_cap_child, cwd=ROOT)
    return proc.returncode, proc.stdout, proc.stderr, time.monotonic() - start


def test_explain_of_a_large_case_stops_at_its_time_limit(tmp_path):
    code, out, err, elapsed = _cli(["explain", str(_large_case(tmp_path)), "--time-limit", "2"])
    assert code == 2, err
    assert "explain exceeded the time limit of 2 s" in err and "--time-limit S" in err
    assert "Traceback" not in err
    assert out == ""  # nothing half-printed
    assert elapsed < 20  # 2 s of budget + interpreter start-up and loading, on a loaded machine


def test_explain_of_a_large_case_stops_at_its_memory_limit(tmp_path):
    code, out, err, elapsed = _cli(["explain", str(_large_case(tmp_path)), "--memory-limit", "200",
                                    "--time-limit", "80"])
    assert code == 2, err
    assert "explain exceeded the memory limit of 200 MB" in err and "--memory-limit MB" in err
    assert "Traceback" not in err


def test_explainer_honours_a_deadline_in_the_proof_builders(kb):
    case = load_case(EXAMPLE, kb)
    session = Explainer(kb, deadline=Deadline(seconds=1e-9, memory_mb=None, what="explain")).case(case)
    with pytest.raises(BudgetExceeded, match=r"explain exceeded the time limit"):
        session.determinations()
    assert Explainer(kb, deadline=Deadline(seconds=60)).case(case).determinations()  # a real budget: done


def test_deadline_checks_resident_memory():
    d = Deadline(seconds=None, memory_mb=1, what="x")  # any process is over 1 MB
    with pytest.raises(BudgetExceeded, match=r"x exceeded the memory limit of 1 MB .*--memory-limit MB"):
        for _ in range(MEMORY_CHECK_EVERY):
            d.check()


def test_a_memory_error_under_a_budget_becomes_the_budget_message_and_the_cap_is_undone():
    import resource
    before = resource.getrlimit(resource.RLIMIT_AS)
    with pytest.raises(BudgetExceeded, match=r"exceeded the memory limit of 512 MB"):
        with enforced(Deadline(seconds=None, memory_mb=512)):
            assert resource.getrlimit(resource.RLIMIT_AS)[0] != resource.RLIM_INFINITY
            raise MemoryError
    assert resource.getrlimit(resource.RLIMIT_AS) == before


COMMANDS = {  # every command with --time-limit, with arguments that would otherwise run
    "check": ["check", str(EXAMPLE)],
    "explain": ["explain", str(EXAMPLE)],
    "explain-html": ["explain-html", str(EXAMPLE), "-o", "{tmp}/x.html"],
    "verify": ["verify", "{tmp}/none.json"],
    "batch": ["batch", str(ROOT / "examples"), "--quiet", "--out", "{tmp}/out.jsonl"],
    "counterfactual": ["counterfactual", str(EXAMPLE), "--goal", "not license_required(gpus)"],
    "test": ["test", str(EXAMPLE)],
    "whatif": ["whatif", str(EXAMPLE), "--vary", "to=DE,FR"],
    "compare": ["compare", str(EXAMPLE), "--reform", "no-aia"],
    "query": ["query", "--list"],
}


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "-inf"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_time_limit_must_be_a_positive_finite_number(tmp_path, command, value):
    args = [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[command]]
    got = CliRunner().invoke(main, [*args, f"--time-limit={value}"])
    assert got.exit_code == 2, got.output
    assert "--time-limit" in got.output and "finite number of seconds greater than 0" in got.output
    assert got.exception is None or isinstance(got.exception, SystemExit)


def test_a_run_over_many_cases_stops_at_its_time_limit(tmp_path, monkeypatch):
    """`exportkb test` has no loop of its own to check a deadline in: the alarm stops it."""
    import exportkb.suites.runner as suite

    def slow_run(self, cases):
        time.sleep(30)
        raise AssertionError("not stopped by the alarm")
    monkeypatch.setattr(suite.Runner, "run", slow_run)
    start = time.monotonic()
    got = CliRunner().invoke(main, ["test", str(EXAMPLE), "--time-limit", "0.5"])
    assert got.exit_code == 2, got.output
    assert "test exceeded the time limit of 0.5 s" in got.stderr
    assert time.monotonic() - start < 10


def test_time_limit_check_accepts_positive_seconds():
    assert check_time_limit(None, None, 0.5) == 0.5
    assert check_time_limit(None, None, None) is None
    for bad in (0.0, -2.0, math.nan, math.inf):
        with pytest.raises(Exception, match="greater than 0"):
            check_time_limit(None, None, bad)


def test_jobs_beyond_the_cpu_count_are_capped_with_a_notice(tmp_path):
    out = tmp_path / "out.jsonl"
    got = CliRunner().invoke(main, ["batch", str(ROOT / "examples"), "--jobs", "10000", "--quiet", "--out", str(out)])
    assert got.exit_code == 0, got.output
    cpus = os.cpu_count() or 1
    assert f"note: --jobs 10000 capped at {cpus}, the number of CPUs" in got.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(list((ROOT / "examples").glob("*.yaml")))


@pytest.mark.parametrize("jobs", ["0", "-4"])
def test_jobs_below_one_is_refused(tmp_path, jobs):
    got = CliRunner().invoke(main, ["batch", str(ROOT / "examples"), "--jobs", jobs, "--quiet",
                                    "--out", str(tmp_path / "o.jsonl")])
    assert got.exit_code == 2
    assert f"--jobs {jobs}: give at least 1 worker process" in got.stderr


def test_cap_jobs_keeps_a_count_within_the_cpus():
    assert cap_jobs(1, cpus=4) == 1 and cap_jobs(4, cpus=4) == 4 and cap_jobs(99, cpus=4) == 4


@pytest.mark.parametrize("bad", [0, 0.0, -1, math.nan, math.inf])
def test_solve_options_refuse_a_time_limit_that_is_no_limit(bad):
    from exportkb.errors import SolveError
    from exportkb.solve.solver import SolveOptions
    with pytest.raises(SolveError, match="greater than 0"):
        SolveOptions(time_limit=bad)
    assert SolveOptions(time_limit=None).time_limit is None and SolveOptions(time_limit=2).time_limit == 2
