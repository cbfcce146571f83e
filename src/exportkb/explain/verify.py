"""An independent checker for proofs: `exportkb verify PROOF.json`, ``verify(proof, kb, case)``.

It trusts nothing the explainer computed. It recomputes the case's answer set
from kb/ (the original statements, not the recording program) and the case
facts; re-parses each step's rule from its text in kb/ (found by rule id),
grounds it with the step's substitution and compares it with the step; and
asks clingo whether each ground condition holds in the recomputed answer set,
all conditions of a proof in one grounding (``__ok(N) :- <condition>.``).

Checks
  * every ``derived`` step: its rule exists, its ground head is the step's atom,
    each body literal has one supporting child with the ground atom of that
    literal, and every body literal holds in the answer set;
  * every ``case_fact`` is a fact the case states; every ``kb_fact`` a fact of its
    rule in kb/; every ``absent`` atom is not in the answer set;
  * every ``not_derived`` atom (or pattern) has no instance in the answer set,
    lists an ``attempt`` for every KB rule whose head could conclude it, and each
    attempt names a body literal that, grounded with the stated substitution,
    does not hold; a failed ``not q`` is backed by a why-proof of q;
  * the graph is acyclic (support is well-founded) and every leaf is a case fact,
    a KB fact, or a condition checked against the answer set;
  * every step's English ``statement`` is its atom read through the predicate's
    ``%@`` template (re-rendered here, filters such as ``{X:upper}`` included, by
    code of its own), and every attempt's statement is its rule's ``reads`` — so
    the sentence a reader trusts says what the checked atom says.

What it does not check (see LIMITATIONS.md): that an attempt covers every
partial binding of its rule's body, and that the canonical proof is the shortest.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import clingo
import clingo.ast as A
import networkx as nx

from ..case.facts import case_facts
from ..kb import KnowledgeBase
from ..case.model import Case
from .proof import Proof

LEAF_REASONS = {"not_stated", "not_in_kb", "no_rule", "depth", "cycle", "no_match"}
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_ANON_RE = re.compile(r"(?<![A-Za-z0-9_'])_(?![A-Za-z0-9_'])")


@dataclass
class _Check:
    node: str
    text: str       # a ground condition (or a pattern) in clingo syntax
    expect: bool
    what: str


_VAR_RE = re.compile(r"(?<![A-Za-z0-9_'])(_*[A-Z][A-Za-z0-9_']*)(?![A-Za-z0-9_'(])")


def _substitute_text(text: str, subst: dict[str, str]) -> str:
    """Replace variables (outside strings) by the values' clingo text."""
    def one(part: str) -> str:
        return _VAR_RE.sub(lambda m: subst.get(m.group(1), m.group(1)), part)
    parts = _STRING_RE.split(text)
    strings = _STRING_RE.findall(text)
    out = [one(parts[0])]
    for st, part in zip(strings, parts[1:]):
        out += [st, one(part)]
    return "".join(out)


def _name_anonymous(text: str, n: list[int]) -> str:
    """The explainer's convention: the n-th ``_`` of a rule (left to right, outside strings) is ``_Anon<n>``."""

    def fresh(_m):
        n[0] += 1
        return f"_Anon{n[0]}"
    parts = _STRING_RE.split(text)
    strings = _STRING_RE.findall(text)
    out = [_ANON_RE.sub(fresh, parts[0])]
    for st, part in zip(strings, parts[1:]):
        out += [st, _ANON_RE.sub(fresh, part)]
    return "".join(out)


#: Template filters, re-implemented here on purpose (the builder's table is in kb.py): the checker
#: must not share the code whose output it checks. tests/test_templates.py keeps the two in step.
_FILTERS = {
    "upper": lambda c: c.upper().replace("_", "-"),
    "words": lambda c: c.replace("_", " "),
    "group": lambda c: (f"{c[0].upper()}:{c[1:]}" if re.fullmatch(r"[a-z]\d+", c) else c),
    "number": lambda c: (re.fullmatch(r"\D+(\d+)", c).group(1) if re.fullmatch(r"\D+(\d+)", c) else c),
}
_PLACEHOLDER_RE = re.compile(r"\{(\w+)(?::(\w+))?\}")
_DATE_VARS = ("D", "From", "To")


