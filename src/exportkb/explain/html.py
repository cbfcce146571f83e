"""A proof as one self-contained HTML page: a collapsible tree a lawyer can read offline.

Why a page of its own: a proof of a determination runs to dozens of steps; in
a browser each step folds (``<details>``/``<summary>``), every rule shows its
citation linked to the eCFR section it encodes, and every fact taken from the
case file is highlighted with its ``file:line``. The page loads nothing from
the network (inline CSS, a few lines of inline JS for "expand all"), so it can
be archived with the case file. Sentences come from the same functions as the
text rendering (:mod:`exportkb.explain.render`); this module only lays them out.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

from .. import escape
from .proof import Proof
from .render import MARK, NEUTRAL, REASONS, constants, header, is_met_negation, mark as step_mark, readable, summary_line

ECFR_SECTION = "https://www.ecfr.gov/current/title-15/section-{part}.{section}"
ECFR_SUPPLEMENT = "https://www.ecfr.gov/current/title-15/part-{part}/appendix-Supplement%20No.%20{n}%20to%20Part%20{part}"
ECFR_PART = "https://www.ecfr.gov/current/title-15/part-{part}"
FR_CITATION = "https://www.federalregister.gov/citation/{volume}-FR-{page}"

# Citation patterns, most specific first. Sections are EAR parts 730-774 (title 15).
_CITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?:15 CFR\s+)?(?:part\s+)?(?P<part>7[3-7]\d)\s+Supp(?:lement)?\.?\s+No\.?\s*(?P<n>\d+)"), "supp"),
    (re.compile(r"Supp(?:lement)?\.?\s+No\.?\s*(?P<n>\d+)\s+to\s+(?:15 CFR\s+)?part\s+(?P<part>7[3-7]\d)"), "supp"),
    (re.compile(r"(?:15 CFR\s+)?(?<![\d.])(?P<part>7[3-7]\d)\.(?P<section>\d{1,3})(?![\d])(?:\([0-9a-zA-Z]+\))*"), "section"),
    (re.compile(r"(?:15 CFR\s+)?part\s+(?P<part>7[3-7]\d)(?![\d.])"), "part"),
    (re.compile(r"(?P<volume>\d{2,3}) FR (?P<page>\d{3,6})"), "fr"),
]


def cite_links(text: str) -> str:
    """Escaped *text* with each 15 CFR section, supplement, part and FR citation turned into a link.

    ``15 CFR 740.27(a)`` -> https://www.ecfr.gov/current/title-15/section-740.27;
    ``15 CFR 740 Supp. No. 5`` -> the supplement's appendix page; ``90 FR 4544``
    -> the Federal Register citation page. Unrecognised text stays plain.
    """
    spans: list[tuple[int, int, str]] = []
    for rx, kind in _CITES:
        for m in rx.finditer(text):
            if any(m.start() < e and s < m.end() for s, e, _ in spans):
                continue
            g = m.groupdict()
            if kind == "supp":
                url = ECFR_SUPPLEMENT.format(part=g["part"], n=g["n"])
            elif kind == "section":
                url = ECFR_SECTION.format(part=g["part"], section=g["section"])
            elif kind == "part":
                url = ECFR_PART.format(part=g["part"])
            else:
                url = FR_CITATION.format(volume=g["volume"], page=g["page"])
            spans.append((m.start(), m.end(), url))
    out, pos = [], 0
    for s, e, url in sorted(spans):
        out.append(escape.html(text[pos:s]))
        out.append(f'<a class="cite" href="{escape.html(url)}">{escape.html(text[s:e])}</a>')
        pos = e
    out.append(escape.html(text[pos:]))
    return "".join(out)


def _node_html(proof: Proof, nid: str, level: int, shown: set[str], open_levels: int,
               changed: Mapping[str, str], consts: frozenset[str] = frozenset()) -> str:
    n = proof.node(nid)
    kind = n["kind"]
    holds = bool(n.get("holds")) and kind != "attempt"
    anchor = f"{_slug(proof)}-{nid}"
    css = ["node", kind, "neutral" if is_met_negation(proof, nid) else "holds" if holds else "fails"]
    mark = step_mark(proof, nid)
    text = escape.html(readable(proof, nid, consts))
    if nid in shown:
        return (f'<div class="{" ".join(css)} again"><span class="mark">{mark}</span> {text} '
                f'<a class="see" href="#{anchor}">(shown above)</a></div>')
    shown.add(nid)
    meta = []
    rule = n.get("rule")
    if rule and rule.get("id"):
        meta.append(f'<span class="rule">[{escape.html(rule["id"])}]</span> '
                    f'<span class="citation">{cite_links(rule.get("cite", ""))}</span> '
                    f'<span class="where">kb/{escape.html(rule.get("file", ""))}:{escape.html(rule.get("line", ""))}</span>')
    field = n.get("field")
    lst = n.get("list")
    if lst:
        meta.append(f'<span class="field">screening list <code>{escape.html(lst.get("file", ""))}</code> '
                    f'(SHA-256 <code>{escape.html(lst.get("version", ""))}</code>), entry '
                    f'<code>{escape.html(lst.get("entry", ""))}</code></span>')
    elif field:
        where = field.get("file", "") + (f":{field['line']}" if field.get("line") else "")
        default = "" if field.get("stated", True) else " (not stated: default)"
        meta.append(f'<span class="field">case field <code>{escape.html(field.get("path", ""))}</code>'
                    f'{default} — <code>{escape.html(where)}</code></span>')
        if field.get("path") in changed:
            css.append("changed")
            meta.append(f'<span class="changed-note">changed: {escape.html(changed[field["path"]])}</span>')
    if n.get("reason"):
        meta.append(f'<span class="reason">{escape.html(REASONS.get(n["reason"], n["reason"]))}</span>')
    meta_html = f'<div class="meta">{" · ".join(meta)}</div>' if meta else ""
    head = f'<span class="mark">{mark}</span> <span class="stmt">{text}</span>{meta_html}'
    kids = proof.children(nid)
    if not kids:
        return f'<div id="{anchor}" class="{" ".join(css)} leaf">{head}</div>'
    inner = "".join(f"<li>{_node_html(proof, c, level + 1, shown, open_levels, changed, consts)}</li>" for c in kids)
    is_open = " open" if level < open_levels else ""
    return (f'<details id="{anchor}" class="{" ".join(css)}"{is_open}><summary>{head}</summary>'
            f'<ul>{inner}</ul></details>')


def _slug(proof: Proof) -> str:
    return "p" + re.sub(r"[^A-Za-z0-9]+", "-", proof.goal).strip("-")


def proof_section(proof: Proof, open_levels: int = 6, changed: Mapping[str, str] | None = None) -> str:
    """One proof as an HTML ``<section>`` (no page around it).

    *changed* maps case field paths to a note (``IN -> AU``): a counterfactual's
    changes, marked where the proof rests on them.
    """
    verdict = "holds" if proof.holds else "does not hold"
    tree = _node_html(proof, proof.root, 0, set(), open_levels, changed or {}, constants(proof))
    return (f'<section class="proof" id="{_slug(proof)}"><h2><span class="mark {"holds" if proof.holds else "fails"}">'
            f'{MARK[proof.holds]}</span> {escape.html(proof.goal)} <small>{verdict}</small></h2>'
            f'<p class="sub">{escape.html(header(proof))}</p><ul class="tree"><li>{tree}</li></ul></section>')


CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1d232a;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:14px 28px}header h1{margin:0;font-size:21px}
header p{margin:4px 0 0;opacity:.85}main{padding:8px 28px 40px;max-width:1200px}
.tools{margin:12px 0}.tools button{font:inherit;margin-right:6px;padding:3px 10px;border:1px solid #9aa5b1;border-radius:4px;background:#fff;cursor:pointer}
.legend span{margin-right:14px}.proof{background:#fff;border:1px solid #d9dee4;border-radius:6px;padding:6px 18px 14px;margin:14px 0}
h2{font-size:18px;margin:10px 0 2px}h2 small{font-weight:normal;color:#5b6570}.sub{color:#5b6570;margin:0 0 8px;font-size:13px}
ul{list-style:none;margin:0;padding-left:22px;border-left:1px dotted #c3cad2}ul.tree{padding-left:0;border:0}
li{margin:3px 0}summary{cursor:pointer}summary::marker{color:#7a8794}
.mark{font-weight:bold}.neutral>.mark,.neutral>summary>.mark,.mark.neutral{color:#5b6570}
.summary{background:#fff;border:1px solid #d9dee4;border-radius:6px;padding:8px 18px;margin:14px 0}.summary li{list-style:disc}.holds>.mark,.holds>summary>.mark,.mark.holds{color:#1a7f37}.fails>.mark,.fails>summary>.mark,.mark.fails{color:#c62828}
.meta{font-size:12.5px;color:#5b6570;margin:1px 0 0 18px}.rule{font-family:ui-monospace,Menlo,Consolas,monospace;color:#3d4b5a}
a.cite{color:#0b57d0}.where{font-family:ui-monospace,Menlo,Consolas,monospace;color:#7a8794}
.case_fact>.stmt,.case_fact>summary>.stmt,.case_fact .stmt{background:#fff3bf;padding:0 3px;border-radius:3px}
.field{background:#fff3bf;padding:0 4px;border-radius:3px;color:#5c4a00}.reason{font-style:italic}
.changed-note{background:#e0ecff;color:#0b3d91;padding:0 4px;border-radius:3px;font-weight:600}
.again{color:#5b6570}.see{font-size:12.5px}code{font-size:12.5px}
"""

