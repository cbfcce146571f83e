"""Why an atom does NOT hold: the tree of failed conditions of every rule that could conclude it.

For a goal g (ground, or a pattern with unknown arguments) and every KB rule
whose head unifies with g, a small program is generated and grounded against
the case's recorded answer set (as facts):

    __try(R, 0, (Vs0)) :- __g(R, <head args>).
    __try(R, k, (Vsk)) :- __g(R, <head args>), L1, ..., Lk.      (k = 1..n)

with the body literals in a safe order (written order, a literal moved later
only until its variables are bound). The goal's values reach clingo as facts
``__g`` through the backend, never as program text. For each binding of the
first k literals that no binding of the first k+1 extends, literal k+1 is the
condition that failed for it. A failed positive literal is explained by its own
why-not tree (an existential one — "there is no party with ..." — when some of
its arguments are still unknown), a failed ``not q`` by q's why-proof, a failed
comparison or aggregate by its ground value. Recursion stops at ``depth``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import clingo

from .build import Pattern, ProofBuilder
from .goals import ExplainError
from .record import RuleInfo
from .terms import instantiate, substitute_text
from .why import WhyBuilder

if TYPE_CHECKING:
    from ..budget import Deadline

_ASSIGN = re.compile(r"^\s*(_*[A-Z][A-Za-z0-9_']*)\s*=\s*(.+)$")
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_VAR_RE = re.compile(r"(?<![A-Za-z0-9_'])(_*[A-Z][A-Za-z0-9_']*)(?![A-Za-z0-9_'(])")
_SIMPLE_TERM = re.compile(r'^(_*[A-Z][A-Za-z0-9_\']*|[a-z][A-Za-z0-9_\']*|-?[0-9]+|"(?:[^"\\]|\\.)*")$')


def _vars(text: str) -> list[str]:
    return list(dict.fromkeys(_VAR_RE.findall(_STRING_RE.sub('""', text))))


@dataclass
class _Plan:
    info: RuleInfo
    goal_positions: list[int]          # goal argument positions passed in __g
    order: list[int]                   # body literal indices in evaluation order
    bound: list[list[str]]             # variables bound after 0..n literals (prefix-closed)
    head_constraints: list[str]        # "H = _G" texts evaluated after the body


GOAL, TRY = "__g", "__try"


class ModelQueries:
    """One clingo Control holding a case's answer set as facts; each query is a new program part.

    Multi-shot grounding: the answer set is added once, and every query (a
    generated prefix program with its own predicate names) is grounded on top of
    it — adding the model's atoms anew per query cost most of the time.
    """

    def __init__(self, atoms: set[clingo.Symbol]):
        self.atoms = atoms
        self.ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
        with self.ctl.backend() as backend:
            for sym in atoms:
                backend.add_rule([backend.add_atom(sym)])
        self.ctl.ground([("base", [])])
        self.n = 0

    def run(self, lines: list[str], facts: list[clingo.Symbol]) -> dict[tuple[int, int], set[tuple]]:
        self.n += 1
        goal, try_ = f"{GOAL}_{self.n}", f"{TRY}_{self.n}"
        text = "\n".join(lines).replace(f"{GOAL}(", f"{goal}(").replace(f"{TRY}(", f"{try_}(")
        part = f"whynot_{self.n}"
        try:
            self.ctl.add(part, [], text)
        except RuntimeError as exc:
            raise RuntimeError(f"why-not analysis program does not parse: {exc}\n{text}") from None
        with self.ctl.backend() as backend:
            for f in facts:
                backend.add_rule([backend.add_atom(clingo.Function(goal, f.arguments))])
        try:
            self.ctl.ground([(part, [])])
        except RuntimeError:
            self.__init__(self.atoms)  # a failed grounding leaves the control unusable
            raise ExplainError("the why-not analysis program could not be grounded (a bug in exportkb: "
                               "please report it with the case):\n" + text) from None
        found: dict[tuple[int, int], set[tuple]] = {}
        for sa in self.ctl.symbolic_atoms.by_signature(try_, 3):
            a = sa.symbol.arguments
            found.setdefault((a[0].number, a[1].number), set()).add(tuple(a[2].arguments))
        return found


class WhyNotBuilder:
    """Adds why-not nodes to a ProofBuilder graph."""

    def __init__(self, builder: ProofBuilder, why: WhyBuilder, queries: ModelQueries | None = None,
                 deadline: "Deadline | None" = None):
        self.b = builder
        self.why = why
        self.deadline = deadline if deadline is not None else why.deadline  # checked once per step
        self._stack: set[Pattern] = set()
        self.queries = queries or ModelQueries(builder.model.atoms)

    def explain(self, atom: clingo.Symbol, depth: int) -> str:
        return self.not_derived(Pattern(atom.name, tuple(atom.arguments)), depth)

    # ------------------------------------------------------------- the tree
    def not_derived(self, goal: Pattern, depth: int) -> str:
        b = self.b
        if self.deadline is not None:
            self.deadline.check()
        key = ("not", goal, depth)
        term = _pattern_term(goal)
        nid, new = b.node(key, kind="not_derived", holds=False, pattern=not goal.ground, **b.atom_attrs(term))
        if not new:
            return nid
        node = b.graph.nodes[nid]
        sig = goal.signature
        if sig in b.kb.inputs:
            node["reason"] = "not_stated"
            fld = b.field_attrs(term)
            if fld:
                node["field"] = fld
            return nid
        candidates = b.program.by_signature.get(sig, [])
        if not candidates:
            node["reason"] = "not_in_kb" if sig in b.program.fact_signatures else "no_rule"
            return nid
        if depth <= 0:
            node["reason"] = "depth"
            node["expanded"] = False
            return nid
        if goal in self._stack:
            node["reason"] = "cycle"
            node["expanded"] = False
            return nid
        self._stack.add(goal)
        try:
            plans = [p for p in (self._plan(info, goal) for info in candidates) if p is not None]
            if not plans:
                node["reason"] = "no_match"
                return nid
            failures = self._failures(goal, plans)
            for order, plan in enumerate(plans):
                info = plan.info
                aid, _ = b.node(("attempt", goal, depth, info.index), kind="attempt", holds=False,
                                rule=b.rule_attrs(info), display=info.rule.id, statement=info.rule.reads)
                b.link(nid, aid, order, "attempt")
                for n, (lit_index, binding) in enumerate(failures.get(info.index, [])):
                    child = self._failed_literal(info, lit_index, binding, depth)
                    b.graph.add_edge(aid, child, order=n, role="fails", literal=str(info.body[lit_index]),
                                     literal_index=lit_index, substitution=b.subst_attrs(binding))
        finally:
            self._stack.discard(goal)
        return nid

    def _failed_literal(self, info: RuleInfo, i: int, binding: dict[str, clingo.Symbol], depth: int) -> str:
        b = self.b
        if self.deadline is not None:
            self.deadline.check()
        cl = info.compiled[i]
        if cl.kind == "symbolic":
            pat = _partial(cl.term, binding)
            if cl.positive:
                return self.not_derived(pat, depth - 1)
            sym = pat.symbol()
            nid, new = b.node(("negfail", sym), kind="negation_fails", holds=False, **b.atom_attrs(sym))
            if new:
                b.link(nid, self.why.prove(sym), 0, "holds")
            return nid
        text = substitute_text(cl.text, binding).replace(f'"{b.model.key}"', str(clingo.String(b.case.case)))
        nid, _ = b.node(("falsecond", text), kind=cl.kind, holds=False, value=text, atom=text)
        return nid

    # ----------------------------------------------------- failure analysis
    def _plan(self, info: RuleInfo, goal: Pattern) -> _Plan | None:
        """Head unification and a safe literal order; None if the head cannot match the goal."""
        head = info.head
        hargs = list(head.arguments) if head.ast_type.name == "Function" else list(head.symbol.arguments)
        if len(hargs) != len(goal.args):
            return None
        positions, constraints, bound = [], [], []
        for i, (h, g) in enumerate(zip(hargs, goal.args)):
            if not isinstance(g, clingo.Symbol):
                continue
            if isinstance(h, clingo.Symbol):  # a constant head argument read from a SymbolicTerm head
                if h != g:
                    return None
                continue
            t = h.ast_type.name
            if t == "SymbolicTerm":
                if h.symbol != g:
                    return None
                continue
            positions.append(i)
            if t == "Variable":
                bound.append(h.name)
            else:
                constraints.append(str(h))
        compiled = info.compiled
        texts = [cl.text for cl in compiled]
        rule_vars = set(_vars(info.head_text))  # global variables: outside aggregate elements
        for t in texts:
            rule_vars |= set(_vars(_outside_braces(t)))
        done: set[str] = set(bound)
        steps: list[list[str]] = [list(dict.fromkeys(bound))]
        order: list[int] = []
        remaining = list(range(len(compiled)))
        while remaining:
            pick = None
            for j in remaining:
                ok, binds = _ready(compiled[j], texts[j], done, rule_vars)
                if ok:
                    pick = (j, binds)
                    break
            if pick is None:
                j = remaining[0]
                pick = (j, set(_vars(_outside_braces(texts[j]))))
            j, binds = pick
            remaining.remove(j)
            order.append(j)
            done |= binds
            steps.append(steps[-1] + [v for v in _vars(_outside_braces(texts[j])) if v in binds and v not in steps[-1]])
        return _Plan(info, positions, order, steps, constraints)

    def _failures(self, goal: Pattern, plans: list[_Plan]) -> dict[int, list[tuple[int, dict]]]:
        """Ground the prefix programs against the answer set; per rule, the (literal, binding) that failed."""
        lines: list[str] = []
        facts: list[clingo.Symbol] = []
        for r, plan in enumerate(plans):
            info = plan.info
            hargs = _head_arg_texts(info)
            gargs = []
            cons = []
            for i in plan.goal_positions:
                txt = hargs[i]
                if _SIMPLE_TERM.match(txt):
                    gargs.append(txt)
                else:
                    gargs.append(f"_G{i}")
                    cons.append(f"_G{i} = {txt}")
            facts.append(clingo.Function(GOAL, [clingo.Number(r), *[goal.args[i] for i in plan.goal_positions]]))
            gl = f"{GOAL}({', '.join([str(r)] + gargs)})"
            body = [gl]
            for k in range(len(plan.order) + 1):
                if k > 0:
                    body.append(plan.info.compiled[plan.order[k - 1]].text)
                vs = plan.bound[k]
                extra = cons if k == len(plan.order) else []
                lines.append(f"{TRY}({r}, {k}, ({', '.join(vs)}{',' if len(vs) == 1 else ''})) :- "
                             f"{'; '.join(body + extra)}.")
        found = self.queries.run(lines, facts)
        out: dict[int, list[tuple[int, dict]]] = {}
        for r, plan in enumerate(plans):
            fails: list[tuple[int, dict]] = []
            n = len(plan.order)
            for k in range(n):
                here = found.get((r, k), set())
                width = len(plan.bound[k])
                extended = {t[:width] for t in found.get((r, k + 1), set())}
                for t in sorted(here - extended, key=str):
                    fails.append((plan.order[k], dict(zip(plan.bound[k], t))))
            if found.get((r, n)) and not fails:
                # the whole body holds but the head constraint (arithmetic head) does not match the goal
                fails = []
            out[plan.info.index] = fails
        return out


def _ready(cl, text: str, done: set[str], rule_vars: set[str]) -> tuple[bool, set[str]]:
    vs = set(_vars(text))
    if cl.kind == "symbolic":
        return (True, vs) if cl.positive else (vs <= done, set())
    if cl.kind == "comparison":
        if vs <= done:
            return True, set()
        m = _ASSIGN.match(text)
        if m and m.group(1) not in done and set(_vars(m.group(2))) <= done:
            return True, {m.group(1)}
        return False, set()
    if cl.kind == "aggregate":
        outside = set(_vars(_outside_braces(text)))
        inner = (vs - outside) & rule_vars
        m = _ASSIGN.match(text)
        binder = {m.group(1)} if m and m.group(1) not in done else set()
        need = (inner | outside) - binder
        return (need <= done, binder)
    return vs <= done, set()


def _outside_braces(text: str) -> str:
    """A literal's text without aggregate elements (their variables are local to the aggregate)."""
    return re.sub(r"\{[^{}]*\}", "{}", _STRING_RE.sub('""', text))


