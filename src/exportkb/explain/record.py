"""Recording which rule instances fired: an AST transform of `kb/`, solved with the case.

For every KB rule ``H :- B.`` (statement number K) the recorder adds

    __fired(K, H, (V1, ..., Vn), (P1, ..., Pm)) :- B.

where V1..Vn are the rule's global variables (anonymous ``_`` outside negated
literals renamed so their values are kept) and P1..Pm its positive body atoms
(so the ground atoms a step rests on come from clingo, not from Python). For every aggregate element ``T : Cond`` of such a rule it adds
``__aggel(K, A, J, (T), (Globals), (Locals)) :- Cond, <the rule's positive atoms>.``
and for every KB fact ``F.`` it adds ``__fact(K, F).`` The original KB is
grounded unchanged beside these rules, so the model is clingo's own answer;
the recorded firings are the derivation steps proofs are built from. Nothing
here decides truth in Python.

Many cases share one grounding (as in :mod:`exportkb.solve.solver`); every case
atom carries an internal case key first and is split back per case.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Sequence

import clingo
import clingo.ast as A

from ..errors import SolveError
from ..case.facts import case_facts
from ..kb import KnowledgeBase, Rule
from ..case.model import Case, case_keys
from .terms import compile_term

T = A.ASTType
FIRED, AGGEL, FACT = "__fired", "__aggel", "__fact"


class RuleInfo:
    """One annotated statement of `kb/` (position *index* in ``KnowledgeBase.rules``) as the explainer sees it.

    Head and body are clingo AST taken from the recording rule (anonymous
    variables named), read lazily: AST attribute access is slow from Python.
    """

    def __init__(self, index: int, rule: Rule, global_vars: tuple[str, ...] = (), recording: A.AST | None = None,
                 head_text: str = ""):
        self.index = index
        self.rule = rule
        self.is_fact = rule.is_fact
        self.global_vars = global_vars
        self.recording = recording
        self.head_text = head_text
        self.signature = rule.head

    @cached_property
    def head(self) -> A.AST | None:
        if self.recording is None:
            return None
        return self.recording.head.atom.symbol.arguments[1]

    @cached_property
    def body(self) -> tuple[A.AST, ...]:
        return tuple(self.recording.body) if self.recording is not None and not self.is_fact else ()

    @cached_property
    def compiled(self) -> tuple["CompiledLiteral", ...]:
        return tuple(compile_literal(b) for b in self.body)


@dataclass(frozen=True)
class CompiledLiteral:
    """A body literal prepared once for fast instantiation."""

    kind: str       # symbolic | comparison | aggregate | other
    positive: bool
    term: tuple | None  # compiled atom term (symbolic literals)
    text: str       # the literal as written (anonymous variables named)
    ast: A.AST


def compile_literal(lit: A.AST) -> CompiledLiteral:
    if lit.ast_type != T.Literal:
        return CompiledLiteral("other", True, None, str(lit), lit)
    positive = lit.sign == A.Sign.NoSign
    at = lit.atom.ast_type
    if at == T.SymbolicAtom:
        return CompiledLiteral("symbolic", positive, compile_term(lit.atom.symbol), str(lit), lit)
    if at == T.Comparison:
        return CompiledLiteral("comparison", positive, None, str(lit), lit)
    if at == T.BodyAggregate:
        return CompiledLiteral("aggregate", positive, None, str(lit), lit)
    return CompiledLiteral("other", positive, None, str(lit), lit)


@dataclass(frozen=True)
class Firing:
    """One ground rule instance that fired: rule K with a substitution, concluding *head*."""

    index: int
    head: clingo.Symbol
    subst: tuple[tuple[str, clingo.Symbol], ...]
    order: str = ""  # the substitution as text: the deterministic tie-break between instances
    positives: tuple[clingo.Symbol, ...] = ()  # the ground positive body atoms, as clingo grounded them

    @property
    def mapping(self) -> dict[str, clingo.Symbol]:
        return dict(self.subst)


TOKEN_RE = re.compile(r'(?:[^\s"]|"(?:[^"\\]|\\.)*")+')
_FIRED_RE = re.compile(r'^__fired\((\d+),[^(,)]*(?:\("(#\d+)")?')


def _parse(text: str) -> clingo.Symbol:
    return clingo.parse_term(text)


class _ChunkData:
    """What the cases of one grounding share: the KB's own atoms and facts, parsed on first use."""

    def __init__(self, program: "RecordingProgram", shared: list[str], fact_texts: list[str],
                 shared_fired: list[str]):
        self.program = program
        self._shared, self._facts, self._fired = shared, fact_texts, shared_fired

    @cached_property
    def atoms(self) -> set[clingo.Symbol]:
        return {_parse(t) for t in self._shared}

    @cached_property
    def kb_facts(self) -> dict[clingo.Symbol, int]:
        out: dict[clingo.Symbol, int] = {}
        for t in self._facts:
            sym = _parse(t)
            out.setdefault(sym.arguments[1], sym.arguments[0].number)
        return out

    @cached_property
    def firings(self) -> list["Firing"]:
        return [_firing(self.program, _parse(t)) for t in self._fired]