JS = """
function setAll(open){document.querySelectorAll('details').forEach(function(d){d.open=open;});}
"""


def _page(title: str, sub: str, body: str) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{escape.html(title)}</title>"
            f"<style>{CSS}</style><script>{JS}</script></head><body>"
            f"<header><h1>{escape.html(title)}</h1><p>{sub}</p></header><main>"
            "<div class=\"tools\"><button type=\"button\" onclick=\"setAll(true)\">expand all</button>"
            "<button type=\"button\" onclick=\"setAll(false)\">collapse all</button></div>"
            "<p class=\"legend\"><span><b class=\"mark holds\">✔</b> holds</span>"
            "<span><b class=\"mark fails\">✘</b> does not hold / rule does not apply</span>"
            f"<span><b class=\"mark neutral\">{NEUTRAL}</b> there is no such fact or finding (a condition met by its absence)</span>"
            "<span class=\"field\">highlighted: a fact of the case file, with file:line</span></p>"
            f"{body}</main></body></html>\n")


def summary_html(proofs: Sequence[Proof]) -> str:
    """The conclusions first: one line per proof, each linking to its tree below."""
    rows = "".join(f'<li><a href="#{escape.html(_slug(p))}">{escape.html(summary_line(p))}</a></li>' for p in proofs)
    return f'<section class="summary"><h2>Summary</h2><ul>{rows}</ul></section>'