def _shown(var: str, flt: str | None, value: clingo.Symbol) -> str:
    """One template argument as the proof should show it (see kb.py's docstring for the syntax)."""
    if value.type == clingo.SymbolType.Number and var in _DATE_VARS:
        n = value.number
        y, m, d = n // 10000, n // 100 % 100, n % 100
        if 1900 <= y <= 9999 and 1 <= m <= 12 and 1 <= d <= 31:
            return "(open-ended)" if n == 99991231 else f"{y:04d}-{m:02d}-{d:02d}"
    if value.type == clingo.SymbolType.String:
        return value.string
    if flt and flt in _FILTERS and value.type == clingo.SymbolType.Function and not value.arguments and value.name:
        return _FILTERS[flt](value.name)
    return str(value)


def expected_statement(kb: KnowledgeBase, atom: clingo.Symbol) -> str | None:
    """The sentence the template of *atom*'s predicate gives for it (None: no template)."""
    tpl = kb.templates.get(f"{atom.name}/{len(atom.arguments)}")
    if tpl is None:
        return None
    values = dict(zip(tpl.args, atom.arguments))
    return _PLACEHOLDER_RE.sub(
        lambda m: _shown(m.group(1), m.group(2), values[m.group(1)]) if m.group(1) in values else m.group(0),
        tpl.text)