def _firing(program: "RecordingProgram", sym: clingo.Symbol) -> "Firing":
    args = sym.arguments
    info = program.infos[args[0].number]
    return Firing(args[0].number, args[1], tuple(zip(info.global_vars, args[2].arguments)), str(args[2]),
                  tuple(args[3].arguments))


class RecordedModel:
    """One case's answer set with the recorded derivation steps.

    The solver's answer is kept as text and turned into clingo symbols only when
    a proof asks for it (``atoms``, ``firings``): recording many cases stays
    cheap, and only the cases explained pay for building their proofs.
    """

    def __init__(self, case: Case, key: str, inputs: set[clingo.Symbol], texts: list[str], fired: list[str],
                 chunk: _ChunkData, agg_elements: dict[tuple, list[tuple[clingo.Symbol, clingo.Symbol]]]):
        self.case = case
        self.key = key                  # the internal case key in the atoms ("#n")
        self.inputs = inputs            # the case facts (built by facts.py)
        self._texts = texts
        self._fired = fired
        self._chunk = chunk
        self.agg_elements = agg_elements  # (K, A, globals tuple) -> [(element terms tuple, locals tuple)]

    @cached_property
    def atoms(self) -> set[clingo.Symbol]:
        """The case's atoms plus the KB's own atoms (the whole answer set as it concerns this case)."""
        return {_parse(t) for t in self._texts} | self._chunk.atoms

    @property
    def kb_facts(self) -> dict[clingo.Symbol, int]:
        """KB fact atom -> index of its statement in KnowledgeBase.rules."""
        return self._chunk.kb_facts

    @cached_property
    def firings(self) -> dict[clingo.Symbol, list["Firing"]]:
        """Head atom -> the rule instances that concluded it, in rule order then substitution text."""
        out: dict[clingo.Symbol, list[Firing]] = {}
        for f in [_firing(self._chunk.program, _parse(t)) for t in self._fired] + self._chunk.firings:
            out.setdefault(f.head, []).append(f)
        for lst in out.values():
            lst.sort(key=lambda f: (f.index, f.order))
        return out

    def fired_rule_indices(self) -> set[int]:
        """Which rules fired for this case, read from the answer's text without building symbols."""
        out = {int(m.group(1)) for m in map(_FIRED_RE.match, self._fired) if m}
        out |= {f.index for f in self._chunk.firings} if self._chunk._fired else set()
        return out

    def holds(self, atom: clingo.Symbol) -> bool:
        return atom in self.atoms


