"""Renderings of a Proof: text, markdown, json, mermaid, dot.

The graph is a DAG (a shared sub-proof is one node); text and markdown draw it
as a tree and print a repeated sub-proof once, then refer back to it ("see
above"). Statements come from the KB's templates; the few connective words
below are the only prose in this module.

Every string that can carry case data (sentences, goal, case id, field paths,
file names) is escaped for its target through :mod:`exportkb.escape`: a hostile
id cannot add a line to a text proof, send a terminal sequence, or put HTML or
a link into Markdown or mermaid.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterator, Protocol

from .. import escape
from .plain import atom_constants, plain


class Proof(Protocol):
    """What a renderer reads of a proof (:class:`exportkb.explain.proof.Proof` has it).

    Why a protocol and not an import: ``Proof.render`` calls this module, so the dependency points one
    way only (proof -> render); the renderers need nothing of the proof but these members."""

    kind: str
    goal: str
    case_id: str
    case_date: str
    kb_version: str
    root: str
    depth: int | None

    def node(self, nid: str) -> dict[str, Any]: ...

    def children(self, nid: str) -> list[str]: ...

    def walk(self) -> Iterator[str]: ...

    def to_json(self) -> dict[str, Any]: ...

# Connectives, by node kind and truth. {s} = the node's statement, {v} = its value.
PHRASES = {
    ("derived", True): "{s}",
    ("case_fact", True): "{s}",
    ("kb_fact", True): "{s}",
    ("absent", False): "it is not the case that {s}",
    ("not_derived", False): "it is not the case that {s}",
    ("attempt", False): "this rule does not apply: {s}",
    ("negation_fails", False): "blocked, because {s}",
    ("comparison", True): "{v} holds",
    ("comparison", False): "{v} fails",
    ("aggregate", True): "{v} holds",
    ("aggregate", False): "{v} fails",
}
PATTERN_PHRASE = "there is nothing such that {s}"
REASONS = {
    "not_stated": "the case file does not state it",
    "not_in_kb": "the knowledge base's data does not list it",
    "no_rule": "no rule of the knowledge base concludes it",
    "depth": "not expanded further (depth limit)",
    "not_expanded": "justified by its absence from the answer set",
    "cycle": "already being examined above",
    "no_match": "no rule of the knowledge base can conclude this instance",
}
MARK = {True: "✔", False: "✘"}
#: A condition met because something is absent (``not p`` in a why-proof): neither ✔ nor ✘.
NEUTRAL = "○"
NEGATION_PHRASE = "there is no finding that {s}"
LEGEND = ("✔ holds · ✘ does not hold / the rule does not apply · "
          "○ there is no such fact or finding (a condition met by its absence)")


def constants(proof: Proof) -> frozenset[str]:
    """The KB constants of the proof's atoms (case data are strings, so none is a user's id)."""
    out: set[str] = set()
    for nid in proof.graph.nodes:
        out |= atom_constants(str(proof.node(nid).get("atom", "")))
    return frozenset(out)


def is_met_negation(proof: Proof, nid: str) -> bool:
    """A step of a why-proof that holds because an atom is absent (it justifies ``not p``)."""
    n = proof.node(nid)
    return proof.kind == "why" and n["kind"] in ("absent", "not_derived") and not n.get("holds")


def mark(proof: Proof, nid: str) -> str:
    """The step's mark: ✔ holds, ✘ fails (or a rule that did not apply), ○ a negation that is met."""
    n = proof.node(nid)
    if n["kind"] == "attempt":
        return MARK[False]
    if is_met_negation(proof, nid):
        return NEUTRAL
    return MARK[bool(n.get("holds"))]


def readable(proof: Proof, nid: str, consts: frozenset[str] | None = None) -> str:
    """The step's sentence as a lawyer reads it (:func:`exportkb.explain.plain.plain`), unescaped."""
    n = proof.node(nid)
    if is_met_negation(proof, nid) and not n.get("pattern"):
        s = NEGATION_PHRASE.format(s=n.get("statement") or n.get("display", ""))
    else:
        s = sentence(proof, nid)
    return plain(s, constants(proof) if consts is None else consts)


def summary_line(proof: Proof) -> str:
    """One line for a summary before the trees: the goal's sentence and whether it holds."""
    return f"{mark(proof, proof.root)} {readable(proof, proof.root)}"


def render_summary(proofs: list[Proof], fmt: str = "text") -> str:
    """The conclusions of several proofs, one line each, printed before their trees."""
    if fmt == "markdown":
        return "### Summary\n\n" + "".join(f"- {escape.markdown(summary_line(p))}\n" for p in proofs) + "\n"
    return "SUMMARY\n" + "".join(f"  {escape.text(summary_line(p))}\n" for p in proofs)


def sentence(proof: Proof, nid: str) -> str:
    n = proof.node(nid)
    kind, holds = n["kind"], bool(n.get("holds"))
    if kind == "attempt":
        s = n["rule"].get("reads") or n.get("display", "")
    else:
        s = n.get("statement") or n.get("display", "")
    if kind == "not_derived" and n.get("pattern"):
        return PATTERN_PHRASE.format(s=s)
    return PHRASES.get((kind, holds), "{s}").format(s=s, v=n.get("value", ""))


def _same(s: object) -> str:
    return s if isinstance(s, str) else str(s)


