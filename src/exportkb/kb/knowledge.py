"""The knowledge base: the `.lp` files of `kb/`, parsed once, with their annotations.

Every statement in `kb/` sits under an annotation block::

    %! id: aia.located
    %! cite: 15 CFR 740.27(a)
    %! source: seed 004_642a5b8b1c802154.txt
    %! reads: AIA requires the recipient entity to be located in ...
    aia_recipient_located_in_supp5a(C) :- ...

A block covers every statement up to the next block; it may cover many facts
but at most one rule with a body (checked by :func:`annotation_problems`).
``%@ pred(Args): template`` lines give the plain-English reading of a predicate
(used by explanations); ``%input pred(Args)`` declares a case input.

Template syntax: ``{V}`` is replaced by argument ``V`` as the KB holds it (a
string without quotes, a number, a constant as written; ``D``/``From``/``To``
dates as YYYY-MM-DD). ``{V:filter}`` first passes a *constant* argument through
one of :data:`TEMPLATE_FILTERS`, because the KB's constants are lower-case
identifiers while the law writes "License Exception AIA", "Country Group D:5",
"red flag 28"::

    %@ exception_available(C, I, X): {X:upper} is available for item {I}.

A filter changes only how a constant is shown (strings, numbers and the
unknowns of a why-not pattern are shown as without it); an unknown filter name
is a KB problem reported by ``exportkb lint``.

The parsed program (clingo AST) is kept so that each solve adds it to a fresh
``clingo.Control`` without re-parsing text — parsing dominates the cost of a
fresh Control (see shared/performance-notes.md).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import clingo
import clingo.ast

from ..errors import KBError

_BLOCK_RE = re.compile(r"^%!\s*(\w+)\s*:\s*(.*)$")
_TEMPLATE_RE = re.compile(r"^%@\s*(\w+)\(([^)]*)\)\s*:\s*(.+)$")
_INPUT_RE = re.compile(r"^%input\s+(\w+)\(([^)]*)\)\s*$")
#: A placeholder of a template: ``{V}`` or ``{V:filter}``.
TEMPLATE_PLACEHOLDER_RE = re.compile(r"\{(\w+)(?::(\w+))?\}")
_GROUP_RE = re.compile(r"^([a-z])(\d+)$")


def _group(name: str) -> str:
    """``d5`` -> ``D:5`` (15 CFR 740 Supp. No. 1 writes groups letter:number); other names unchanged."""
    m = _GROUP_RE.match(name)
    return f"{m.group(1).upper()}:{m.group(2)}" if m else name


#: The filters a template placeholder may name, constant -> text. Kept tiny on purpose:
#: ``upper`` gives the names the KB's own ``exception/3`` catalogue uses (aia -> AIA,
#: veu_national -> VEU-NATIONAL); ``words`` reads an identifier as words (ultimate_consignee ->
#: ultimate consignee); ``group`` writes a Country Group as the EAR does (d5 -> D:5); ``number``
#: keeps the trailing number the law numbers a thing by (rf28 -> 28, "red flag 28").
TEMPLATE_FILTERS: dict[str, Callable[[str], str]] = {
    "upper": lambda c: c.upper().replace("_", "-"),
    "words": lambda c: c.replace("_", " "),
    "group": _group,
    "number": lambda c: re.sub(r"^\D+(?=\d+$)", "", c),
}
REQUIRED_KEYS = ("id", "cite", "source", "reads")


def default_kb_path() -> Path:
    """Where the shipped knowledge base is.

    In an installed wheel the repository's `kb/` folder is package data at
    ``exportkb/kb/rules`` (next to this Python package, not mixed with its modules);
    in a source checkout or an editable install it is the repository's top-level `kb/`.
    """
    packaged = Path(str(resources.files("exportkb.kb"))) / "rules"
    if packaged.is_dir():
        return packaged
    repo = Path(__file__).resolve().parents[3] / "kb"
    if repo.is_dir():
        return repo
    raise KBError("cannot find the knowledge base (kb/): reinstall exportkb or pass --kb PATH")


@dataclass(frozen=True)
class Rule:
    """One statement of `kb/` with the provision it encodes."""

    id: str
    cite: str
    source: str
    reads: str
    file: str
    line: int
    text: str
    is_fact: bool
    head: str  # "name/arity" of the head predicate ("" for constraints/directives)


@dataclass(frozen=True)
class Template:
    """The plain-English reading of a predicate, e.g. ``license_required(C, I)``."""

    name: str
    args: tuple[str, ...]
    text: str
    file: str

    @property
    def signature(self) -> str:
        return f"{self.name}/{len(self.args)}"


@dataclass
class _Block:
    keys: dict[str, str]
    start: int
    end: int


@dataclass
class KnowledgeBase:
    """All of `kb/`, parsed once per process."""

    root: Path
    files: list[Path]
    statements: list[clingo.ast.AST]
    rules: list[Rule]
    templates: dict[str, Template]
    inputs: dict[str, tuple[str, ...]]
    problems: list[str] = field(default_factory=list)
    version: str = ""

    @classmethod
    def load(cls, path: str | Path | None = None, extra_files: list[Path] | None = None) -> "KnowledgeBase":
        """Parse every `.lp` file under *path* (default: the shipped KB), plus *extra_files* (reforms)."""
        root = Path(path) if path else default_kb_path()
        if not root.is_dir():
            raise KBError(f"{root}: not a directory (fix: pass the folder that holds the .lp files)")
        files = sorted(root.rglob("*.lp"))
        if not files:
            raise KBError(f"{root}: no .lp files found")
        files += list(extra_files or [])
        statements: list[clingo.ast.AST] = []
        rules: list[Rule] = []
        templates: dict[str, Template] = {}
        inputs: dict[str, tuple[str, ...]] = {}
        problems: list[str] = []
        digest = hashlib.sha256()
        for f in files:
            text = f.read_text(encoding="utf-8")
            digest.update(f.name.encode() + b"\0" + text.encode())
            rel = _rel(f, root)
            blocks = _parse_comments(text, rel, templates, inputs, problems)
            parsed: list[clingo.ast.AST] = []
            try:
                clingo.ast.parse_string(text, parsed.append)
            except RuntimeError as exc:  # clingo reports syntax errors this way
                raise KBError(f"{rel}: cannot parse: {exc}") from exc
            for stmt in parsed:
                if stmt.ast_type == clingo.ast.ASTType.Program:
                    statements.append(stmt)
                    continue
                statements.append(stmt)
                line = stmt.location.begin.line
                block = _owning_block(blocks, line)
                is_rule = stmt.ast_type == clingo.ast.ASTType.Rule
                if stmt.ast_type in (clingo.ast.ASTType.ShowSignature, clingo.ast.ASTType.ShowTerm,
                                     clingo.ast.ASTType.Defined, clingo.ast.ASTType.Comment):
                    continue
                if block is None:
                    problems.append(f"{rel}:{line}: statement has no %! annotation block: {stmt}")
                    continue
                head = head_signature(stmt) if is_rule else ""
                is_fact = is_rule and len(stmt.body) == 0
                rules.append(Rule(
                    id=block.keys.get("id", ""), cite=block.keys.get("cite", ""),
                    source=block.keys.get("source", ""), reads=block.keys.get("reads", ""),
                    file=rel, line=line, text=str(stmt), is_fact=is_fact, head=head))
        kb = cls(root=root, files=files, statements=statements, rules=rules,
                 templates=templates, inputs=inputs, problems=problems,
                 version=digest.hexdigest()[:12])
        kb.problems.extend(annotation_problems(kb))
        return kb

    # -- what the KB knows (read by grounding the KB alone, once) -------------
    @cached_property
    def _ground_facts(self) -> dict[str, list[tuple]]:
        ctl = clingo.Control(["--warn=none"])
        self.add_to(ctl)
        ctl.ground([("base", [])])
        wanted = {"country": 2, "eccn": 3, "transaction_kind": 1, "end_use_value": 1,
                  "party_role_value": 1, "veu_value": 1, "item_kind_value": 1,
                  "exception": 3, "requirement": 3, "country_group": 1, "knowledge_key": 2,
                  "red_flag_def": 3, "obligation_def": 3, "milestone": 2, "review_source": 2,
                  "el_scope_value": 1, "review_policy_value": 1,
                  "regime_value": 1, "cn_technology": 3, "cn_spec": 2,
                  "united_states_part": 1, "guidance_doc": 4}
        out: dict[str, list[tuple]] = {k: [] for k in wanted}
        for name, arity in wanted.items():
            for sa in ctl.symbolic_atoms.by_signature(name, arity):
                if sa.is_fact:
                    out[name].append(tuple(python_value(a) for a in sa.symbol.arguments))
        for v in out.values():
            v.sort(key=repr)
        return out

    def facts(self, name: str) -> list[tuple]:
        """Ground KB facts of a vocabulary predicate (e.g. ``country``), as Python tuples."""
        return self._ground_facts.get(name, [])

    @cached_property
    def countries(self) -> dict[str, str]:
        return {code: name for code, name in self.facts("country")}

    @cached_property
    def eccns(self) -> dict[str, tuple[str, str]]:
        return {e: (lvl, fam) for e, lvl, fam in self.facts("eccn")}

    def values(self, name: str) -> list[str]:
        """The allowed values of an enumerated vocabulary predicate (``end_use_value`` ...)."""
        return [t[0] for t in self.facts(name)]

    @cached_property
    def exception_names(self) -> dict[str, tuple[str, str]]:
        return {x: (name, cite) for x, name, cite in self.facts("exception")}

    @cached_property
    def requirement_info(self) -> dict[str, tuple[str, str]]:
        return {r: (label, cite) for r, label, cite in self.facts("requirement")}

    @cached_property
    def guidance_docs(self) -> dict[str, tuple[str, int, str]]:
        """Guidance document id -> (title, date YYYYMMDD, citation) (``guidance_doc/4``, kb/guidance/)."""
        return {g: (title, d, cite) for g, d, title, cite in self.facts("guidance_doc")}

    @cached_property
    def note_readings(self) -> dict[str, tuple[str, str]]:
        """Note name -> (reading, citation) of the first rule that derives ``note(C, name(...))``.

        A note is the KB telling the reader something it could not decide or had to assume; its rule's
        one-line reading says what, and its citation where the law says it. Renderers print them beside
        the note, so that a note is never a bare id."""
        out: dict[str, tuple[str, str]] = {}
        for r in self.rules:
            if r.head != "note/2":
                continue
            m = re.match(r"\s*note\(\s*[A-Z_]\w*\s*,\s*([a-z]\w*)", r.text)
            if m and m.group(1) not in out:
                out[m.group(1)] = (r.reads, r.cite)
        return out

    @cached_property
    def review_sources(self) -> dict[str, str]:
        """Review-policy paragraph id -> its citation (``review_source/2``, kb/requirements/review_policy.lp)."""
        return {src: cite for src, cite in self.facts("review_source")}

    @cached_property
    def _head_arguments(self) -> dict[str, list[set[str] | None]]:
        """Per head predicate ("name/arity"), per argument: the constants the KB's rules put there,
        or None where some rule puts a variable or a compound term (an open vocabulary)."""
        out: dict[str, list[set[str] | None]] = {}
        for stmt in self.statements:
            if stmt.ast_type != clingo.ast.ASTType.Rule:
                continue
            head = stmt.head
            if head.ast_type != clingo.ast.ASTType.Literal or head.atom.ast_type != clingo.ast.ASTType.SymbolicAtom:
                continue
            term = head.atom.symbol
            if term.ast_type == clingo.ast.ASTType.Function:
                args = [_constant_name(a) for a in term.arguments]
                sig = f"{term.name}/{len(args)}"
            elif term.ast_type == clingo.ast.ASTType.SymbolicTerm and term.symbol.type == clingo.SymbolType.Function:
                args = [python_value(a) if a.type != clingo.SymbolType.Function or not a.arguments else None
                        for a in term.symbol.arguments]
                args = [str(a) if a is not None else None for a in args]
                sig = f"{term.symbol.name}/{len(args)}"
            else:
                continue
            slots = out.setdefault(sig, [set() for _ in args])
            for i, a in enumerate(args):
                if slots[i] is not None:
                    if a is None:
                        slots[i] = None
                    else:
                        slots[i].add(a)  # type: ignore[union-attr]
        return out

    def head_constants(self, signature: str, position: int) -> set[str] | None:
        """The constants the KB's rules derive at argument *position* of *signature* (e.g. every
        obligation id of ``obligation/3`` at 2), or None when that argument is open (a variable).
        Why: the names an ``expect:`` list may use are exactly those the KB can derive."""
        slots = self._head_arguments.get(signature)
        if slots is None or position >= len(slots):
            return set()
        return slots[position]

    @cached_property
    def rules_by_id(self) -> dict[str, list[Rule]]:
        out: dict[str, list[Rule]] = {}
        for r in self.rules:
            out.setdefault(r.id, []).append(r)
        return out

    def derived(self, name: str, build: Callable[["KnowledgeBase"], Any], after: int = 1) -> Any:
        """A value a higher layer derives from this KB (e.g. the solver's residual split), kept with it.

        Why here: such a value lives exactly as long as the KB it was computed from, and the
        KB must not import the layers that compute it (see docs/architecture.md). ``build(kb)``
        runs on the *after*-th request for *name*; before that (unless it is built already)
        the answer is None — for work that only pays off in a warm process. The cache is
        not a dataclass field, so :func:`dataclasses.replace` (reforms) never shares it.
        """
        cache = self.__dict__.setdefault("_derived", {})
        if name not in cache:
            asked = self.__dict__.setdefault("_derived_asked", {})
            asked[name] = asked.get(name, 0) + 1
            if asked[name] < after:
                return None
            cache[name] = build(self)
        return cache[name]

    def has_derived(self, name: str) -> bool:
        """Whether :meth:`derived` has built *name* for this KB."""
        return name in self.__dict__.get("_derived", {})

    def add_to(self, ctl: clingo.Control) -> None:
        """Add the parsed KB to a control object (no text parsing)."""
        with clingo.ast.ProgramBuilder(ctl) as builder:
            for stmt in self.statements:
                builder.add(stmt)


def _rel(f: Path, root: Path) -> str:
    try:
        return str(f.relative_to(root))
    except ValueError:
        return str(f)


def python_value(sym: clingo.Symbol) -> int | str:
    """A symbol as Python: a number as int, a string as its text, a constant as its name, else clingo's text.

    The one reading of argument values shared by the KB's vocabulary, the solver's atom
    reader and the named queries.
    """
    if sym.type == clingo.SymbolType.Number:
        return sym.number
    if sym.type == clingo.SymbolType.String:
        return sym.string
    if sym.type == clingo.SymbolType.Function and not sym.arguments:
        return sym.name
    return str(sym)


def _constant_name(term: clingo.ast.AST) -> str | None:
    """The text of a constant argument in the AST (``lpp``, ``"x"``, ``3``), None for anything else."""
    if term.ast_type == clingo.ast.ASTType.SymbolicTerm:
        sym = term.symbol
        if sym.type == clingo.SymbolType.Function and sym.arguments:
            return None
        return str(python_value(sym))
    if term.ast_type == clingo.ast.ASTType.Function and not term.arguments and not term.external:
        return term.name
    return None


def head_signature(stmt: clingo.ast.AST) -> str:
    """``name/arity`` of a rule's head predicate; "" for constraints, choices and other heads."""
    head = stmt.head
    if head.ast_type == clingo.ast.ASTType.Literal and head.atom.ast_type == clingo.ast.ASTType.SymbolicAtom:
        term = head.atom.symbol
        if term.ast_type == clingo.ast.ASTType.Function:
            return f"{term.name}/{len(term.arguments)}"
        if term.ast_type == clingo.ast.ASTType.SymbolicTerm:
            sym = term.symbol
            return f"{sym.name}/{len(sym.arguments)}"
    return ""


def _parse_comments(text: str, rel: str, templates: dict, inputs: dict, problems: list) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        m = _BLOCK_RE.match(line)
        if m:
            key, value = m.group(1), m.group(2).strip()
            if current is None or current.end != no - 1:
                current = _Block(keys={}, start=no, end=no)
                blocks.append(current)
            if key in current.keys:
                current.keys[key] += " " + value
            else:
                current.keys[key] = value
            current.end = no
            continue
        t = _TEMPLATE_RE.match(line)
        if t:
            args = tuple(a.strip() for a in t.group(2).split(",") if a.strip())
            tpl = Template(t.group(1), args, t.group(3).strip(), rel)
            for var, flt in TEMPLATE_PLACEHOLDER_RE.findall(tpl.text):
                if flt and var not in args:
                    problems.append(f"{rel}:{no}: template for {tpl.signature} names {{{var}:{flt}}}, "
                                    f"not an argument of {tpl.name}({', '.join(args)})")
                if flt and flt not in TEMPLATE_FILTERS:
                    problems.append(f"{rel}:{no}: template for {tpl.signature}: unknown filter "
                                    f"{{{var}:{flt}}} (known: {', '.join(TEMPLATE_FILTERS)})")
            if tpl.signature in templates and templates[tpl.signature].text != tpl.text:
                problems.append(f"{rel}:{no}: template for {tpl.signature} given twice")
            templates[tpl.signature] = tpl
            continue
        i = _INPUT_RE.match(line)
        if i:
            args = tuple(a.strip() for a in i.group(2).split(",") if a.strip())
            inputs[f"{i.group(1)}/{len(args)}"] = args
    return blocks


def _owning_block(blocks: list[_Block], line: int) -> _Block | None:
    owner = None
    for b in blocks:
        if b.end < line:
            owner = b
        else:
            break
    return owner


def annotation_problems(kb: KnowledgeBase) -> list[str]:
    """Every rule must carry id, cite, source and reads; ids name one rule each."""
    problems: list[str] = []
    rules_per_id: dict[str, int] = {}
    files_per_id: dict[str, str] = {}
    for r in kb.rules:
        for key in REQUIRED_KEYS:
            if not getattr(r, key).strip():
                problems.append(f"{r.file}:{r.line}: annotation block lacks '%! {key}:' for: {r.text}")
        if r.id:
            if r.id in files_per_id and files_per_id[r.id] != r.file:
                problems.append(f"{r.file}:{r.line}: rule id {r.id} is also used in {files_per_id[r.id]}")
            files_per_id.setdefault(r.id, r.file)
            if not r.is_fact:
                rules_per_id[r.id] = rules_per_id.get(r.id, 0) + 1
    for rid, n in rules_per_id.items():
        if n > 1:
            problems.append(f"rule id {rid} covers {n} rules with bodies: give each rule its own %! block")
    return problems
