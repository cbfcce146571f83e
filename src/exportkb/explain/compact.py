"""Compact proofs (format ``compact-1``) for many cases at close to solving speed.

Why a second recorder beside :mod:`record`: that one grounds, for every rule
``H :- B.``, a twin ``__fired(K, H, (Vars), (Positives))`` next to the original
rule (the body is grounded twice and every firing carries nested terms), then
reads every firing back as clingo Symbols and builds networkx graphs with
English text. Per case that costs ~100× a plain determination. Here:

* each annotated rule ``H :- B.`` (statement K) is rewritten as
  ``__f(K,(V1,..,Vn)) :- B.`` and ``H :- __f(K,(V1,..,Vn)).`` — the body is
  grounded once and the answer carries only the rule index and substitution;
* heads and body atoms are rebuilt in Python as *text* from format strings
  compiled once per rule, with clingo's own printing of the values (so the text
  is exactly clingo's); only the firings a proof reaches are looked at;
* atoms without a case key (derived from kb/ alone) and their derivations are
  computed once per process, not per chunk;
* the model is read as text (one C call), with no clingo Symbol per atom and no
  networkx.

The canonical derivation is the one of :mod:`why`: shortest (level = 1 + the
highest level of what a firing rests on, facts 0), ties to the rule written
first, then the smaller substitution text. Levels are computed by memoised
recursion from the determinations, which is the same minimum as why.py's global
fixpoint because the KB's positive dependency graph is acyclic (checked when the
program is built; a recursive KB falls back to record.py through ``supported``).

The output format is documented in docs/explanations.md ("Compact proofs");
:func:`exportkb.explain.expand.expand` turns it back into format-1 proofs,
identical to ``CaseExplanations.determinations()`` and checked by ``Checker``.
"""
from __future__ import annotations

import re
from typing import Any, Sequence

import clingo
import clingo.ast as A

from ..errors import SolveError
from ..facts import case_facts
from ..kb import KnowledgeBase
from ..model import Case
from .record import AGGEL, FACT, FIRED, RecordingProgram, _TOKEN_RE
from .terms import substitute_text, variables

T = A.ASTType
COMPACT_FORMAT = "compact-1"
F = "__f"
#: The determinations a proof is built for (as in api.DETERMINATIONS; duplicated to keep imports light).
DETERMINATIONS = ("license_required", "license_requirement", "exception_available", "presumption_of_denial",
                  "red_flag", "obligation", "case_obligation", "out_of_scope")
INF = float("inf")

_STR = r'"(?:[^"\\]|\\.)*"'
_VAL_RE = re.compile(rf'{_STR}|[^,"()]+(?:\((?:[^()"]|{_STR})*\))?|\((?:[^()"]|{_STR})*\)')


def split_values(tup: str) -> list[str]:
    """The elements of a tuple as clingo prints it — ``("#0","gpus",a)`` → ['"#0"', '"gpus"', 'a']."""
    inner = tup[1:-1]
    if not inner:
        return []
    if inner[-1] == ",":
        inner = inner[:-1]
    if '"' not in inner and "(" not in inner:
        return inner.split(",")
    vals = _VAL_RE.findall(inner)
    if ",".join(vals) == inner:
        return vals
    return _scan_values(inner)


def _scan_values(inner: str) -> list[str]:
    """Top-level comma split that respects strings and nested parentheses (the rare slow case)."""
    out, depth, start, i, n = [], 0, 0, 0, len(inner)
    while i < n:
        ch = inner[i]
        if ch == '"':
            i += 1
            while inner[i] != '"':
                i += 2 if inner[i] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(inner[start:i])
            start = i + 1
        i += 1
    out.append(inner[start:])
    return out


def tuple_text(vals: Sequence[str]) -> str:
    """A tuple of printed values as clingo prints it (a 1-tuple keeps its comma)."""
    return f"({vals[0]},)" if len(vals) == 1 else f"({','.join(vals)})"


class Template:
    """A KB term with variables, rendered as clingo's text from printed values.

    Plain terms become one ``str.format`` string (C speed); a term with
    arithmetic is substituted as text and evaluated by clingo (rare: one head).
    """

    __slots__ = ("fmt", "text", "names")

    def __init__(self, compiled: tuple, ast: A.AST, names: Sequence[str]):
        pos = {n: i for i, n in enumerate(names)}
        try:
            pieces = _pieces(compiled, pos)
        except KeyError:  # a variable local to a negated literal (`not p(C, _)`): rendered by substitution
            pieces = None
        self.fmt = "".join(p.replace("{", "{{").replace("}", "}}") if isinstance(p, str) else "{%d}" % p
                           for p in pieces) if pieces is not None else None
        self.text = str(ast)
        self.names = tuple(names)

    def __call__(self, vals: Sequence[str]) -> str:
        if self.fmt is not None:
            return self.fmt.format(*vals)
        return str(clingo.parse_term(substitute_text(self.text, dict(zip(self.names, vals)))))


