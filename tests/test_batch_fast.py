"""The batch's fast paths give exactly what the slow, public-API paths give.

* facts: :class:`exportkb.solve.fastclingo.FactWriter` (raw symbols into the backend) adds the same
  facts as :func:`exportkb.case.facts.case_facts` (clingo ``Symbol`` objects);
* shown atoms: :meth:`AtomReader.rows` reads the same (name, arguments, text) per case as
  printing the model and parsing its text (``split_atoms`` + ``parse_flat``, exportkb.solve.atoms);
* determinations: equal, JSON and raw atoms, whichever path solved them;
* worker processes: ``run_batch`` with 2 processes and small chunks gives the rows of 1 process;
* the loader's skip of the NUL/surrogate scan for JSON without ``\\u`` escapes loses no error.

Over the regression corpus (tests/cases, without bad/): real cases with every kind of fact.
"""
from __future__ import annotations

import json
from pathlib import Path

import clingo
import pytest

from exportkb.solve import fastclingo
from exportkb.batch import Row, read_rows, run_batch
from exportkb.case.facts import case_facts, emit_facts
from exportkb.case.loader import load_case, read_document
from exportkb.solve.solver import SolveOptions, Solver

from .conftest import CASES

GOOD_FILES = sorted(p for p in CASES.rglob("*.yaml") if "bad" not in p.relative_to(CASES).parts)

pytestmark = pytest.mark.skipif(not fastclingo.AVAILABLE, reason="clingo's cffi handles are not available")


@pytest.fixture(scope="module")
def corpus(kb):
    assert GOOD_FILES, "no regression cases found"
    return [load_case(p, kb) for p in GOOD_FILES]


def test_fact_writer_adds_exactly_case_facts(corpus):
    keys = [f"#{n}" for n in range(len(corpus))]
    ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
    with ctl.backend() as backend:
        w = fastclingo.FactWriter(backend)
        for case, key in zip(corpus, keys):
            emit_facts(case, key, w.string, w.number, w.constant, w.adder)
    ctl.ground([("base", [])])
    added = {a.symbol for a in ctl.symbolic_atoms if a.is_fact}
    expected = {sym for case, key in zip(corpus, keys) for sym in case_facts(case, key)}
    assert added == expected
    assert len(expected) > 20 * len(corpus)  # the corpus really exercises many facts


def test_atom_reader_reads_what_the_text_parser_reads(kb, corpus, monkeypatch):
    solver = Solver(kb, SolveOptions(chunk_size=10**9))
    keys = [f"#{n}" for n in range(len(corpus))]
    fast = solver._solve_rows(corpus, keys, texts=True)
    monkeypatch.setattr(fastclingo, "AVAILABLE", False)
    slow = solver._solve_rows(corpus, keys, texts=True)
    assert sum(map(len, slow)) > 5 * len(corpus)
    for case, f, s in zip(corpus, fast, slow):
        assert sorted(f, key=repr) == sorted(s, key=repr), case.case


def test_determinations_equal_on_both_paths(kb, corpus, monkeypatch):
    fast = list(Solver(kb, SolveOptions(chunk_size=10**9)).determine_many(corpus))
    lean = list(Solver(kb, SolveOptions(chunk_size=10**9, atoms=False)).determine_many(corpus))
    monkeypatch.setattr(fastclingo, "AVAILABLE", False)
    slow = list(Solver(kb, SolveOptions(chunk_size=10**9)).determine_many(corpus))
    for case, f, l, s in zip(corpus, fast, lean, slow):
        assert f.to_json() == s.to_json() == l.to_json(), case.case
        assert f.atoms == s.atoms and f.atoms, case.case
        assert l.atoms == []  # atoms=False: not built


def _log_rows(tmp_path: Path) -> tuple[Path, dict[int, str]]:
    """A JSONL log of the corpus with bad rows mixed in; returns (path, bad line → what is wrong)."""
    lines, bad = [], {}
    for i, p in enumerate(GOOD_FILES):
        data, _ = read_document(p)
        if i == 2:
            lines.append("{not json")
            bad[len(lines)] = "invalid JSON"
        if i == 5:  # NUL and a lone surrogate only reach a JSON string as \u escapes
            lines.append(json.dumps(dict(data, case="nul\u0000id"), default=str))
            bad[len(lines)] = "NUL"
        if i == 6:
            lines.append(json.dumps(dict(data, title="x\ud800y"), default=str))
            bad[len(lines)] = "surrogate"
        lines.append(json.dumps(data, default=str, ensure_ascii=i % 2 == 0))
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", errors="surrogatepass")
    return path, bad


def test_two_processes_small_chunks_give_the_rows_of_one(tmp_path):
    path, bad = _log_rows(tmp_path)
    runs = {}
    for jobs, chunk in ((1, None), (2, 7)):
        got = []
        summary = run_batch(read_rows(path), jobs=jobs, chunk=chunk, on_result=got.append)
        runs[jobs] = ([(r.line, r.text, r.error) for r in got], summary.to_json())
    assert runs[1] == runs[2]
    rows, summary = runs[1]
    errors = {line: error for line, _, error in rows if error is not None}
    assert sorted(errors) == sorted(bad)
    for line, what in bad.items():
        assert what in errors[line] and f":{line}" in errors[line]
    assert summary["cases"] == len(GOOD_FILES) and summary["errors"] == len(bad)
    assert [line for line, _, _ in rows] == sorted(line for line, _, _ in rows)
    assert all(json.loads(text)["line"] == line for line, text, _ in rows if text is not None)


def test_rows_decode_lazily_for_library_callers(tmp_path):
    """read_rows gives JSONL rows undecoded (the worker decodes), but .data/.error still work."""
    path = tmp_path / "log.jsonl"
    path.write_text('{"case": "a", "n": 1.10}\n\n[oops\n', encoding="utf-8")
    rows = list(read_rows(path))
    assert [r.line for r in rows] == [1, 3]
    assert rows[0].raw is not None and rows[0].error is None and str(rows[0].data["n"]) == "1.10"
    assert rows[1].data is None and "invalid JSON" in rows[1].error and f"{path}:3" in rows[1].error
    assert Row(4, {"x": 1}).data == {"x": 1} and Row(4, {"x": 1}).error is None