def _head_arg_texts(info: RuleInfo) -> list[str]:
    head = info.head
    if head.ast_type.name == "Function":
        return [str(a) for a in head.arguments]
    return [str(a) for a in head.symbol.arguments]


def _partial(term: tuple, binding: dict[str, clingo.Symbol]) -> Pattern:
    """A compiled atom term with the known variables filled in; unknown arguments stay named."""
    assert term[0] in ("f", "s")
    if term[0] == "s":
        sym = term[1]
        return Pattern(sym.name, tuple(sym.arguments))
    args: list[clingo.Symbol | str] = []
    for a in term[2]:
        try:
            args.append(instantiate(a, binding))
        except (KeyError, RuntimeError):
            names = [v for v in _vars(_term_text(a)) if v not in binding]
            args.append(names[0] if names else "_")
    return Pattern(term[1], tuple(args))


def _term_text(c: tuple) -> str:
    if c[0] == "v":
        return c[1]
    if c[0] == "s":
        return str(c[1])
    if c[0] == "f":
        return f"{c[1]}({','.join(_term_text(a) for a in c[2])})"
    return str(c[1])


def _pattern_term(goal: Pattern):
    """A Symbol for a ground goal; the Pattern itself otherwise (ProofBuilder reads both)."""
    return goal.symbol() if goal.ground else goal