class RecordingProgram:
    """The transformed KB: original statements plus the recording rules. Built once per KB.

    The recording rules are generated as text from clingo's own printing of each
    statement and parsed once (one C call); building them through the Python AST
    API costs a foreign call per attribute and was ten times slower.
    """

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.aggel_globals: dict[tuple[int, int], tuple[str, ...]] = {}
        self.aggregate_rules: set[int] = set()
        self.infos: list[RuleInfo] = [RuleInfo(k, r) for k, r in enumerate(kb.rules)]
        by_text: dict[str, list[int]] = {}
        for k, r in enumerate(kb.rules):
            by_text.setdefault(r.text, []).append(k)
        lines: list[str] = []
        order: list[int] = []
        for k, r in enumerate(kb.rules):
            if r.is_fact and r.head:
                lines.append(f"{FACT}({k},{r.text.rstrip().rstrip('.')}).")
        for stmt in kb.statements:
            if stmt.ast_type != T.Rule or len(stmt.body) == 0:
                continue
            ks = by_text.get(str(stmt))
            if not ks:
                continue  # a statement without annotation: reported by annotation_problems
            k = ks.pop(0)
            info = self.infos[k]
            if not info.signature:
                continue  # constraints or non-atom heads: nothing to conclude
            counter = [0]
            head = _name_anonymous(str(stmt.head), counter)
            body = [_name_anonymous(t, counter) if not t.startswith("not ") else t for t in map(str, stmt.body)]
            gvars = tuple(dict.fromkeys(_text_vars(head) + [v for b in body for v in _text_vars(_outside_braces(b))]))
            info.global_vars = gvars
            info.head_text = head
            positives = [t for t, b in zip(body, stmt.body) if b.ast_type == T.Literal and b.sign == A.Sign.NoSign
                         and b.atom.ast_type == T.SymbolicAtom]
            lines.append(f"{FIRED}({k},{head},{_tuple(gvars)},{_tuple(positives)}) :- {'; '.join(body)}.")
            order.append(k)
        text = "\n".join(lines)
        parsed: list[A.AST] = []
        A.parse_string(text, parsed.append)
        self.extra = parsed
        fired = [st for st in parsed if st.ast_type == T.Rule and len(st.body) > 0]
        for k, st in zip(order, fired):
            self.infos[k].recording = st
        self.extra.extend(self._aggregate_rules(order))
        signatures = {r.head for r in kb.rules if r.head} | set(kb.inputs) | {f"{FIRED}/4", f"{FACT}/2", f"{AGGEL}/6"}
        shows: list[A.AST] = []
        A.parse_string("\n".join(f"#show {sig}." for sig in sorted(signatures)), shows.append)
        self.extra.extend(shows)  # the whole answer set is shown, so it can be read as one string
        self.by_signature: dict[str, list[RuleInfo]] = {}
        for k in order:
            info = self.infos[k]
            self.by_signature.setdefault(info.signature, []).append(info)
        self.fact_signatures = {i.signature for i in self.infos if i.is_fact and i.signature}

    def _aggregate_rules(self, order: list[int]) -> list[A.AST]:
        """``__aggel`` rules recording which element instances each body aggregate counted."""
        lines = []
        for k in order:
            info = self.infos[k]
            if "#" not in info.rule.text:
                continue
            body_texts = [str(b) for b in info.body]
            positives = [t for t, b in zip(body_texts, info.compiled) if b.kind == "symbolic" and b.positive]
            bound = {v for t in positives for v in _text_vars(t)}
            for a, cl in enumerate(info.compiled):
                if cl.kind != "aggregate":
                    continue
                for jx, el in enumerate(cl.ast.atom.elements):
                    el_vars = _text_vars(str(el))
                    evars = [v for v in el_vars if v not in info.global_vars]
                    gl = [v for v in info.global_vars if v in bound or v in el_vars]
                    self.aggel_globals[(k, a)] = tuple(gl)
                    self.aggregate_rules.add(k)
                    terms = ",".join(str(t) for t in el.terms)
                    cond = [str(c) for c in el.condition] + positives
                    lines.append(f"{AGGEL}({k},{a},{jx},({terms},),({','.join(gl)},),({','.join(evars)},)) :- "
                                 f"{'; '.join(cond)}.")
        parsed: list[A.AST] = []
        if lines:
            A.parse_string("\n".join(lines).replace("(,)", "()"), parsed.append)
        return [st for st in parsed if st.ast_type == T.Rule]

    def add_to(self, ctl: clingo.Control) -> None:
        with A.ProgramBuilder(ctl) as builder:
            for stmt in self.kb.statements:
                builder.add(stmt)
            for stmt in self.extra:
                builder.add(stmt)

    def info(self, index: int) -> RuleInfo:
        return self.infos[index]


_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"')
_ANON_RE = re.compile(r"(?<![A-Za-z0-9_'])_(?![A-Za-z0-9_'])")


def _name_anonymous(text: str, counter: list[int]) -> str:
    """Give each anonymous variable ``_`` (outside strings) a fresh name, so its value is recorded.

    Not applied to negated literals: there ``_`` is local to the negation
    (``not item_kind(C, I, _)``: no kind at all), and naming it would make the rule unsafe.
    """
    def fresh(_m):
        counter[0] += 1
        return f"_Anon{counter[0]}"
    parts = _STRING_RE.split(text)
    strings = _STRING_RE.findall(text)
    out = [_ANON_RE.sub(fresh, parts[0])]
    for st, part in zip(strings, parts[1:]):
        out.append(st)
        out.append(_ANON_RE.sub(fresh, part))
    return "".join(out)


def _tuple(items) -> str:
    items = list(items)
    return f"({','.join(items)}{',' if len(items) == 1 else ''})"


def _outside_braces(text: str) -> str:
    """The text of a literal without aggregate elements (their variables are local)."""
    return re.sub(r"\{[^{}]*\}", "{}", _STRING_RE.sub('""', text))