def _pieces(c: tuple, pos: dict[str, int]) -> list | None:
    kind = c[0]
    if kind == "s":
        return [str(c[1])]
    if kind == "v":
        return [pos[c[1]]]
    if kind == "f":
        name, args = c[1], c[2]
        if not args:
            return [name or "()"]
        out: list = [name + "("]
        for i, a in enumerate(args):
            sub = _pieces(a, pos)
            if sub is None:
                return None
            if i:
                out.append(",")
            out.extend(sub)
        out.append(",)" if not name and len(args) == 1 else ")")
        return out
    return None


class FastRule:
    """One recorded rule compiled for text: head, body literals, aggregate elements."""

    __slots__ = ("index", "id", "head", "lits", "aggs", "is_det", "det_name")

    def __init__(self, info, rp: RecordingProgram):
        from .terms import compile_term
        names = info.global_vars
        self.index = info.index
        self.id = info.rule.id
        self.head = Template(compile_term(info.head), info.head, names)
        name = info.signature.split("/")[0]
        self.is_det = name in DETERMINATIONS
        self.det_name = name
        # per body literal: ("pos", tpl) | ("neg", tpl) | ("agg", a) | ("skip", None)
        lits: list[tuple[str, Any]] = []
        aggs: dict[int, tuple] = {}
        for a, cl in enumerate(info.compiled):
            if cl.kind == "symbolic":
                lits.append(("pos" if cl.positive else "neg", Template(cl.term, cl.ast.atom.symbol, names)))
            elif cl.kind == "aggregate":
                lits.append(("agg", a))
                local = _element_locals(cl.ast, names)
                all_names = tuple(names) + tuple(local)
                elements = []
                for el in cl.ast.atom.elements:
                    terms = tuple(Template(compile_term(t), t, all_names) for t in el.terms)
                    pos, neg = [], []
                    for c in el.condition:
                        if c.ast_type == T.Literal and c.atom.ast_type == T.SymbolicAtom:
                            tpl = Template(compile_term(c.atom.symbol), c.atom.symbol, all_names)
                            (pos if c.sign == A.Sign.NoSign else neg).append(tpl)
                    elements.append((terms, tuple(pos), tuple(neg)))
                glob = tuple(names.index(n) for n in rp.aggel_globals.get((info.index, a), ()))
                aggs[a] = (glob, len(local), tuple(elements))
            else:
                lits.append(("skip", None))
        self.lits = tuple(lits)
        self.aggs = aggs


class FastProgram:
    """The rewritten KB and the per-process tables (KB facts, KB-only derivations). Build once per process."""

    def __init__(self, kb: KnowledgeBase, program: RecordingProgram | None = None):
        self.kb = kb
        self.rp = program or RecordingProgram(kb)
        self.rules: dict[int, FastRule] = {}
        recorded: dict[str, list[int]] = {}
        for info in self.rp.infos:
            if info.recording is not None:
                self.rules[info.index] = FastRule(info, self.rp)
                recorded.setdefault(info.rule.text, []).append(info.index)
        self.supported = _acyclic(self.rp)
        lines: list[str] = []
        kept: list[A.AST] = []
        by_text = {t: list(ks) for t, ks in recorded.items()}
        for stmt in kb.statements:
            if stmt.ast_type in (T.ShowSignature, T.ShowTerm):
                continue
            if stmt.ast_type == T.Rule and len(stmt.body) > 0:
                ks = by_text.get(str(stmt))
                if ks:
                    k = ks.pop(0)
                    info = self.rp.infos[k]
                    vars_ = tuple_text(info.global_vars) if info.global_vars else "()"
                    body = "; ".join(str(b) for b in info.body)
                    lines.append(f"{F}({k},{vars_}) :- {body}.")
                    lines.append(f"{info.head_text} :- {F}({k},{vars_}).")
                    continue
            kept.append(stmt)
        lines.append(f"#show {F}/2.")
        lines.append(f"#show {AGGEL}/6.")
        parsed: list[A.AST] = []
        A.parse_string("\n".join(lines), parsed.append)
        aggel = [st for st in self.rp.extra if st.ast_type == T.Rule and st.head.ast_type == T.Literal
                 and st.head.atom.ast_type == T.SymbolicAtom and st.head.atom.symbol.name == AGGEL]
        self.statements = kept + parsed + aggel
        self.static = self._static()

    def add_to(self, ctl: clingo.Control) -> None:
        with A.ProgramBuilder(ctl) as builder:
            for stmt in self.statements:
                builder.add(stmt)

    def _static(self) -> "_Derivations":
        """Solve kb/ alone once: KB facts, and the firings that need no case (shared by every case)."""
        ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
        self.add_to(ctl)
        facts = [f"{FACT}({k},{r.text.rstrip().rstrip('.')})." for k, r in enumerate(self.kb.rules)
                 if r.is_fact and r.head]
        ctl.add("base", [], "\n".join(facts) + f"\n#show {FACT}/2.")
        ctl.ground([("base", [])])
        models: list[str] = []
        ctl.solve(on_model=lambda m: models.append(str(m)))
        if len(models) != 1:
            raise SolveError("the knowledge base alone has no single answer set — run `exportkb lint`")
        self.kb_facts: dict[str, int] = {}
        firings: list[tuple[int, str]] = []
        aggs: dict[tuple, list] = {}
        for tok in _TOKEN_RE.findall(models[0]):
            if tok.startswith(F + "("):
                c = tok.index(",", 4)
                firings.append((int(tok[4:c]), tok[c + 1:-1]))
            elif tok.startswith(FACT + "("):
                c = tok.index(",", len(FACT) + 1)
                self.kb_facts.setdefault(tok[c + 1:-1], int(tok[len(FACT) + 1:c]))
            elif tok.startswith(AGGEL + "("):
                _add_aggel(aggs, clingo.parse_term(tok))
        self.static_firings = set(firings)
        return _Derivations(self, frozenset(), firings, aggs, None)


