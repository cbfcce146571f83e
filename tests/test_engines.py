"""The second engine: the pyDatalog translation of kb/ must agree with clingo on every case.

Also: the fragment lint (`fragment_problems`) and the translation of each construct of
the fragment, checked differentially against clingo on small programs.
"""
from __future__ import annotations

import textwrap

import clingo
import clingo.ast
import pytest

from exportkb import KnowledgeBase
from exportkb.engines import PyDatalogEngine, TranslationError, evaluate, fragment_problems, translate
from exportkb.case.loader import load_case

from .conftest import CASES


def corpus_files():
    """Every regression case (tests/cases/**, not bad/) — read at run time: the corpus grows."""
    return sorted(p for ext in ("*.yaml", "*.yml", "*.json") for p in CASES.rglob(ext)
                  if "bad" not in p.relative_to(CASES).parts)


def _clingo_shown(program: str) -> list[str]:
    ctl = clingo.Control(["--warn=none"])
    ctl.add("base", [], program)
    ctl.ground([("base", [])])
    models = []
    with ctl.solve(yield_=True) as handle:
        for m in handle:
            models.append(sorted(str(s) for s in m.symbols(shown=True)))
    assert len(models) == 1, "test programs must be stratified"
    return models[0]


def _pydatalog_shown(program: str) -> list[str]:
    stmts: list = []
    clingo.ast.parse_string(program, stmts.append)
    tr = translate(stmts)
    assert tr.problems == []
    return sorted(str(s) for s in evaluate(tr, []))


# --------------------------------------------------------------------------- the corpus
def test_shipped_kb_is_inside_the_fragment(kb):
    assert fragment_problems(kb) == []


def test_corpus_agrees_on_both_engines(kb, solver):
    files = corpus_files()
    assert len(files) >= 10
    cases = [load_case(p, kb) for p in files]
    engine = PyDatalogEngine(kb)
    by_clingo = solver.models(cases)
    by_pydatalog = engine.models(cases)
    for case, a, b in zip(cases, by_clingo, by_pydatalog):
        sa, sb = {str(x) for x in a}, {str(x) for x in b}
        if sa != sb:
            first = sorted(sa ^ sb)[0]
            side = "clingo only" if first in sa else "pydatalog only"
            pytest.fail(f"{case.source}: engines disagree; first differing atom {first} ({side}); "
                        f"{len(sa ^ sb)} atom(s) differ")
    # the determinations read from the atoms are then the same too
    dets = list(engine.determine_many(cases[:5]))
    assert [d.to_json() for d in dets] == [d.to_json() for d in solver.determine_many(cases[:5])]


def test_pydatalog_state_is_cleared_between_batches(kb):
    from pyDatalog import pyDatalog
    engine = PyDatalogEngine(kb)
    case = load_case(corpus_files()[0], kb)
    first = engine.models([case])
    with pytest.raises(AttributeError, match="without definition"):  # nothing left behind after a batch
        pyDatalog.ask("case__1(X)")
    assert engine.models([case]) == first


# --------------------------------------------------------------------------- each construct
@pytest.mark.parametrize("program", [
    # default negation, with a variable of its own (projected) and without
    "c(1). c(2). q(1,a). nq(C) :- c(C), not q(C,_). r(C) :- c(C), not q(C,b). #show nq/1. #show r/1.",
    # #sum over a set of tuples (duplicate weights count once per tuple), empty #sum is 0
    "c(1). c(2). p(1,a,5). p(1,b,5). p(1,c,7). q(1,a). q(1,b)."
    "s(C,S) :- c(C), S = #sum { T, I : p(C,I,T), q(C,I) }. #show s/2.",
    # #count with a comparison guard, empty #count is 0
    "c(1). c(2). p(1,a). p(1,b). few(C) :- c(C), #count { I : p(C,I) } < 2. n(C,N) :- c(C), N = #count{ I : p(C,I) }."
    "#show few/1. #show n/2.",
    # arithmetic: clingo's truncating division and modulo, division by zero drops the instance
    "n(-7). n(7). n(0). d(1). d(0). d(-2). q(X,Y,Z) :- n(X), d(Y), Z = X / Y. m(X,Y,Z) :- n(X), d(Y), Z = X \\ Y."
    "a(X,Z) :- n(X), Z = -X * 2 + 1. #show q/3. #show m/3. #show a/2.",
    # strings and constants never meet; function terms in heads; 0-ary predicates
    'v("a"). v(a). v(1). isstr(X) :- v(X), X = "a". notc(X) :- v(X), X != a. f(g(X, "y z")) :- v(X).'
    "z :- v(1). nz :- not z. #show isstr/1. #show notc/1. #show f/1. #show z/0. #show nz/0.",
    # comparisons between bound variables, arithmetic in a head, positive recursion
    "e(1,2). e(2,3). e(3,4). path(X,Y) :- e(X,Y). path(X,Z) :- path(X,Y), e(Y,Z). far(X,Y,Y-X) :- path(X,Y), Y - X >= 2."
    "#show far/3.",
])
def test_construct_agrees_with_clingo(program):
    assert _pydatalog_shown(program) == _clingo_shown(program)


# --------------------------------------------------------------------------- the lint
@pytest.mark.parametrize("statement, reason", [
    ("{ p(X) } :- q(X).", "choice rule"),
    ("p(X) ; r(X) :- q(X).", "disjunction"),
    (":- q(X), X > 3.", "integrity constraint"),
    (":~ q(X). [X@1]", "optimisation"),
    ("#minimize { X : q(X) }.", "optimisation"),
    ("p(X) :- q(X;Y), r(Y).", "pool"),
    ("p(1..3).", "pool or interval"),
    ("p(X) :- X = 1..3.", "interval"),
    ("p(X) :- q(X), r(Y) : s(Y).", "conditional literal"),
    ("#const n = 3.", "#const"),
    ("#external e(1).", "#external"),
    ("p(X) :- q(X), not p(X).", "not stratified"),
    ("p(X) :- q(X), X = #max { Y : q(Y) }.", "#max"),
    ("p(X) :- q(Y), X = Y ** 2.", "Power"),
    ("#show f(X) : q(X).", "#show of a term"),
])
def test_fragment_problems_names_what_is_outside(tmp_path, statement, reason):
    (tmp_path / "a.lp").write_text(textwrap.dedent(f"""\
        %! id: t.q
        %! cite: none
        %! source: test
        %! reads: q
        q(1).
        %! id: t.x
        %! cite: none
        %! source: test
        %! reads: the construct under test
        {statement}
        """), encoding="utf-8")
    kb = KnowledgeBase.load(tmp_path)
    problems = fragment_problems(kb)
    assert problems, statement
    assert any(reason in p for p in problems), problems
    # the statement sits on line 10 of a.lp (#show of a term is not an annotated rule: parser location)
    assert any(p.startswith(("a.lp:10:", "<string>:10:")) for p in problems), problems
    with pytest.raises(TranslationError):
        PyDatalogEngine(kb)