def _text_vars(text: str) -> list[str]:
    return list(dict.fromkeys(_VAR_RE.findall(_STRING_RE.sub('""', text))))


_VAR_RE = re.compile(r"(?<![A-Za-z0-9_'])(_*[A-Z][A-Za-z0-9_']*)(?![A-Za-z0-9_'(])")


class Recorder:
    """Solves cases with the recording program; many cases per grounding."""

    def __init__(self, kb: KnowledgeBase, program: RecordingProgram | None = None, chunk_size: int = 500):
        self.kb = kb
        self.program = program or RecordingProgram(kb)
        self.chunk_size = chunk_size

    def record(self, case: Case) -> RecordedModel:
        return self.record_many([case])[0]

    def record_many(self, cases: Sequence[Case]) -> list[RecordedModel]:
        out: list[RecordedModel] = []
        for start in range(0, len(cases), self.chunk_size):
            out.extend(self._chunk(cases[start:start + self.chunk_size]))
        return out

    def _chunk(self, cases: Sequence[Case]) -> list[RecordedModel]:
        keys = case_keys(len(cases))
        ctl = clingo.Control(["--warn=none"], logger=lambda code, msg: None)
        self.program.add_to(ctl)
        inputs: list[set[clingo.Symbol]] = []
        with ctl.backend() as backend:
            for case, key in zip(cases, keys):
                facts = case_facts(case, key)
                inputs.append(set(facts))
                for sym in facts:
                    backend.add_rule([backend.add_atom(sym)])
        ctl.ground([("base", [])])
        ctl.configuration.solve.models = 2
        models: list[str] = []
        ctl.solve(on_model=lambda m: models.append(str(m)))  # the whole answer as one string: one C call
        if len(models) != 1:
            raise SolveError(f"recording {len(cases)} case(s) (first: {cases[0].case!r}) gave {len(models)} answer sets; "
                             "the KB must be stratified with one answer per case — run `exportkb lint`")
        index = {k: i for i, k in enumerate(keys)}
        shared: list[str] = []
        facts: list[str] = []
        shared_fired: list[str] = []
        texts: list[list[str]] = [[] for _ in cases]
        fired: list[list[str]] = [[] for _ in cases]
        aggs: list[dict] = [{} for _ in cases]
        for text in TOKEN_RE.findall(models[0]):
            if text.startswith("__"):
                if text.startswith(FIRED + "("):
                    m = _FIRED_RE.match(text)
                    i = index.get(m.group(2)) if m and m.group(2) else None
                    (shared_fired if i is None else fired[i]).append(text)
                elif text.startswith(FACT + "("):
                    facts.append(text)
                elif text.startswith(AGGEL + "("):
                    sym = _parse(text)
                    args = sym.arguments
                    i = _first_key(args[4], index)
                    for d in (aggs if i is None else [aggs[i]]):
                        d.setdefault((args[0].number, args[1].number, args[4]), []).append((args[3], args[5]))
                continue
            i = _text_case_index(text, index)
            (shared if i is None else texts[i]).append(text)
        chunk = _ChunkData(self.program, shared, facts, shared_fired)
        return [RecordedModel(c, k, inputs[i], texts[i], fired[i], chunk, aggs[i])
                for i, (c, k) in enumerate(zip(cases, keys))]


def _text_case_index(text: str, index: dict[str, int]) -> int | None:
    """The case of an atom printed as text: its first argument is the case key string "#n"."""
    open_ = text.find("(")
    if open_ < 0 or not text.startswith('"#', open_ + 1):
        return None
    close = text.find('"', open_ + 2)
    return index.get(text[open_ + 2:close]) if close > 0 else None


def _first_key(tup: clingo.Symbol, index: dict[str, int]) -> int | None:
    for a in tup.arguments:
        if a.type == clingo.SymbolType.String and a.string in index:
            return index[a.string]
    return None


def rules_fired(kb: KnowledgeBase, cases: Iterable[Case], recorder: Recorder | None = None) -> dict[str, set[str]]:
    """Rule id -> ids of the cases in which some instance of the rule fired (KB facts excluded)."""
    rec = recorder or Recorder(kb)
    out: dict[str, set[str]] = {r.id: set() for r in kb.rules if not r.is_fact}
    for model in rec.record_many(list(cases)):
        for k in model.fired_rule_indices():
            rule = rec.program.infos[k].rule
            if rule is not None:
                out.setdefault(rule.id, set()).add(model.case.case)
    return out