def _subtitle(proof: Proof | None) -> str:
    if proof is None:
        return ""
    return (f"case {escape.html(proof.case_id)} · {escape.html(proof.case_date)} · "
            f"{escape.html(proof.case_source or 'no file')} · KB {escape.html(proof.kb_version)}")


def render_html(proofs: Proof | Sequence[Proof], title: str | None = None, open_levels: int = 6,
                changed: Mapping[str, str] | None = None) -> str:
    """A complete, self-contained HTML page for one or more proofs of one case."""
    items = [proofs] if isinstance(proofs, Proof) else list(proofs)
    first = items[0] if items else None
    if title is None:
        title = f"Proofs for case {first.case_id}" if first else "Proofs"
    body = "".join(proof_section(p, open_levels, changed) for p in items) or "<p>No determinations to explain.</p>"
    if len(items) > 1:
        body = summary_html(items) + body
    return _page(title, _subtitle(first), body)


def render_counterfactual_html(case_id: str, goal: str, message: str,
                               change_sets: Sequence[tuple[Sequence[str], Proof, Mapping[str, str]]],
                               open_levels: int = 6) -> str:
    """A page for a counterfactual: per change set, its changes, then the proof of the goal on the changed case.

    *change_sets* holds (change descriptions, proof, changed field path -> note);
    the nodes that rest on a changed field are marked.
    """
    parts = [f'<p class="sub">{escape.html(message)}</p>']
    for n, (changes, proof, changed) in enumerate(change_sets, 1):
        items = "".join(f"<li><span class=\"changed-note\">{escape.html(c)}</span></li>" for c in changes)
        parts.append(f'<h2>Change set {n}</h2><ul class="changes">{items}</ul>')
        parts.append(proof_section(proof, open_levels, changed))
    first = change_sets[0][1] if change_sets else None
    return _page(f"What would make {goal} hold — case {case_id}", _subtitle(first), "".join(parts))
