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
    the sentence a reader trusts says what the checked atom says;
  * what a reader trusts besides the sentence: every step's rule annotation
    (``cite``, ``source``, ``reads``, ``file``, ``line``, ``text``) is the KB's own
    for that rule id (for a kb_fact: for that fact), each step's ``display`` and
    the proof's ``goal`` read its atom, each step's ``holds`` flag is its kind's,
    each edge's role and ``literal`` are the rule's, and each case fact's field
    provenance (path, file, line, stated) is what the case file gives;
  * the proof's header: its kind, its ``holds`` flag (recomputed), its root's
    kind, its date (the case's) and its KB version (the KB in use);
  * the JSON document itself (:func:`document_problems`): node ids are unique and
    every edge joins two nodes.

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
from ..kb import KnowledgeBase, Rule
from ..case.model import Case
from .fields import FALLBACKS, INPUT_FIELDS, NESTED_BASES
from .proof import Proof

LEAF_REASONS = {"not_stated", "not_in_kb", "no_rule", "depth", "cycle", "no_match"}
#: Why the KB fixes a leaf's reason (see Checker._leaf_reason).
LEAF_REASON_WHY = {"not_stated": "is a case input", "not_in_kb": "is concluded by no rule with a body, only by facts of kb/",
                   "no_rule": "is concluded by no rule of kb/"}
#: The annotation keys a step's ``rule`` carries, each compared with the KB's own.
RULE_KEYS = ("id", "cite", "source", "reads", "file", "line", "text")
#: A step's ``holds`` flag is fixed by its kind (comparisons and aggregates are evaluated instead).
KIND_HOLDS = {"derived": True, "case_fact": True, "kb_fact": True, "absent": False, "not_derived": False,
              "attempt": False, "negation_fails": False}
#: The role of an edge is fixed by the kind of the step it leaves.
CHILD_ROLES = {"derived": {"body"}, "aggregate": {"element"}, "not_derived": {"attempt"}, "attempt": {"fails"},
               "negation_fails": {"holds"}}
_BARE_RE = re.compile(r"^[a-z][A-Za-z0-9_]*$")
#: The attributes a step may carry (proof.schema.json, ``$defs/node``; "id" is the graph's node key).
NODE_KEYS = frozenset({"kind", "holds", "atom", "display", "statement", "rule", "substitution", "level", "field", "list",
                       "value", "pattern", "reason", "expanded"})
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


def expected_statement(kb: KnowledgeBase, atom: clingo.Symbol | tuple[str, list]) -> str | None:
    """The sentence the template of *atom*'s predicate gives for it (None: no template).

    *atom* may be a pattern, as (name, arguments) from ``_atom_parts``: an unknown argument
    (a variable) reads ``<X>``.
    """
    name, args = (atom.name, list(atom.arguments)) if isinstance(atom, clingo.Symbol) else atom
    tpl = kb.templates.get(f"{name}/{len(args)}")
    if tpl is None:
        return None
    values = dict(zip(tpl.args, args))

    def fill(m: re.Match) -> str:
        var, flt = m.group(1), m.group(2)
        if var not in values:
            return m.group(0)
        value = values[var]
        if not isinstance(value, clingo.Symbol):
            return f"<{value.name.lstrip('_')}>" if value.ast_type == A.ASTType.Variable else str(value)
        return _shown(var, flt, value)
    return _PLACEHOLDER_RE.sub(fill, tpl.text)


def _atom_parts(atom_text: str) -> tuple[str, list]:
    """Name and arguments of an atom or pattern: a clingo.Symbol per ground argument, else the AST
    (a variable of a pattern). Parsed as a fact, so the text cannot be more than one atom."""
    out: list[A.AST] = []
    A.parse_string(f"{atom_text}.", out.append)
    rules = [st for st in out if st.ast_type == A.ASTType.Rule]
    if len(rules) != 1 or rules[0].body or rules[0].head.ast_type != A.ASTType.Literal:
        raise ValueError(f"{atom_text!r} is not an atom")
    head = rules[0].head.atom.symbol
    if head.ast_type == A.ASTType.SymbolicTerm:
        return head.symbol.name, list(head.symbol.arguments)
    args: list = []
    for a in head.arguments:
        args.append(a.symbol if a.ast_type == A.ASTType.SymbolicTerm else a)
    return head.name, args


def _without_case(args: list, case_id: str) -> list:
    if args and isinstance(args[0], clingo.Symbol) and args[0].type == clingo.SymbolType.String \
            and args[0].string == case_id:
        return args[1:]
    return args


def expected_display(atom_text: str, case_id: str) -> str:
    """The atom as a user writes a goal (the proof's ``goal``, each step's ``display``): no case id,
    ids bare where they are plain words, a pattern's unknowns as ``<X>`` (docs/explanations.md)."""
    name, args = _atom_parts(atom_text)
    out = []
    for a in _without_case(args, case_id):
        if isinstance(a, clingo.Symbol):
            if a.type == clingo.SymbolType.String:
                out.append(a.string if _BARE_RE.match(a.string) else '"' + a.string.replace('"', '\\"') + '"')
            else:
                out.append(str(a))
        elif a.ast_type == A.ASTType.Variable:
            out.append(f"<{a.name.lstrip('_')}>")
        else:
            out.append(str(a))
    return f"{name}({', '.join(out)})" if out else name


def _ident(sym: clingo.Symbol) -> str:
    if sym.type == clingo.SymbolType.String:
        return sym.string
    if sym.type == clingo.SymbolType.Function and not sym.arguments:
        return sym.name
    return str(sym)


def expected_field(case: Case, atom_text: str, file: str) -> dict | None:
    """The case-file field an input atom comes from, as a proof must state it (None: not a case input).

    Why re-implemented here: the explainer's ``fields.field_ref`` makes the provenance this checks;
    only the predicate -> field table (``fields.INPUT_FIELDS``, data) is shared. A stated field has
    its own line; an unstated one (a default) the line of the field its value falls back to
    (``fields.FALLBACKS``), else of the nearest enclosing field the file states.
    """
    name, args = _atom_parts(atom_text)
    where = INPUT_FIELDS.get(name)
    if where is None:
        return None
    args = _without_case(args, case.case)
    first = args[0] if args and isinstance(args[0], clingo.Symbol) else None
    coll, fld = where
    if coll == "":
        path = fld
    elif coll in NESTED_BASES:
        base = NESTED_BASES[coll]
        path = f"{base}.{_ident(first)}" if first is not None else f"{base}.*"
    else:
        ids = [it.id for it in case.items] if coll == "items" else [p.id for p in case.parties]
        k = str(ids.index(_ident(first))) if first is not None and _ident(first) in ids else "*"
        path = f"{coll}[{k}].{fld}"
    line = case.line_of(path)
    stated = line is not None
    if not stated:
        parent, _, last = path.rpartition(".")
        line = next((case.line_of(f"{parent}.{alt}") for alt in FALLBACKS.get(last, ())
                     if case.line_of(f"{parent}.{alt}") is not None), None)
        enclosing = path
        while line is None and "." in enclosing:
            enclosing = enclosing.rpartition(".")[0]
            line = case.line_of(enclosing)
    return {"path": path, "file": file, "line": line, "stated": stated}


def expected_list(case: Case, atom_text: str) -> dict | None:
    """The screening list a case fact must name (``{"file", "version", "entry"}``), or None.

    Re-implemented from the case's screening hits (``case.screening``, each naming the list file and
    SHA-256 it came from): a ``screening_hit(C, P, E, ...)`` step names the list of P's hit on E, an
    entry's ``screening_entry*(C, E, ...)`` step the list of the first hit on E; a hit recorded by hand
    (no list file) names none."""
    name, args = _atom_parts(atom_text)
    if name not in ("screening_hit", "screening_entry", "screening_entry_scope", "screening_entry_policy"):
        return None
    args = _without_case(args, case.case)
    idents = [_ident(a) if isinstance(a, clingo.Symbol) else None for a in args]
    if not case.screening or not idents or idents[0] is None:
        return None
    if name == "screening_hit":
        if len(idents) < 2 or idents[1] is None:
            return None
        hit = next((h for h in case.screening if h.party_id == idents[0] and h.entry_id == idents[1]), None)
    else:
        hit = next((h for h in case.screening if h.entry_id == idents[0]), None)
    if hit is None or not hit.list_file:
        return None
    return {"file": hit.list_file, "version": hit.list_version, "entry": hit.entry_id}


def document_problems(data: dict) -> list[str]:
    """What the JSON of a proof gets wrong before it is read into a graph (which would hide it):
    duplicate node ids (a graph keeps the last node of an id), edges to or from no node."""
    nodes, edges = data.get("nodes"), data.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        return ["the proof has no list of nodes and edges"]
    problems: list[str] = []
    seen: dict[str, int] = {}
    for nd in nodes:
        nid = nd.get("id") if isinstance(nd, dict) else None
        if not isinstance(nid, str):
            problems.append(f"a node without a string id: {str(nd)[:80]}")
            continue
        seen[nid] = seen.get(nid, 0) + 1
    for nid, k in seen.items():
        if k > 1:
            problems.append(f"{nid}: duplicate node id ({k} nodes have it; each step needs its own id)")
    pairs: set[tuple] = set()
    for e in edges:
        if not isinstance(e, dict):
            problems.append(f"an edge that is not an object: {str(e)[:80]}")
            continue
        u, v = e.get("from"), e.get("to")
        for end in (u, v):
            if end not in seen:
                problems.append(f"edge {u} -> {v}: {end} is not a node of the proof")
        if (u, v) in pairs:
            problems.append(f"edge {u} -> {v}: given twice")
        pairs.add((u, v))
    return problems


class Checker:
    """Verifies proofs of one case against a freshly computed answer set."""

    def __init__(self, kb: KnowledgeBase, case: Case):
        self.kb = kb
        self.case = case
        self.inputs = set(case_facts(case, case.case))
        self.model = self._answer_set()
        self._parsed: dict[tuple, A.AST | None] = {}
        self._facts: dict[str, list[tuple[clingo.Symbol, Rule]]] = {}
        self._displays: dict[str, str] = {}
        self._fields: dict[tuple[str, str], dict | None] = {}
        self._grounds: dict[str, bool] = {}
        self._bodies: dict[str, list[str] | None] = {}
        self._fact_sigs: set[str] | None = None
        self._rule_sigs: set[str] = set()
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
        problems.extend(self._header_problems(proof, root))
        for nid in g.nodes:
            n = g.nodes[nid]
            kind = n.get("kind")
            try:
                getattr(self, f"_check_{kind}")(proof, nid, n, problems, checks)
            except AttributeError:
                problems.append(f"{nid}: unknown step kind {kind!r}")
            except (RuntimeError, KeyError, TypeError, ValueError) as exc:
                problems.append(f"{nid}: malformed step ({type(exc).__name__}: {exc})")
            for part in (self._statement_problems, self._annotation_problems):
                try:
                    problems.extend(part(nid, n))
                except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as exc:
                    problems.append(f"{nid}: malformed step ({type(exc).__name__}: {exc})")
            try:
                problems.extend(self._field_problems(proof, nid, n))
                problems.extend(self._list_problems(nid, n))
                problems.extend(self._edge_problems(proof, nid, n))
            except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as exc:
                problems.append(f"{nid}: malformed step ({type(exc).__name__}: {exc})")
            if g.out_degree(nid) == 0 and kind == "derived":
                problems.append(f"{nid}: leaf {n.get('atom')} is neither a case fact nor a KB fact")
            if g.out_degree(nid) == 0 and kind == "not_derived" and n.get("reason") not in LEAF_REASONS:
                problems.append(f"{nid}: {n.get('atom')} is a leaf without a reason it cannot be derived")
        problems.extend(self._evaluate(checks))
        return problems

    def _header_problems(self, proof: Proof, root: dict) -> list[str]:
        """The proof's kind, holds flag, goal, date and KB version, against the case and the KB in use."""
        out: list[str] = []
        if proof.kb_version != self.kb.version:
            out.append(f"the proof was made with KB {proof.kb_version!r}, but the KB in use is {self.kb.version!r} "
                       "(fix: verify with the kb/ that made the proof, or explain the case again)")
        want_date = self.case.date.isoformat()
        if proof.case_date != want_date:
            out.append(f"the proof's case_date is {proof.case_date!r}, but case {self.case.case!r} is dated {want_date}")
        if proof.kind not in ("why", "why_not"):
            out.append(f"the proof's kind is {proof.kind!r}; expected 'why' or 'why_not'")
            return out
        try:
            actual = clingo.parse_term(proof.atom) in self.model
        except RuntimeError:
            actual = None  # a pattern: not_derived checks it has no instance
        want_holds = proof.kind == "why"
        if proof.holds is not want_holds:
            out.append(f"the proof's holds is {proof.holds!r}, but a {proof.kind} proof has holds {want_holds}")
        if actual is not None and actual is not want_holds:
            out.append(f"the proof's kind is {proof.kind!r}, but its goal {proof.atom} "
                       f"{'holds' if actual else 'does not hold'} in the answer set")
        want_root = ("derived", "case_fact", "kb_fact") if want_holds else ("not_derived",)
        if root.get("kind") not in want_root:
            out.append(f"the root of a {proof.kind} proof is a {root.get('kind')} step; expected {' or '.join(want_root)}")
        try:
            goal = expected_display(proof.atom, self.case.case)
        except (RuntimeError, ValueError):
            return out + [f"the proof's atom {proof.atom!r} is not an atom"]
        if proof.goal != goal:
            out.append(f"the proof's goal is {proof.goal!r}, but its atom {proof.atom} reads {goal!r}")
        return out

    def _display(self, atom_text: str) -> str:
        if atom_text not in self._displays:  # proofs of one case share most atoms
            self._displays[atom_text] = expected_display(atom_text, self.case.case)
        return self._displays[atom_text]

    def _kb_fact_rules(self, rule_id: str) -> list[tuple[clingo.Symbol, Rule]]:
        """The facts of *rule_id* in kb/, each with its statement (facts sharing an id differ in line and text)."""
        if rule_id not in self._facts:
            out = []
            for r in self.kb.rules_by_id.get(rule_id, []):
                if r.is_fact:
                    try:
                        out.append((clingo.parse_term(r.text.rstrip().rstrip(".")), r))
                    except RuntimeError:
                        continue
            self._facts[rule_id] = out
        return self._facts[rule_id]

    def _annotation_problems(self, nid: str, n: dict) -> list[str]:
        """A step's holds flag, display and rule annotation are the ones its kind, atom and rule give."""
        kind = n.get("kind")
        out: list[str] = []
        extra = sorted(set(n) - NODE_KEYS)
        if extra:
            out.append(f"{nid}: unknown attribute(s) {', '.join(extra)} (proof.schema.json lists a step's attributes)")
        if kind in ("comparison", "aggregate") and n.get("atom", n.get("value")) != n.get("value"):
            out.append(f"{nid}: atom {n.get('atom')!r} is not the condition's value {n.get('value')!r}")
        if kind == "not_derived":
            ground = self._grounds.get(n["atom"])
            if ground is None:
                try:
                    clingo.parse_term(n["atom"])
                    ground = True
                except RuntimeError:
                    ground = False
                self._grounds[n["atom"]] = ground
            if n.get("pattern") is not (not ground):
                out.append(f"{nid}: pattern is {n.get('pattern')!r}, but {n['atom']} is "
                           f"{'ground' if ground else 'a pattern (it has unknowns)'}")
        if kind in KIND_HOLDS and n.get("holds") is not KIND_HOLDS[kind]:
            out.append(f"{nid}: holds is {n.get('holds')!r}, but a {kind} step has holds {KIND_HOLDS[kind]}")
        r = n.get("rule")
        if kind == "attempt":
            if n.get("display") != (r or {}).get("id"):
                out.append(f"{nid}: display {n.get('display')!r} is not the attempted rule's id {(r or {}).get('id')!r}")
        elif "display" in n or kind in KIND_HOLDS:
            want = self._display(n["atom"])
            if n.get("display") != want:
                out.append(f"{nid}: display {n.get('display')!r} does not read {n['atom']} (expected {want!r})")
        if kind not in ("derived", "attempt", "kb_fact"):
            if r is not None:
                out.append(f"{nid}: a {kind} step carries a rule annotation ({r.get('id') if isinstance(r, dict) else r!r}) "
                           "it does not rest on")
            return out
        if not isinstance(r, dict):
            return out + [f"{nid}: a {kind} step without its rule annotation"]
        rid = r.get("id", "")
        if kind == "kb_fact":
            atom = self._atom(n)
            rules = [rule for sym, rule in self._kb_fact_rules(rid) if sym == atom]
        else:
            rules = [rule for rule in self.kb.rules_by_id.get(rid, []) if not rule.is_fact]
        if not rules:
            return out  # the kind's own check reports that kb/ has no such rule or fact
        best = min(rules, key=lambda rule: sum(r.get(k) != getattr(rule, k) for k in RULE_KEYS))
        for k in RULE_KEYS:
            if r.get(k) != getattr(best, k):
                out.append(f"{nid}: rule {rid}: {k} is {r.get(k)!r}, but kb/ has {getattr(best, k)!r}")
        extra = sorted(set(r) - set(RULE_KEYS))
        if extra:
            out.append(f"{nid}: rule {rid}: unknown annotation(s) {', '.join(extra)}")
        return out

    def _field_problems(self, proof: Proof, nid: str, n: dict) -> list[str]:
        """A case fact's (or an unstated input's) field: the path, file, line and stated flag the case file gives."""
        kind = n.get("kind")
        got = n.get("field")
        if kind == "case_fact" or (kind == "not_derived" and n.get("reason") == "not_stated"):
            key = (n["atom"], proof.case_source)
            if key not in self._fields:  # proofs of one case share their case facts
                self._fields[key] = expected_field(self.case, n["atom"], proof.case_source)
            want = self._fields[key]
        else:
            want = None
        if want is None:
            return [] if got is None else [f"{nid}: a {kind} step names a case field ({got!r}) it does not come from"]
        if not isinstance(got, dict):
            return [f"{nid}: {n['atom']} comes from case field {want['path']} (line {want['line']}), "
                    "but the step names no field"]
        out = [f"{nid}: field {k} is {got.get(k)!r}, but the case file gives {want[k]!r}"
               + (f" (the proof's case_source)" if k == "file" else "")
               for k in ("path", "file", "line", "stated") if got.get(k) != want[k] or type(got.get(k)) is not type(want[k])]
        extra = sorted(set(got) - set(want))
        if extra:
            out.append(f"{nid}: field: unknown key(s) {', '.join(extra)}")
        return out

    def _list_problems(self, nid: str, n: dict) -> list[str]:
        """A screening fact's list (file, SHA-256, entry) is the one the case's hit came from; no other step names one."""
        got = n.get("list")
        want = expected_list(self.case, n["atom"]) if n.get("kind") == "case_fact" and n.get("atom") else None
        if want is None:
            return [] if got is None else [f"{nid}: the step names a screening list ({got!r}) it does not come from"]
        if got != want:
            return [f"{nid}: {n['atom']} comes from screening list {want['file']} (SHA-256 {want['version']}, "
                    f"entry {want['entry']}), but the step names {got!r}"]
        return []

    def _edge_problems(self, proof: Proof, nid: str, n: dict) -> list[str]:
        """Each edge leaving *nid* has its parent kind's role, and a ``literal`` that is the rule's own."""
        kind = n.get("kind")
        out: list[str] = []
        roles = CHILD_ROLES.get(kind, set())
        body = None
        if kind in ("derived", "attempt"):
            rid = (n.get("rule") or {}).get("id", "")
            if rid not in self._bodies:
                rule = self._rule_ast(rid)
                self._bodies[rid] = [str(lit) for lit in rule.body] if rule is not None else None
            body = self._bodies[rid]
        for _, v, d in proof.graph.out_edges(nid, data=True):
            if d.get("role") not in roles:
                out.append(f"{nid} -> {v}: role {d.get('role')!r}; a {kind} step's edges have role "
                           f"{' or '.join(sorted(roles)) or '(none: it is a leaf)'}")
            if "literal" not in d or body is None:
                continue
            i = d.get("order") if kind == "derived" else d.get("literal_index")
            want = body[i] if isinstance(i, int) and 0 <= i < len(body) else None
            if want is not None and d["literal"] != want:
                out.append(f"{nid} -> {v}: literal {d['literal']!r}, but body literal {i} of "
                           f"{(n.get('rule') or {}).get('id')} is {want!r}")
        return out

    def _statement_problems(self, nid: str, n: dict) -> list[str]:
        """The step's English says what its atom (or, for an attempt, its rule) says."""
        said = n.get("statement")
        if said is None:
            return []
        if n.get("kind") == "attempt":
            rid = (n.get("rule") or {}).get("id", "")
            reads = {r.reads for r in self.kb.rules_by_id.get(rid, []) if not r.is_fact}
            return [] if not reads or said in reads else [f"{nid}: statement {said!r} is not what rule {rid} reads"]
        if "atom" not in n or n.get("kind") in ("comparison", "aggregate"):
            return []
        atom = n["atom"]
        if atom not in self._sentences:  # proofs of one case share most atoms
            parts = _atom_parts(atom) if n.get("pattern") else self._atom(n)
            want = expected_statement(self.kb, parts)
            self._sentences[atom] = want if want is not None else self._display(atom)
        want = self._sentences[atom]
        if said != want:
            how = "its template gives" if f"{_signature(atom)[0]}/{_signature(atom)[1]}" in self.kb.templates \
                else "it has no template, so the statement is the atom as displayed:"
            return [f"{nid}: statement {said!r} does not read {n['atom']} ({how} {want!r})"]
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
        sig = f"{name}/{arity}"
        if reason == "not_stated" and sig not in self.kb.inputs:
            problems.append(f"{nid}: {sig} is not a case input, so 'not stated' does not explain it")
        else:
            want = self._leaf_reason(sig)
            if want is not None and reason != want:
                problems.append(f"{nid}: reason {reason!r}, but {sig} {LEAF_REASON_WHY[want]}: expected {want!r}")
        if reason in ("depth", "cycle") and n.get("expanded") is not False:
            problems.append(f"{nid}: reason {reason!r}, but expanded is {n.get('expanded')!r}, not false")
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

    def _leaf_reason(self, sig: str) -> str | None:
        """The reason a not_derived step of *sig* must give when the KB fixes it (None: it does not).

        A case input is 'not stated'; a predicate no rule with a body concludes is 'not in kb'
        when kb/ states facts of it, else 'no rule'. Otherwise the step is explained by attempts
        (or stopped at depth, a cycle, or no rule whose head matches — checked through the attempts).
        """
        if sig in self.kb.inputs:
            return "not_stated"
        if self._fact_sigs is None:
            self._fact_sigs = {r.head for r in self.kb.rules if r.is_fact and r.head}
            self._rule_sigs = {r.head for r in self.kb.rules if not r.is_fact and r.head}
        if sig in self._rule_sigs:
            return None
        return "not_in_kb" if sig in self._fact_sigs else "no_rule"

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


# ------------------------------------------------------------- batch rows
#: The answers of a batch row (``Determination.to_json``) that a determination proof backs, by predicate.
ANSWER_PREDICATES = ("license_required", "license_requirement", "exception_available", "exception_conditional",
                     "presumption_of_denial", "license_review_policy",
                     "obligation", "red_flag", "case_obligation", "out_of_scope")


def _answer_of_atom(atom: clingo.Symbol, case_id: str, kb: KnowledgeBase) -> tuple | None:
    """The row answer an atom stands for, e.g. ``("exception_available", "gpus", "AIA")`` (None: not an answer)."""
    if atom.name not in ANSWER_PREDICATES:
        return None
    args = list(atom.arguments)
    if not args or args[0] != clingo.String(case_id):
        return None
    rest = [_ident(a) for a in args[1:]]
    if atom.name == "exception_available" and len(rest) == 2:
        return (atom.name, rest[0], kb.exception_names.get(rest[1], (rest[1].upper(),))[0])
    if atom.name == "exception_conditional" and len(rest) == 3:
        return (atom.name, rest[0], kb.exception_names.get(rest[1], (rest[1].upper(),))[0], rest[2])
    if atom.name == "red_flag" and len(rest) == 1:
        return (atom.name, rest[0].upper())
    return (atom.name, *rest)


def answers_of_row(row: dict) -> set[tuple]:
    """What a batch row claims, as answers (the shape :func:`_answer_of_atom` gives an atom).

    Raises TypeError/AttributeError/KeyError when the row is not a determination of the batch format.
    """
    out: set[tuple] = set()
    for item, it in row["items"].items():
        if it["license_required"] is True:
            out.add(("license_required", item))
        out.update(("license_requirement", item, r["id"]) for r in it["requirements"])
        out.update(("exception_available", item, x) for x in it["exceptions_available"])
        out.update(("exception_conditional", item, c["exception"], c["condition"])
                   for c in it.get("exceptions_conditional", []))
        if it["presumption_of_denial"] is True:
            out.add(("presumption_of_denial", item))
        # the item's policy: the final rows of license_review_policies (not_stated included; JSON null)
        out.update(("license_review_policy", item, p["policy"]) for p in it["license_review_policies"] if p["final"])
        if it["license_review_policy"] is not None:  # the top-level field must be backed too (not only the list)
            out.add(("license_review_policy", item, it["license_review_policy"]))
        out.update(("obligation", item, o) for o in it["obligations"])
    out.update(("red_flag", str(rf).upper()) for rf in row["red_flags"])
    out.update(("case_obligation", o) for o in row["obligations"])
    out.update(("out_of_scope", r) for r in row["out_of_scope"])
    return out


def describe_answer(answer: tuple) -> str:
    """An answer as the row's field says it: ``items.gpus.exceptions_available includes 'AIA'``."""
    name, *args = answer
    if name in ("license_required", "presumption_of_denial"):
        return f"items.{args[0]}.{name} is true"
    if name == "license_requirement":
        return f"items.{args[0]}.requirements includes {args[1]!r}"
    if name == "exception_conditional":
        return f"items.{args[0]}.exceptions_conditional includes {args[1]!r} (condition {args[2]!r})"
    if name == "license_review_policy":
        return f"items.{args[0]}.license_review_policy is {args[1]!r}"
    if name in ("exception_available", "obligation"):
        field = "exceptions_available" if name == "exception_available" else "obligations"
        return f"items.{args[0]}.{field} includes {args[1]!r}"
    field = {"red_flag": "red_flags", "case_obligation": "obligations", "out_of_scope": "out_of_scope"}[name]
    return f"{field} includes {args[0]!r}"


def row_answer_problems(row: dict, proofs: list[Proof], checker: Checker) -> list[str]:
    """Every answer of a batch *row* has a proof among *proofs*, and holds in the checker's own
    answer set; every proof and every determination of that answer set is an answer of the row.

    Why: the checker proves each proof valid, but a row whose ``license_required`` was flipped, or
    that gained an exception or lost its proofs, would still pass that check.
    """
    try:
        claimed = answers_of_row(row)
    except (TypeError, AttributeError, KeyError) as exc:
        return [f"the row's answers are not a determination of the batch format ({type(exc).__name__}: {exc})"]
    case_id, kb = checker.case.case, checker.kb
    proved: dict[tuple, str] = {}
    for p in proofs:
        try:
            a = _answer_of_atom(clingo.parse_term(p.atom), case_id, kb)
        except RuntimeError:
            a = None
        if a is not None:
            proved.setdefault(a, p.goal)
    model = {a for a in (_answer_of_atom(s, case_id, kb) for s in checker.model) if a is not None}
    out: list[str] = []
    for a in sorted(claimed - set(proved)):
        out.append(f"the row says {describe_answer(a)}, but no proof of the row concludes it")
    for a in sorted(set(proved) - claimed):
        out.append(f"the proof of {proved[a]} concludes {describe_answer(a)}, but the row does not say so")
    for a in sorted(claimed - model):
        out.append(f"the row says {describe_answer(a)}, but the recomputed answer set does not")
    for a in sorted(model - claimed):
        out.append(f"the recomputed answer set gives {describe_answer(a)}, but the row does not say so")
    return out


def field_differences(got: object, want: object, path: str = "") -> list[str]:
    """Where *got* (a row, as read) differs from *want* (as recomputed), one line per field path."""
    if isinstance(want, dict) and isinstance(got, dict):
        out: list[str] = []
        for k in want:
            sub = f"{path}.{k}" if path else str(k)
            if k not in got:
                out.append(f"{sub}: missing from the row (recomputed: {json_text(want[k])})")
            else:
                out.extend(field_differences(got[k], want[k], sub))
        return out
    if got != want or type(got) is not type(want):
        return [f"{path}: the row says {json_text(got)}, recomputed {json_text(want)}"]
    return []


def json_text(value: object) -> str:
    import json
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 200 else text[:200] + "…"