class Checker:
    """Verifies proofs of one case against a freshly computed answer set."""

    def __init__(self, kb: KnowledgeBase, case: Case):
        self.kb = kb
        self.case = case
        self.inputs = set(case_facts(case, case.case))
        self.model = self._answer_set()
        self._parsed: dict[tuple, A.AST | None] = {}
        self._truth: dict[str, bool] = {}
        self._ctl: clingo.Control | None = None
        self._texts: dict[str, str | None] = {}
        self._derived_memo: dict[tuple, tuple[list[str], list[_Check]]] = {}
        self._sentences: dict[str, str | None] = {}
        self._parts = 0

    def _answer_set(self) -> set[clingo.Symbol]:
        ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
        self.kb.add_to(ctl)
        with ctl.backend() as backend:
            for sym in self.inputs:
                backend.add_rule([backend.add_atom(sym)])
        ctl.ground([("base", [])])
        ctl.configuration.solve.models = 2
        models: list[list[clingo.Symbol]] = []
        ctl.solve(on_model=lambda m: models.append(m.symbols(atoms=True)))
        if len(models) != 1:
            raise ValueError(f"case {self.case.case!r} has {len(models)} answer sets; proofs need exactly one")
        return set(models[0])

    # ------------------------------------------------------------ rule text
    def _rule_text(self, rule_id: str) -> str | None:
        if rule_id not in self._texts:
            self._texts[rule_id] = self._rule_text_once(rule_id)
        return self._texts[rule_id]

    def _rule_text_once(self, rule_id: str) -> str | None:
        """The one rule with a body of *rule_id*, as written in kb/, anonymous variables named
        as the explainer names them (n-th ``_`` outside negated literals is ``_Anon<n>``)."""
        rules = [r for r in self.kb.rules_by_id.get(rule_id, []) if not r.is_fact]
        if len(rules) != 1:
            return None
        out: list[A.AST] = []
        A.parse_string(rules[0].text, out.append)
        rule = next((s for s in out if s.ast_type == A.ASTType.Rule), None)
        if rule is None:
            return None
        counter = [0]
        head = _name_anonymous(str(rule.head), counter)
        body = [t if t.startswith("not ") else _name_anonymous(t, counter) for t in map(str, rule.body)]
        return f"{head} :- {'; '.join(body)}."

    def _rule_ast(self, rule_id: str, subst: dict[str, str] | None = None) -> A.AST | None:
        """The rule of *rule_id* re-parsed from its kb/ text, with *subst* (variable -> value text) applied."""
        key = (rule_id, tuple(sorted((subst or {}).items())))
        if key not in self._parsed:
            text = self._rule_text(rule_id)
            ast = None
            if text is not None:
                out: list[A.AST] = []
                safe = {k: _safe_value(v) for k, v in (subst or {}).items()}
                A.parse_string(_substitute_text(text, safe), out.append)
                ast = next((s for s in out if s.ast_type == A.ASTType.Rule), None)
            self._parsed[key] = ast
        return self._parsed[key]

    def _kb_facts(self, rule_id: str) -> set[clingo.Symbol]:
        out = set()
        for r in self.kb.rules_by_id.get(rule_id, []):
            if r.is_fact:
                try:
                    out.add(clingo.parse_term(r.text.rstrip().rstrip(".")))
                except RuntimeError:
                    continue
        return out

    # ----------------------------------------------------------------- check
    def check(self, proof: Proof) -> list[str]:
        g = proof.graph
        problems: list[str] = []
        checks: list[_Check] = []
        if proof.root not in g:
            return [f"root {proof.root} is not a node of the proof"]
        if not nx.is_directed_acyclic_graph(g):
            cycle = nx.find_cycle(g)
            problems.append("support is not well-founded: cycle " + " -> ".join(u for u, _ in cycle))
        if proof.case_id != self.case.case:
            problems.append(f"the proof is about case {proof.case_id!r}, not {self.case.case!r}")
        root = g.nodes[proof.root]
        if root.get("atom") != proof.atom:
            problems.append(f"root {proof.root} is {root.get('atom')}, not the goal {proof.atom}")
        for nid in g.nodes:
            n = g.nodes[nid]
            kind = n.get("kind")
            try:
                getattr(self, f"_check_{kind}")(proof, nid, n, problems, checks)
            except AttributeError:
                problems.append(f"{nid}: unknown step kind {kind!r}")
            except (RuntimeError, KeyError, TypeError, ValueError) as exc:
                problems.append(f"{nid}: malformed step ({type(exc).__name__}: {exc})")
            try:
                problems.extend(self._statement_problems(nid, n))
            except (RuntimeError, KeyError, TypeError, ValueError) as exc:
                problems.append(f"{nid}: malformed step ({type(exc).__name__}: {exc})")
            if g.out_degree(nid) == 0 and kind == "derived":
                problems.append(f"{nid}: leaf {n.get('atom')} is neither a case fact nor a KB fact")
            if g.out_degree(nid) == 0 and kind == "not_derived" and n.get("reason") not in LEAF_REASONS:
                problems.append(f"{nid}: {n.get('atom')} is a leaf without a reason it cannot be derived")
        problems.extend(self._evaluate(checks))
        return problems

    def _statement_problems(self, nid: str, n: dict) -> list[str]:
        """The step's English says what its atom (or, for an attempt, its rule) says."""
        said = n.get("statement")
        if said is None:
            return []
        if n.get("kind") == "attempt":
            rid = (n.get("rule") or {}).get("id", "")
            reads = {r.reads for r in self.kb.rules_by_id.get(rid, []) if not r.is_fact}
            return [] if not reads or said in reads else [f"{nid}: statement {said!r} is not what rule {rid} reads"]
        if "atom" not in n or n.get("pattern") or n.get("kind") in ("comparison", "aggregate"):
            return []
        atom = n["atom"]
        if atom not in self._sentences:  # proofs of one case share most atoms
            self._sentences[atom] = expected_statement(self.kb, self._atom(n))
        want = self._sentences[atom]
        if want is not None and said != want:
            return [f"{nid}: statement {said!r} does not read {n['atom']} (its template gives {want!r})"]
        return []

    def _atom(self, n: dict) -> clingo.Symbol:
        return clingo.parse_term(n["atom"])

    def _children(self, proof: Proof, nid: str) -> list[tuple[str, dict]]:
        return sorted(((v, d) for _, v, d in proof.graph.out_edges(nid, data=True)), key=lambda e: e[1].get("order", 0))

    def _check_case_fact(self, proof, nid, n, problems, checks):
        if self._atom(n) not in self.inputs:
            problems.append(f"{nid}: {n['atom']} is not a fact stated by the case")

    def _check_kb_fact(self, proof, nid, n, problems, checks):
        rid = (n.get("rule") or {}).get("id", "")
        if self._atom(n) not in self._kb_facts(rid):
            problems.append(f"{nid}: {n['atom']} is not a fact of rule {rid!r} in kb/")

    def _check_absent(self, proof, nid, n, problems, checks):
        if self._atom(n) in self.model:
            problems.append(f"{nid}: {n['atom']} is claimed absent but holds")

    def _check_comparison(self, proof, nid, n, problems, checks):
        checks.append(_Check(nid, _safe_condition(n["value"]), bool(n.get("holds")), n.get("kind", "condition")))

    _check_aggregate = _check_comparison

    def _check_negation_fails(self, proof, nid, n, problems, checks):
        atom = self._atom(n)
        if atom not in self.model:
            problems.append(f"{nid}: 'not {n['atom']}' is said to fail, but {n['atom']} does not hold")
        kids = self._children(proof, nid)
        if len(kids) != 1 or proof.graph.nodes[kids[0][0]].get("atom") != n["atom"]:
            problems.append(f"{nid}: a failed 'not {n['atom']}' must be backed by a proof of {n['atom']}")

    def _check_derived(self, proof, nid, n, problems, checks):
        """Memoised per (atom, rule, substitution, supporting atoms): proofs of one case share most steps."""
        kids = tuple((d.get("order"), proof.graph.nodes[v].get("atom"), proof.graph.nodes[v].get("kind"))
                     for v, d in self._children(proof, nid))
        key = (n.get("atom"), (n.get("rule") or {}).get("id", ""), tuple(sorted((n.get("substitution") or {}).items())), kids)
        got = self._derived_memo.get(key)
        if got is None:
            p2: list[str] = []
            c2: list[_Check] = []
            self._check_derived_once(proof, nid, n, p2, c2)
            got = self._derived_memo[key] = ([p[len(nid):] if p.startswith(nid) else p for p in p2], c2)
        problems.extend(nid + p for p in got[0])
        checks.extend(_Check(nid, c.text, c.expect, c.what) for c in got[1])

    def _check_derived_once(self, proof, nid, n, problems, checks):
        rid = (n.get("rule") or {}).get("id", "")
        ground = self._rule_ast(rid, dict(n.get("substitution") or {}))
        if ground is None:
            problems.append(f"{nid}: no rule with a body has id {rid!r} in kb/")
            return
        try:
            head = clingo.parse_term(str(ground.head))
        except RuntimeError:
            problems.append(f"{nid}: rule {rid} with the step's substitution has a non-ground head {ground.head}")
            return
        if head != self._atom(n):
            problems.append(f"{nid}: rule {rid} with the step's substitution concludes {head}, not {n['atom']}")
            return
        if self._atom(n) not in self.model:
            problems.append(f"{nid}: {n['atom']} does not hold in the answer set")
        kids = {d.get("order"): (v, d) for v, d in self._children(proof, nid)}
        for i, lit in enumerate(ground.body):
            text = str(lit)
            checks.append(_Check(nid, text, True, f"body literal {i} of {rid}"))
            child = kids.get(i)
            if child is None:
                problems.append(f"{nid}: body literal {text} of {rid} has no supporting step")
                continue
            c = proof.graph.nodes[child[0]]
            if lit.ast_type == A.ASTType.Literal and lit.atom.ast_type == A.ASTType.SymbolicAtom:
                expected = clingo.parse_term(str(lit.atom.symbol))
                if c.get("atom") is None or self._atom(c) != expected:
                    problems.append(f"{nid}: body literal {text} is supported by {c.get('atom')}, not {expected}")
                elif lit.sign == A.Sign.NoSign and c.get("kind") not in ("derived", "case_fact", "kb_fact"):
                    problems.append(f"{nid}: positive literal {text} is supported by a {c.get('kind')} step")
                elif lit.sign != A.Sign.NoSign and c.get("kind") not in ("absent", "not_derived"):
                    problems.append(f"{nid}: negated literal {text} is supported by a {c.get('kind')} step")
        if len(kids) > len(ground.body):
            problems.append(f"{nid}: more supporting steps than {rid} has body literals")

    def _check_not_derived(self, proof, nid, n, problems, checks):
        checks.append(_Check(nid, _safe_condition(n["atom"], atom_only=True), False, "atom claimed not to hold"))
        name, arity = _signature(n["atom"])
        reason = n.get("reason")
        if reason == "not_stated" and f"{name}/{arity}" not in self.kb.inputs:
            problems.append(f"{nid}: {name}/{arity} is not a case input, so 'not stated' does not explain it")
        attempts = [v for v, d in self._children(proof, nid) if d.get("role") == "attempt"]
        if reason in ("depth", "cycle"):
            return  # explicitly not expanded: only the absence itself is claimed (and checked)
        named = {proof.graph.nodes[a].get("rule", {}).get("id") for a in attempts}
        goal_args = _ground_args(n["atom"])
        for r in self.kb.rules:
            if r.is_fact or r.head != f"{name}/{arity}" or r.id in named:
                continue
            rule = self._rule_ast(r.id)
            if rule is not None and _head_may_match(rule, goal_args):
                problems.append(f"{nid}: rule {r.id} could conclude {n['atom']} but the proof does not say why it did not")

    def _check_attempt(self, proof, nid, n, problems, checks):
        rid = (n.get("rule") or {}).get("id", "")
        rule = self._rule_ast(rid)
        if rule is None:
            problems.append(f"{nid}: no rule with a body has id {rid!r} in kb/")
            return
        fails = [(v, d) for v, d in self._children(proof, nid) if d.get("role") == "fails"]
        if not fails:
            problems.append(f"{nid}: rule {rid} is said not to apply but no failed condition is named")
        parents = [u for u, _ in proof.graph.in_edges(nid)]
        goal_args = _ground_args(proof.graph.nodes[parents[0]]["atom"]) if parents else []
        for v, d in fails:
            i = d.get("literal_index")
            if not isinstance(i, int) or not 0 <= i < len(rule.body):
                problems.append(f"{nid}: failed condition {d.get('literal')} is not a body literal of {rid}")
                continue
            ground = self._rule_ast(rid, dict(d.get("substitution") or {}))
            for pos, h in enumerate(_head_args(ground)):
                if pos < len(goal_args) and goal_args[pos] is not None:
                    try:
                        hv = clingo.parse_term(str(h))
                    except RuntimeError:
                        continue
                    if hv != goal_args[pos]:
                        problems.append(f"{nid}: the substitution of a failed condition of {rid} concludes "
                                        f"{hv} where the goal has {goal_args[pos]}")
            lit = ground.body[i]
            checks.append(_Check(nid, str(lit), False, f"failed condition {i} of {rid}"))
            c = proof.graph.nodes[v]
            if lit.ast_type == A.ASTType.Literal and lit.atom.ast_type == A.ASTType.SymbolicAtom:
                want = str(lit.atom.symbol)
                if c.get("kind") in ("not_derived", "negation_fails") and _norm(c.get("atom", "")) != _norm(want) \
                        and not c.get("pattern"):
                    problems.append(f"{nid}: failed condition {want} is explained by a step about {c.get('atom')}")


    # -------------------------------------------------------------- clingo
    def _evaluate(self, checks: list[_Check]) -> list[str]:
        """Ask clingo, in one grounding, whether each condition not yet known holds in the answer set."""
        todo = list(dict.fromkeys(c.text for c in checks if c.text not in self._truth))
        bad: list[str] = []
        if todo:
            holds = self._ground(todo)
            if holds is None:  # some condition does not parse: find it
                for text in todo:
                    one = self._ground([text])
                    if one is None:
                        bad.append(f"condition {text} is not valid clingo")
                        self._truth[text] = False
                    else:
                        self._truth[text] = bool(one)
            else:
                for k, text in enumerate(todo):
                    self._truth[text] = k in holds
        out = list(bad)
        for c in checks:
            if self._truth[c.text] != c.expect:
                state = "does not hold" if c.expect else "holds"
                out.append(f"{c.node}: {c.what}: {c.text} {state} in the answer set")
        return out

    def _ground(self, texts: list[str]) -> set[int] | None:
        """Which of *texts* hold: a new program part ``__ok_N(K) :- text_K.`` grounded on the answer set.

        The answer set is loaded into one Control once (multi-shot); each call
        grounds only its own part.
        """
        if self._ctl is None:
            self._ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
            with self._ctl.backend() as backend:
                for sym in self.model:
                    backend.add_rule([backend.add_atom(sym)])
            self._ctl.ground([("base", [])])
        self._parts += 1
        ok, part = f"__ok_{self._parts}", f"check_{self._parts}"
        try:
            self._ctl.add(part, [], "\n".join(f"{ok}({k}) :- {t}." for k, t in enumerate(texts)))
            self._ctl.ground([(part, [])])
        except RuntimeError:
            self._ctl = None  # a failed grounding leaves the control unusable: start afresh next time
            return None
        return {sa.symbol.arguments[0].number for sa in self._ctl.symbolic_atoms.by_signature(ok, 1) if sa.is_fact}