def _element_locals(lit: A.AST, global_vars: Sequence[str]) -> list[str]:
    """The aggregate's local variables, in the order why.py zips them with the recorded values."""
    out: dict[str, None] = {}
    for el in lit.atom.elements:
        for v in variables(el):
            if v not in global_vars:
                out.setdefault(v, None)
    return list(out)


def _add_aggel(aggs: dict, sym: clingo.Symbol) -> None:
    args = sym.arguments
    aggs.setdefault((args[0].number, args[1].number, str(args[4])), []).append((args[3], args[5]))


def _acyclic(rp: RecordingProgram) -> bool:
    """Whether the positive dependency graph between predicates is acyclic (levels by recursion are exact)."""
    deps: dict[str, set[str]] = {}
    for info in rp.infos:
        if info.recording is None:
            continue
        for cl in info.compiled:
            if cl.kind == "symbolic" and cl.positive and cl.term[0] == "f":
                deps.setdefault(info.signature, set()).add(f"{cl.term[1]}/{len(cl.term[2])}")
            elif cl.kind == "aggregate":
                for el in cl.ast.atom.elements:
                    for c in el.condition:
                        if c.ast_type == T.Literal and c.atom.ast_type == T.SymbolicAtom:
                            s = c.atom.symbol
                            if s.ast_type == T.Function:
                                deps.setdefault(info.signature, set()).add(f"{s.name}/{len(s.arguments)}")
    state: dict[str, int] = {}

    def visit(n: str) -> bool:
        st = state.get(n)
        if st == 1:
            return False
        if st == 2:
            return True
        state[n] = 1
        ok = all(visit(m) for m in deps.get(n, ()))
        state[n] = 2
        return ok

    return all(visit(n) for n in list(deps))


