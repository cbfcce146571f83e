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
from ..solve.residual import residual_for
from ..case.facts import case_facts
from ..kb import KnowledgeBase
from ..case.model import Case, case_keys
from .goals import ExplainError
from .record import AGGEL, FACT, FIRED, RecordingProgram, TOKEN_RE
from . import rawclingo
from .terms import substitute_text
from .why import element_locals  # the order why.py zips aggregate locals with recorded values

T = A.ASTType
COMPACT_FORMAT = "compact-1"
F = "__f"
#: The determinations a proof is built for (as in api.DETERMINATIONS; duplicated to keep imports light).
DETERMINATIONS = ("license_required", "license_requirement", "exception_available", "exception_conditional",
                  "presumption_of_denial",
                  "license_review_policy",
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

    __slots__ = ("index", "id", "head", "lits", "aggs", "is_det", "name")

    def __init__(self, info, rp: RecordingProgram):
        from .terms import compile_term
        names = info.global_vars
        self.index = info.index
        self.id = info.rule.id
        self.head = Template(compile_term(info.head), info.head, names)
        name = info.signature.split("/")[0]
        self.is_det = name in DETERMINATIONS
        self.name = name
        # per body literal: ("pos", tpl) | ("neg", tpl) | ("agg", a) | ("skip", None)
        lits: list[tuple[str, Any]] = []
        aggs: dict[int, tuple] = {}
        for a, cl in enumerate(info.compiled):
            if cl.kind == "symbolic":
                lits.append(("pos" if cl.positive else "neg", Template(cl.term, cl.ast.atom.symbol, names)))
            elif cl.kind == "aggregate":
                lits.append(("agg", a))
                local = element_locals(cl.ast, names)
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
        deps = _dependencies(self.rp)
        self.supported = _acyclic(deps)
        needed = _reachable(deps, {r.signature for r in self.rp.infos
                                   if r.signature and r.signature.split("/")[0] in DETERMINATIONS})
        self.head_names = {k: r.name for k, r in self.rules.items()}
        derivable = {i.signature for i in self.rp.infos if i.signature}
        #: no rule or KB fact concludes a case-input predicate: a premise nothing derives is a case fact,
        #: so the case facts need not be printed (they are a third of the text otherwise)
        self.inputs_by_exclusion = not (derivable & set(kb.inputs))
        self.static_sigs = _static_signatures(kb)
        # Two programs from the same rewrite: `static` (all of it: solved once, with no case) and
        # `statements` (the residual solved per chunk: the rules of static predicates are left
        # out and their atoms, computed once, are added as facts — by the splitting theorem the
        # answer is the same, and a single case grounds ~260 rules instead of ~900).
        lines: dict[bool, list[str]] = {True: [], False: []}
        kept: dict[bool, list[A.AST]] = {True: [], False: []}
        by_text = {t: list(ks) for t, ks in recorded.items()}
        static_rules: set[int] = set()
        pair_texts: dict[int, list[str]] = {}
        self.shows: list[A.AST] = []  # the KB's own #show (for a determination from the same answer)
        for stmt in kb.statements:
            if stmt.ast_type in (T.ShowSignature, T.ShowTerm):
                self.shows.append(stmt)
                continue
            if stmt.ast_type == T.Comment:
                continue
            static = self._is_static(stmt)
            if stmt.ast_type == T.Rule and len(stmt.body) > 0:
                ks = by_text.get(str(stmt))
                if ks:
                    k = ks.pop(0)
                    info = self.rp.infos[k]
                    if static:
                        static_rules.add(k)
                    if info.signature in needed:  # a determination may rest on it: recorded
                        rec = f"{F}{k}({','.join(info.global_vars)})" if info.global_vars else f"{F}{k}"
                        pair = [f"{rec} :- {'; '.join(str(b) for b in info.body)}.",
                                f"{info.head_text} :- {rec}.", f"#show {F}{k}/{len(info.global_vars)}."]
                        lines[static].extend(pair)
                        if not static:
                            pair_texts[k] = pair
                        continue
            kept[static].append(stmt)
        lines[False].append(f"#show {AGGEL}/6.")
        parsed: dict[bool, list[A.AST]] = {}
        for part in (True, False):
            parsed[part] = []
            A.parse_string("\n".join(lines[part]), parsed[part].append)
        aggel = [st for st in self.rp.extra if st.ast_type == T.Rule and st.head.ast_type == T.Literal
                 and st.head.atom.ast_type == T.SymbolicAtom and st.head.atom.symbol.name == AGGEL]
        residual_aggel = [st for st in aggel if st.head.atom.symbol.arguments[0].symbol.number not in static_rules]
        #: rule index -> its recording statements (for a single case's rule selection, :meth:`recorded`)
        self.pairs: dict[int, list[A.AST]] = {}
        for k, texts in pair_texts.items():
            A.parse_string("\n".join(texts), self.pairs.setdefault(k, []).append)
        for st in residual_aggel:  # what an aggregate of a recorded rule counted (others are not needed)
            k = st.head.atom.symbol.arguments[0].symbol.number
            if k in self.pairs:
                self.pairs[k].append(st)
        self.statements = kept[False] + parsed[False] + residual_aggel
        self._static_statements = kept[True] + parsed[True] + self.statements
        self.static = self._static()
        self._rules = [(st, _signatures(st.head), _positive_signatures(st), _signatures(st))
                       for st in self.statements if st.ast_type == T.Rule]
        self._others = [st for st in self.statements if st.ast_type != T.Rule]
        self._aggel_show = next(st for st in self._others if st.ast_type == T.ShowSignature and st.name == AGGEL)
        self._static_by_sig: dict[str, list[clingo.Symbol]] = {}
        for a in self.static_atoms:
            self._static_by_sig.setdefault(f"{a.name}/{len(a.arguments)}", []).append(a)
        self._selected: dict[frozenset[str], tuple[list[A.AST], list[clingo.Symbol]]] = {}

    def select(self, input_sigs: frozenset[str]) -> tuple[list[A.AST], list[clingo.Symbol]]:
        """The residual statements that can fire when only these input predicates have atoms,
        and the static atoms they mention.

        A rule with a positive body atom of a predicate that can have no atom never fires,
        so leaving it out changes nothing — and grounding costs ~30 µs per rule even when
        nothing fires, which is most of a single case's time. Memoised per set of predicates
        (a chunk of many cases has them all: nothing is left out).
        """
        got = self._selected.get(input_sigs)
        if got is None:
            possible = set(input_sigs) | set(self._static_by_sig)
            changed = True
            while changed:
                changed = False
                for _st, head, pos, _all in self._rules:
                    if pos <= possible and not head <= possible:
                        possible |= head
                        changed = True
            rules = [(st, mentioned) for st, _h, pos, mentioned in self._rules if pos <= possible]
            used = set().union(*(m for _st, m in rules)) if rules else set()
            shows = [st for st in self._others if st.ast_type != T.ShowSignature or not st.name.startswith(F)
                     or f"{st.name}/{st.arity}" in possible]
            atoms = [a for sig, atoms in self._static_by_sig.items() if sig in used for a in atoms]
            got = self._selected[input_sigs] = (shows + [st for st, _m in rules], atoms)
        return got

    def _is_static(self, stmt: A.AST) -> bool:
        """A rule of a static predicate, or a constraint on static predicates only."""
        if stmt.ast_type != T.Rule:
            return False
        head = _signatures(stmt.head)
        if head:
            return head <= self.static_sigs
        return not any(_signatures(b) - self.static_sigs for b in stmt.body)

    def add_to(self, ctl: clingo.Control, statements: Sequence[A.AST] | None = None) -> None:
        """The residual program; the static atoms are added with the case facts (:meth:`add_static`)."""
        with A.ProgramBuilder(ctl) as builder:
            for stmt in self.statements if statements is None else statements:
                builder.add(stmt)

    def recorded(self, rules: Sequence[tuple[int | None, A.AST]]) -> list[A.AST]:
        """A selection of the KB's residual rules (``ResidualProgram.select``), each recorded if it is."""
        out: list[A.AST] = [st for st in self._others if st.ast_type != T.ShowSignature]
        out.append(self._aggel_show)
        pairs = self.pairs
        for k, ast in rules:
            got = pairs.get(k) if k is not None else None
            if got is None:
                out.append(ast)
            else:
                out.extend(got)
        return out

    @staticmethod
    def add_facts(backend: Any, add: Any, atoms: Sequence[clingo.Symbol]) -> None:
        if add is not None:
            add(atoms)
        else:
            for sym in atoms:
                backend.add_rule([backend.add_atom(sym)])

    def _static(self) -> "_Derivations":
        """Solve kb/ alone once: KB facts, static atoms, and the firings that need no case (shared by every case)."""
        ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
        with A.ProgramBuilder(ctl) as builder:
            for stmt in self._static_statements:
                builder.add(stmt)
        facts = [f"{FACT}({k},{r.text.rstrip().rstrip('.')})." for k, r in enumerate(self.kb.rules)
                 if r.is_fact and r.head]
        shows = [f"#show {sig}." for sig in sorted(self.static_sigs)]
        ctl.add("base", [], "\n".join(facts + shows) + f"\n#show {FACT}/2.")
        ctl.ground([("base", [])])
        models = solve_read(ctl)
        if len(models) != 1:
            raise SolveError("the knowledge base alone has no single answer set — run `exportkb lint`")
        firings, others = models[0]
        self.kb_facts: dict[str, int] = {}
        self.static_atoms: list[clingo.Symbol] = []
        aggs: dict[tuple, list] = {}
        for tok in others:
            if tok.startswith(FACT + "("):
                c = tok.index(",", len(FACT) + 1)
                self.kb_facts.setdefault(tok[c + 1:-1], int(tok[len(FACT) + 1:c]))
            elif tok.startswith(AGGEL + "("):
                _add_aggel(aggs, clingo.parse_term(tok))
            else:
                self.static_atoms.append(clingo.parse_term(tok))
        self.static_firings = {(k, *vals) for k, vals in firings}
        by_name: dict[str, list] = {}
        for f in firings:
            by_name.setdefault(self.head_names[f[0]], []).append(f)
        return _Derivations(self, set(), by_name, aggs, None)

    def is_input(self, atom: str) -> bool:
        """Whether *atom* (text) is of a case-input predicate (kb/inputs.lp)."""
        p = atom.find("(")
        sig = f"{atom[:p]}/{len(split_values(atom[p:]))}" if p >= 0 else f"{atom}/0"
        return sig in self.kb.inputs


_SIG_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|#?[A-Za-z_][A-Za-z0-9_\']*|[(){},;:]|[^\s"(){},;:A-Za-z_#]+')


def _signatures(node: A.AST | str) -> set[str]:
    """The predicates (name/arity) of the atoms in *node*, wherever they occur (negated, in aggregates ...).

    Read from clingo's printing of the node (walking the AST from Python costs a foreign
    call per attribute): a lower-case name outside any argument list is an atom. It may
    over-approximate (a constant compared at the top level reads as a 0-ary atom), which
    only ever keeps a rule that could have been left out.
    """
    toks = _SIG_TOKEN.findall(node if isinstance(node, str) else str(node))
    out: set[str] = set()
    depth = 0
    stack: list[int] = []
    i, n = 0, len(toks)
    while i < n:
        t = toks[i]
        if t == "(":
            depth += 1
        elif t == ")":
            depth -= 1
        elif t == "{":
            stack.append(depth)
            depth = 0
        elif t == "}":
            depth = stack.pop() if stack else 0
        elif depth == 0 and t.lstrip("_")[:1].islower() and t != "not":  # __f12: a recording atom
            if i + 1 < n and toks[i + 1] == "(":
                arity, d, j = 1, 0, i + 1
                while j < n:
                    tj = toks[j]
                    if tj == "(":
                        d += 1
                    elif tj == ")":
                        d -= 1
                        if d == 0:
                            break
                    elif tj == "," and d == 1:
                        arity += 1
                    j += 1
                if j == i + 2:
                    arity = 0
                out.add(f"{t}/{arity}")
            else:
                out.add(f"{t}/0")
        i += 1
    return out


def _positive_signatures(rule: A.AST) -> set[str]:
    """The predicates of a rule's positive body atoms (each must have an atom for the rule to fire)."""
    out: set[str] = set()
    for b in rule.body:
        if b.ast_type == T.Literal and b.sign == A.Sign.NoSign and b.atom.ast_type == T.SymbolicAtom:
            out |= _signatures(b)
    return out


def _static_signatures(kb: KnowledgeBase) -> set[str]:
    """Predicates no case can affect: not an input, and no rule for them mentions a case-dependent one."""
    rules = [(_signatures(st.head), set().union(*(_signatures(b) for b in st.body)) if len(st.body) else set())
             for st in kb.statements if st.ast_type == T.Rule]
    dep = set(kb.inputs)
    changed = True
    while changed:
        changed = False
        for head, body in rules:
            if body & dep and not head <= dep:
                dep |= head
                changed = True
    return {sig for head, _ in rules for sig in head} - dep


def _add_aggel(aggs: dict, sym: clingo.Symbol) -> None:
    args = sym.arguments
    aggs.setdefault((args[0].number, args[1].number, str(args[4])), []).append((args[3], args[5]))


def _dependencies(rp: RecordingProgram) -> dict[str, set[str]]:
    """Predicate -> the predicates its rules rest on positively (body atoms and aggregate conditions)."""
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
    return deps


def _reachable(deps: dict[str, set[str]], roots: set[str]) -> set[str]:
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(deps.get(n, ()))
    return seen


def _acyclic(deps: dict[str, set[str]]) -> bool:
    """Whether the positive dependency graph between predicates is acyclic (levels by recursion are exact)."""
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
    """Firings of one case (or of kb/ alone); heads, levels and canonical firings computed on demand.

    A firing is ``(K, [value texts])``. Heads are rendered per predicate name, the
    first time an atom of that name is looked up: most firings of a case never are.
    """

    def __init__(self, prog: FastProgram, inputs: set[str] | None, firings: dict[str, list[tuple[int, list[str]]]],
                 aggs: dict[tuple, list], fallback: "_Derivations | None"):
        self.prog = prog
        self.inputs = inputs  # None: the case facts are the atoms nothing derives (FastProgram.inputs_by_exclusion)
        self.aggs = aggs
        self.fallback = fallback
        self.pending = firings  # head predicate name -> firings whose heads are not rendered yet
        self.by_head: dict[str, list] = {}
        self.level: dict[str, int] = {}
        self.best: dict[str, tuple] = {}
        self._agg_cache: dict[tuple, list] = {}

    def index(self, name: str) -> list[str]:
        """Render the heads of the firings of predicate *name*; returns the new heads."""
        todo = self.pending.pop(name, None)
        if not todo:
            return []
        rules, by_head, new = self.prog.rules, self.by_head, []
        for f in todo:
            head = rules[f[0]].head(f[1])
            got = by_head.get(head)
            if got is None:
                by_head[head] = [f]
                new.append(head)
            else:
                got.append(f)
        return new

    def firings(self, atom: str) -> list | None:
        fs = self.by_head.get(atom)
        if fs is None and self.pending:
            p = atom.find("(")
            if self.index(atom[:p] if p >= 0 else atom):
                fs = self.by_head.get(atom)
        return fs

    def owner(self, atom: str) -> "_Derivations | None":
        """Where *atom*'s derivation lives: here, in kb/'s table, or nowhere (a fact)."""
        if self.firings(atom) is not None:
            return self
        if self.fallback is not None and self.fallback.firings(atom) is not None:
            return self.fallback
        return None

    def is_input(self, atom: str) -> bool:
        if self.inputs is not None:
            return atom in self.inputs
        return atom not in self.prog.kb_facts and self.owner(atom) is None and self.prog.is_input(atom)

    def level_of(self, atom: str) -> int:
        lv = self.level.get(atom)
        if lv is not None:
            return lv
        if (self.inputs is not None and atom in self.inputs) or atom in self.prog.kb_facts:
            return 0
        fs = self.firings(atom)
        if fs is None:
            if self.fallback is not None and self.fallback.firings(atom) is not None:
                return self.fallback.level_of(atom)
            if self.inputs is None and self.prog.is_input(atom):
                return 0
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
        k, vals = f
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
        k, vals = f
        ck = (k, a, *vals)
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
    """why.py's tie-break: rule order, then the substitution as clingo prints the tuple."""
    return f[0], tuple_text(f[1]) if f[1] else "()"


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
        """The case's determination atoms, in the order of ``determinations()`` (clingo's symbol order).

        Called before any other lookup, so indexing the determination predicates returns all their heads.
        """
        out = []
        kt = self.key_text
        for name in DETERMINATIONS:
            n = len(name) + 1
            out.extend(h for h in self.d.index(name) if h.startswith(kt, n) and h[n + len(kt)] in ",)")
        if len(out) > 1:
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
        k = self.prog.kb_facts.get(atom) if d.inputs is None or atom not in d.inputs else None
        if k is not None:
            nd["k"] = k
            nd["r"] = self._cite(k)
            return i
        if d.is_input(atom):
            nd["case_fact"] = True
            return i
        owner = d.owner(atom)
        if owner is None:
            raise LookupError(f"{atom} is not in the answer set")
        level = owner.level_of(atom)
        f = owner.best[atom]
        k, vals = f
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


def solve_read(ctl: clingo.Control) -> list[tuple[list[tuple[int, list[str]]], list[str]]]:
    """Solve (at most two models); per model its firings ``(K, [value texts])`` and its other atoms as text.

    Firings are read structurally (rule index from the predicate name, values printed
    once per distinct symbol) through clingo's C functions when available
    (:mod:`rawclingo`), else from the model's text.
    """
    ctl.configuration.solve.models = 2
    out: list = []

    def on_model(m: clingo.Model) -> None:
        if out:
            out.append(None)
        elif rawclingo.AVAILABLE:
            out.append(rawclingo.read_firings(m, F))
        else:
            out.append(_read_text(str(m)))

    ctl.solve(on_model=on_model)
    return out


def _read_text(text: str) -> tuple[list[tuple[int, list[str]]], list[str]]:
    fired, others = [], []
    for tok in TOKEN_RE.findall(text):
        if tok.startswith(F) and tok[len(F)].isdigit():
            p = tok.find("(")
            if p < 0:
                fired.append((int(tok[len(F):]), []))
            else:
                fired.append((int(tok[len(F):p]), split_values(tok[p:])))
        else:
            others.append(tok)
    return fired, others


class CompactRecorder:
    """Solves cases with the rewritten KB and returns one compact proof per case."""

    def __init__(self, kb: KnowledgeBase, program: FastProgram | None = None, chunk_size: int = 1000):
        self.kb = kb
        self.program = program or FastProgram(kb)
        self.chunk_size = chunk_size
        if not self.program.supported:
            raise ExplainError("compact proofs need a KB whose positive dependencies are not recursive "
                               "(levels are computed by recursion); use Explainer.cases(...).determinations()")

    def prove(self, case: Case) -> dict[str, Any]:
        return self.prove_many([case])[0]

    def prove_many(self, cases: Sequence[Case]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(cases), self.chunk_size):
            out.extend(self._chunk(cases[start:start + self.chunk_size]))
        return out

    def determine_and_prove(self, case: Case) -> tuple[Any, dict[str, Any]]:
        """One case: its determination (as ``Solver.determine``) and its compact proof, from one solve.

        The fast path for a single case: the residual KB (static part precomputed once per
        process, rules that cannot fire for this case's kinds of facts left out) with the
        KB's own ``#show`` added, so the determination is read from the same answer set.
        """
        shown: list[str] = []
        proof = self._chunk([case], shown)[0]
        solver = self._solver
        if solver is None:
            from ..solve.solver import Solver
            solver = self._solver = Solver(self.kb)
        return solver.to_determination(case, [clingo.parse_term(t) for t in shown]), proof

    _solver = None

    def _program_for(self, cases: Sequence[Case]) -> tuple[list[A.AST], list[clingo.Symbol]]:
        """What to ground: for one case, the KB's per-case rule selection (exportkb.solve.residual) when the
        KB has one, recorded; else the residual program without the rules that no input predicate of
        these cases can make fire (a chunk has them all)."""
        prog = self.program
        if len(cases) == 1:
            res = residual_for(self.kb)
            if res is not None:
                static, rules = res.select(cases[0], key="#0")
                return prog.recorded(rules), static
            facts = case_facts(cases[0], "#0")
            return prog.select(frozenset(f"{sym.name}/{len(sym.arguments)}" for sym in facts))
        return prog.select(frozenset(self.kb.inputs))

    def _chunk(self, cases: Sequence[Case], shown: list[str] | None = None) -> list[dict[str, Any]]:
        prog = self.program
        keys = case_keys(len(cases))
        facts_of = [case_facts(case, key) for case, key in zip(cases, keys)]
        ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
        statements, static_atoms = self._program_for(cases)
        prog.add_to(ctl, statements + (prog.shows if shown is not None else []))
        inputs: list[set[str] | None] = []
        with ctl.backend() as backend:
            add = rawclingo.FactAdder(backend) if rawclingo.AVAILABLE else None
            prog.add_facts(backend, add, static_atoms)
            for facts in facts_of:
                inputs.append(None if prog.inputs_by_exclusion else {str(s) for s in facts})
                prog.add_facts(backend, add, facts)
        ctl.ground([("base", [])])
        models = solve_read(ctl)
        if len(models) != 1:
            raise SolveError(f"recording {len(cases)} case(s) (first: {cases[0].case!r}) gave {len(models)} answer "
                             "sets; the KB must be stratified with one answer per case — run `exportkb lint`")
        index = {f'"{k}"': i for i, k in enumerate(keys)}
        # per case: head predicate name -> firings (routed by the case key among the values)
        firings: list[dict[str, list[tuple[int, list[str]]]]] = [{} for _ in cases]
        aggs: list[dict] = [{} for _ in cases]
        shared: list[tuple[int, list[str]]] = []
        shared_aggs: dict = {}
        static = prog.static_firings
        names = prog.head_names
        fired, others = models[0]
        for f in fired:
            vals = f[1]
            i = index.get(vals[0]) if vals else None
            if i is None:
                i = next((index[v] for v in vals if v in index), None)
            if i is not None:
                d = firings[i]
                name = names[f[0]]
                got = d.get(name)
                if got is None:
                    d[name] = [f]
                else:
                    got.append(f)
            elif (f[0], *vals) not in static:
                shared.append(f)
        index = {k: i for i, k in enumerate(keys)}
        for tok in others:
            if tok.startswith(AGGEL + "("):
                sym = clingo.parse_term(tok)
                i = _first_key(sym.arguments[4], index)
                _add_aggel(aggs[i] if i is not None else shared_aggs, sym)
            elif shown is not None:
                shown.append(tok)
        out = []
        for n, (case, key) in enumerate(zip(cases, keys)):
            fs = firings[n]
            for f in shared:  # atoms without a case key that some case's facts brought about
                fs.setdefault(names[f[0]], []).append(f)
            ag = {**shared_aggs, **aggs[n]} if shared_aggs else aggs[n]
            d = _Derivations(prog, inputs[n], fs, ag, prog.static)
            out.append(CompactBuilder(prog, case, key, d).build())
        return out


def _first_key(tup: clingo.Symbol, index: dict[str, int]) -> int | None:
    for a in tup.arguments:
        if a.type == clingo.SymbolType.String and a.string in index:
            return index[a.string]
    return None


def prove_compact(kb: KnowledgeBase, cases: Sequence[Case], recorder: CompactRecorder | None = None) -> list[dict]:
    """A compact proof (format ``compact-1``) of every determination of each case."""
    return (recorder or CompactRecorder(kb)).prove_many(list(cases))


__all__ = ["COMPACT_FORMAT", "CompactRecorder", "FastProgram", "prove_compact", "split_values", "FIRED"]