def _safe_value(text: str) -> str:
    """A substitution value from the proof file, as one well-formed clingo term (never program text)."""
    return str(clingo.parse_term(text))


def _safe_condition(text: str, atom_only: bool = False) -> str:
    """A condition from the proof file, re-printed by clingo after checking it is exactly one literal.

    The proof file is input: without this, text such as ``p(1), #false`` would
    smuggle an extra condition into the checker's program.
    """
    out: list[A.AST] = []
    A.parse_string(f"__x :- {text}.", out.append)
    rules = [st for st in out if st.ast_type == A.ASTType.Rule]
    if len(rules) != 1 or len(rules[0].body) != 1 or rules[0].body[0].ast_type != A.ASTType.Literal:
        raise ValueError(f"{text!r} is not a single condition")
    lit = rules[0].body[0]
    if atom_only and (lit.sign != A.Sign.NoSign or lit.atom.ast_type != A.ASTType.SymbolicAtom):
        raise ValueError(f"{text!r} is not an atom")
    return str(lit)


def _signature(atom_text: str) -> tuple[str, int]:
    out: list[A.AST] = []
    A.parse_string(f"{atom_text}.", out.append)
    head = out[-1].head.atom.symbol
    if head.ast_type == A.ASTType.SymbolicTerm:
        return head.symbol.name, len(head.symbol.arguments)
    return head.name, len(head.arguments)