class _Derivations:
    """Firings of one case (or of kb/ alone) by head text; levels and canonical firings on demand."""

    def __init__(self, prog: FastProgram, inputs: frozenset[str] | set[str], firings: list[tuple[int, str]],
                 aggs: dict[tuple, list], fallback: "_Derivations | None"):
        self.prog = prog
        self.inputs = inputs
        self.aggs = aggs
        self.fallback = fallback
        self.by_head: dict[str, list] = {}
        rules = prog.rules
        by_head = self.by_head
        for k, tup in firings:
            vals = split_values(tup)
            head = rules[k].head(vals)
            got = by_head.get(head)
            if got is None:
                by_head[head] = [(k, tup, vals)]
            else:
                got.append((k, tup, vals))
        self.level: dict[str, int] = {}
        self.best: dict[str, tuple] = {}
        self._agg_cache: dict[tuple, list] = {}

    def owner(self, atom: str) -> "_Derivations | None":
        """Where *atom*'s derivation lives: here, in kb/'s table, or nowhere (a fact)."""
        if atom in self.by_head:
            return self
        if self.fallback is not None and atom in self.fallback.by_head:
            return self.fallback
        return None

    def level_of(self, atom: str) -> int:
        lv = self.level.get(atom)
        if lv is not None:
            return lv
        if atom in self.inputs or atom in self.prog.kb_facts:
            return 0
        fs = self.by_head.get(atom)
        if fs is None:
            if self.fallback is not None:
                return self.fallback.level_of(atom)
            raise LookupError(f"{atom} is not in the answer set")
        if len(fs) > 1:
            fs.sort(key=_order)
        best, best_lv = None, INF
        for f in fs:
            worst = 0
            for d in self.deps(f):
                lv = self.level_of(d)
                if lv > worst:
                    worst = lv
            if worst + 1 < best_lv:
                best, best_lv = f, worst + 1
        self.level[atom] = best_lv
        self.best[atom] = best
        return best_lv

    def deps(self, f: tuple) -> list[str]:
        k, _tup, vals = f
        rule = self.prog.rules[k]
        out = []
        for kind, x in rule.lits:
            if kind == "pos":
                out.append(x(vals))
            elif kind == "agg":
                for pos, _neg in self.elements(f, x):
                    out.extend(pos)
        return out

    def elements(self, f: tuple, a: int) -> list[tuple[list[str], list[str]]]:
        """The element instances aggregate *a* of firing *f* counted: (positive atoms, negated atoms), sorted as why.py."""
        k, tup, vals = f
        ck = (k, tup, a)
        got = self._agg_cache.get(ck)
        if got is not None:
            return got
        glob, _nlocal, elements = self.prog.rules[k].aggs[a]
        gl = tuple_text([vals[i] for i in glob]) if glob else "()"
        raw = self.aggs.get((k, a, gl))
        if raw is None and self.fallback is not None:
            raw = self.fallback.aggs.get((k, a, gl))
        out = []
        for terms, locals_ in sorted(raw or [], key=str):
            s = list(vals) + [str(x) for x in locals_.arguments]
            want = tuple(str(x) for x in terms.arguments)
            for ttpls, pos, neg in elements:
                if len(ttpls) != len(want) or tuple(t(s) for t in ttpls) != want:
                    continue
                out.append(([p(s) for p in pos], [q(s) for q in neg]))
                break
            else:
                out.append(([], []))
        self._agg_cache[ck] = out
        return out


def _order(f: tuple) -> tuple[int, str]:
    return f[0], f[1]


class CompactBuilder:
    """The compact proof of one case: one DAG covering all its determinations."""

    def __init__(self, prog: FastProgram, case: Case, key: str, d: _Derivations):
        self.prog = prog
        self.case = case
        self.d = d
        self.key_text = f'"{key}"'
        self.case_text = str(clingo.String(case.case))
        self.ids: dict[str, int] = {}
        self.nodes: list[dict[str, Any]] = []
        self.rules: dict[str, dict[str, str]] = {}

    def rekey(self, text: str) -> str:
        return text.replace(self.key_text, self.case_text) if self.key_text in text else text

    def goals(self) -> list[str]:
        prefix_len = {}
        out = []
        kt = self.key_text
        for head, fs in self.d.by_head.items():
            rule = self.prog.rules[fs[0][0]]
            if not rule.is_det:
                continue
            n = prefix_len.get(rule.det_name)
            if n is None:
                n = prefix_len[rule.det_name] = len(rule.det_name) + 1
            if head.startswith(kt, n) and head[n + len(kt)] in ",)":
                out.append(head)
        if len(out) > 1:  # the order of determinations(): clingo's symbol order
            out = [str(s) for s in sorted(clingo.parse_term(t) for t in out)]
        return out

    def build(self) -> dict[str, Any]:
        goals = [self.node(g) for g in self.goals()]
        return {"proof_format": COMPACT_FORMAT, "kb_version": self.prog.kb.version, "goals": goals,
                "nodes": self.nodes, "rules": self.rules}

    def _cite(self, k: int) -> str:
        r = self.prog.kb.rules[k]
        if r.id not in self.rules:
            self.rules[r.id] = {"cite": r.cite, "source": r.source}
        return r.id

    def node(self, atom: str) -> int:
        i = self.ids.get(atom)
        if i is not None:
            return i
        i = self.ids[atom] = len(self.nodes)
        nd: dict[str, Any] = {"a": self.rekey(atom)}
        self.nodes.append(nd)
        d = self.d
        if atom in d.inputs:
            nd["case_fact"] = True
            return i
        k = self.prog.kb_facts.get(atom)
        if k is not None:
            nd["k"] = k
            nd["r"] = self._cite(k)
            return i
        owner = d.owner(atom)
        if owner is None:
            raise LookupError(f"{atom} is not in the answer set")
        level = owner.level_of(atom)
        f = owner.best[atom]
        k, _tup, vals = f
        rule = self.prog.rules[k]
        prem: list[int] = []
        neg: list[str] = []
        groups: list[list[list[int]]] = []
        for kind, x in rule.lits:
            if kind == "pos":
                prem.append(self.node(x(vals)))
            elif kind == "neg":
                neg.append(self.rekey(x(vals)))
            elif kind == "agg":
                group = []
                for pos, ng in owner.elements(f, x):
                    prem.extend(self.node(p) for p in pos)
                    neg.extend(self.rekey(q) for q in ng)
                    group.append([len(pos), len(ng)])
                groups.append(group)
        nd["k"] = k
        nd["r"] = self._cite(k)
        nd["s"] = [self.rekey(v) for v in vals]
        nd["l"] = level
        nd["p"] = prem
        if neg:
            nd["n"] = neg
        if groups:
            nd["g"] = groups
        return i