def provenance(proof: Proof, nid: str, esc: Callable[[object], str] = _same) -> str:
    """Where a step comes from (rule and citation, case field and file:line); each piece through *esc*."""
    n = proof.node(nid)
    bits = []
    r = n.get("rule")
    if r and r.get("id"):
        bits.append(f"[{esc(r['id'])}] {esc(r['cite'])} — {esc(r['file'])}:{esc(r['line'])}")
    f = n.get("field")
    lst = n.get("list")
    if lst:  # a hit the screener found: the list file and its version, not the case field it was added to
        bits.append(f"screening list {esc(lst['file'])} (SHA-256 {esc(lst['version'])}), entry {esc(lst['entry'])}")
    elif f:
        where = esc(f["file"]) + (f":{esc(f['line'])}" if f.get("line") else "")
        bits.append(f"case field {esc(f['path'])}" + ("" if f.get("stated", True) else " (default)") + f" — {where}")
    reason = n.get("reason")
    if reason:
        bits.append(esc(REASONS.get(reason, reason)))
    return "; ".join(bits)


def header(proof: Proof, esc: Callable[[object], str] = _same) -> str:
    """The proof's first line; goal, case id, date and KB version through *esc*."""
    what = "WHY" if proof.kind == "why" else "WHY NOT"
    return (f"{what} {esc(proof.goal)} — case {esc(proof.case_id)} ({esc(proof.case_date)}), "
            f"KB {esc(proof.kb_version)}" + (f", depth {proof.depth}" if proof.depth is not None else ""))


def _tree(proof: Proof, line: Callable[[int, str, bool], str], depth: int | None) -> list[str]:
    out: list[str] = []
    shown: set[str] = set()

    def visit(nid: str, level: int) -> None:
        again = nid in shown
        out.append(line(level, nid, again))
        if again:
            return
        shown.add(nid)
        if depth is not None and level >= depth:
            if proof.children(nid):
                out.append(line(level + 1, "", False))
            return
        for c in proof.children(nid):
            visit(c, level + 1)

    visit(proof.root, 0)
    return out


def _lines(proof: Proof, depth: int | None, bullet: str, again: str, prov: str, bare: str,
           esc: Callable[[object], str]) -> list[str]:
    """The proof tree as indented lines; the formats differ in bullet, annotations and escaping."""
    consts = constants(proof)

    def line(level: int, nid: str, seen: bool) -> str:
        pad = "  " * level + bullet
        if not nid:
            return f"{pad}…"
        text = f"{pad}{mark(proof, nid)} {esc(readable(proof, nid, consts))}"
        if seen:
            return text + again.format(nid=nid)
        p = provenance(proof, nid, esc)
        return text + (prov.format(pad="  " * level, nid=nid, prov=p) if p else bare.format(pad="  " * level, nid=nid))
    return _tree(proof, line, depth)


def render_text(proof: Proof, depth: int | None = None) -> str:
    lines = _lines(proof, depth, "", "  (see {nid} above)", "\n{pad}    {nid}: {prov}", "\n{pad}    {nid}",
                   escape.text)
    return header(proof, escape.text) + "\n" + f"({LEGEND})\n" + "\n".join(lines) + "\n"


def render_markdown(proof: Proof, depth: int | None = None) -> str:
    lines = _lines(proof, depth, "- ", " *(see {nid} above)*", " <sub>{nid}: {prov}</sub>", " <sub>{nid}</sub>",
                   escape.markdown)
    return f"### {header(proof, escape.markdown)}\n\n*{LEGEND}*\n\n" + "\n".join(lines) + "\n"


def _label(proof: Proof, nid: str, esc: Callable[[object], str], newline: str) -> str:
    """A graph node's label: mark, sentence and rule id escaped by *esc*, joined by the target's *newline*."""
    n = proof.node(nid)
    r = n.get("rule")
    tail = f"{newline}[{esc(r['id'])}]" if r and r.get("id") else ""
    return f"{mark(proof, nid)} {esc(readable(proof, nid))}{tail}"


def _nodes_within(proof: Proof, depth: int | None) -> list[str]:
    if depth is None:
        return list(proof.walk())
    keep, frontier = [proof.root], [proof.root]
    for _ in range(depth):
        nxt = []
        for n in frontier:
            for c in proof.children(n):
                if c not in keep:
                    keep.append(c)
                    nxt.append(c)
        frontier = nxt
    return keep


def render_mermaid(proof: Proof, depth: int | None = None) -> str:
    nodes = _nodes_within(proof, depth)
    keep = set(nodes)
    lines = ["flowchart TD"]
    for n in nodes:
        label = _label(proof, n, escape.mermaid, "<br/>")
        lines.append(f'  {n}["{label}"]')
    for n in nodes:
        for c in proof.children(n):
            if c in keep:
                lines.append(f"  {n} --> {c}")
    return "\n".join(lines) + "\n"


def render_dot(proof: Proof, depth: int | None = None) -> str:
    nodes = _nodes_within(proof, depth)
    keep = set(nodes)
    lines = ["digraph proof {", "  rankdir=TB;", '  node [shape=box, fontname="Helvetica"];']
    for n in nodes:
        label = _label(proof, n, escape.dot, "\\n")
        color = "darkgreen" if proof.node(n).get("holds") else "firebrick"
        lines.append(f'  {n} [label="{label}", color={color}];')
    for n in nodes:
        for c in proof.children(n):
            if c in keep:
                lines.append(f"  {n} -> {c};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_json(proof: Proof, depth: int | None = None) -> str:
    return json.dumps(proof.to_json(), indent=2, ensure_ascii=False) + "\n"


RENDERERS = {"text": render_text, "markdown": render_markdown, "json": render_json,
             "mermaid": render_mermaid, "dot": render_dot}


def render(proof: Proof, fmt: str = "text", depth: int | None = None) -> str:
    try:
        return RENDERERS[fmt](proof, depth)
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(RENDERERS)}") from None