def _ground_args(atom_text: str) -> list[clingo.Symbol | None]:
    out: list[A.AST] = []
    A.parse_string(f"{atom_text}.", out.append)
    head = out[-1].head.atom.symbol
    if head.ast_type == A.ASTType.SymbolicTerm:
        return list(head.symbol.arguments)
    args = []
    for a in head.arguments:
        try:
            args.append(clingo.parse_term(str(a)))
        except RuntimeError:
            args.append(None)
    return args


def _head_args(rule: A.AST) -> list[A.AST]:
    h = rule.head.atom.symbol
    if h.ast_type == A.ASTType.SymbolicTerm:
        return [A.SymbolicTerm(h.location, a) for a in h.symbol.arguments]
    return list(h.arguments)


def _head_may_match(rule: A.AST, goal_args: list[clingo.Symbol | None]) -> bool:
    for h, g in zip(_head_args(rule), goal_args):
        if g is None:
            continue
        if h.ast_type == A.ASTType.SymbolicTerm and h.symbol != g:
            return False
    return True


def _norm(text: str) -> str:
    try:
        return str(clingo.parse_term(text))
    except RuntimeError:
        return re.sub(r"\s+", "", text)


def verify_proof(proof: Proof, kb: KnowledgeBase, case: Case, checker: Checker | None = None) -> list[str]:
    """Problems found in *proof* (empty: the proof is valid). Independent of the explainer's code."""
    return (checker or Checker(kb, case)).check(proof)


verify = verify_proof