class CompactRecorder:
    """Solves cases with the rewritten KB and returns one compact proof per case."""

    def __init__(self, kb: KnowledgeBase, program: FastProgram | None = None, chunk_size: int = 1000):
        self.kb = kb
        self.program = program or FastProgram(kb)
        self.chunk_size = chunk_size

    def prove(self, case: Case) -> dict[str, Any]:
        return self.prove_many([case])[0]

    def prove_many(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(cases), self.chunk_size):
            out.extend(self._chunk(cases[start:start + self.chunk_size]))
        return out

    def _chunk(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        prog = self.program
        keys = [f"#{n}" for n in range(len(cases))]
        ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
        prog.add_to(ctl)
        inputs: list[set[str]] = []
        with ctl.backend() as backend:
            for case, key in zip(cases, keys):
                facts = case_facts(case, key)
                inputs.append({str(s) for s in facts})
                for sym in facts:
                    backend.add_rule([backend.add_atom(sym)])
        ctl.ground([("base", [])])
        ctl.configuration.solve.models = 2
        models: list[str] = []
        ctl.solve(on_model=lambda m: models.append(str(m)))
        if len(models) != 1:
            raise SolveError(f"recording {len(cases)} case(s) (first: {cases[0].case!r}) gave {len(models)} answer "
                             "sets; the KB must be stratified with one answer per case — run `exportkb lint`")
        index = {k: i for i, k in enumerate(keys)}
        firings: list[list[tuple[int, str]]] = [[] for _ in cases]
        aggs: list[dict] = [{} for _ in cases]
        shared: list[tuple[int, str]] = []
        shared_aggs: dict = {}
        static = prog.static_firings
        for tok in _TOKEN_RE.findall(models[0]):
            if tok[3] == "(":  # __f(
                c = tok.index(",", 4)
                k, tup = int(tok[4:c]), tok[c + 1:-1]
                i = None
                if tup.startswith('("#'):
                    i = index.get(tup[2:tup.index('"', 2)])
                if i is None:
                    i = _find_key(tup, index)
                if i is not None:
                    firings[i].append((k, tup))
                elif (k, tup) not in static:
                    shared.append((k, tup))
            elif tok.startswith(AGGEL + "("):
                sym = clingo.parse_term(tok)
                i = _first_key(sym.arguments[4], index)
                _add_aggel(aggs[i] if i is not None else shared_aggs, sym)
        out = []
        for n, (case, key) in enumerate(zip(cases, keys)):
            fs = firings[n] + shared if shared else firings[n]
            ag = {**shared_aggs, **aggs[n]} if shared_aggs else aggs[n]
            d = _Derivations(prog, inputs[n], fs, ag, prog.static)
            out.append(CompactBuilder(prog, case, key, d).build())
        return out


def _find_key(tup: str, index: dict[str, int]) -> int | None:
    if '"#' not in tup:
        return None
    for v in split_values(tup):
        if v.startswith('"#'):
            i = index.get(v[1:-1])
            if i is not None:
                return i
    return None


def _first_key(tup: clingo.Symbol, index: dict[str, int]) -> int | None:
    for a in tup.arguments:
        if a.type == clingo.SymbolType.String and a.string in index:
            return index[a.string]
    return None


def prove_compact(kb: KnowledgeBase, cases: Sequence[Case], recorder: CompactRecorder | None = None) -> list[dict]:
    """A compact proof (format ``compact-1``) of every determination of each case."""
    return (recorder or CompactRecorder(kb)).prove_many(list(cases))


__all__ = ["COMPACT_FORMAT", "CompactRecorder", "FastProgram", "prove_compact", "split_values", "FIRED"]
