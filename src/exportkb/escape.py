"""Escaping user strings for each output target: terminal text, rich markup, Markdown, mermaid, DOT, HTML.

Why one module: ids and values in a case file may hold any Unicode (the loader
allows it), and they end up inside every rendering — explain text, the check
table, Markdown, mermaid and graphviz sources, HTML pages. A newline in an id
would forge a line of an explanation, an ESC sequence would drive the terminal,
``<script>`` would reach a Markdown viewer. Every renderer escapes through the
function of its target here, so the rule for a target is written once.

The functions leave ordinary text (letters, digits, the punctuation the KB's
sentences use) unchanged, so outputs for plain ids are byte-identical to the
unescaped ones (the goldens in tests/golden check this).
"""
from __future__ import annotations

import html as _html
import re

#: Characters that move the cursor, end a line or reorder text on a terminal: C0 (with TAB),
#: DEL, C1 (0x80-0x9f, with NEL), the line/paragraph separators, bidi embeddings, overrides,
#: isolates and marks, and the BOM / zero-width no-break space.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(m: re.Match[str]) -> str:
    ch = m.group(0)
    named = _NAMED.get(ch)
    if named:
        return named
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def text(value: object) -> str:
    """Plain terminal text: control characters shown as escapes (``\\n``, ``\\x1b``, ``\\u202e``).

    One id is then always one line, and no terminal sequence is ever emitted.
    """
    s = value if isinstance(value, str) else str(value)
    return _CONTROL.sub(_visible, s)


def lines(value: object) -> str:
    """Text that may legitimately span lines (a message of several lines): each line escaped, newlines kept."""
    s = value if isinstance(value, str) else str(value)
    return "\n".join(text(part) for part in s.split("\n"))


def rich(value: object) -> str:
    """Text for a rich table cell or ``Console.print``: :func:`text`, then rich's markup brackets escaped.

    Without it an id such as ``[/]`` is read as markup (and an unbalanced tag is an error),
    ``[link=...]`` makes a hyperlink.
    """
    from rich.markup import escape as markup_escape
    return markup_escape(text(value))


# CommonMark: ``<`` opens a tag or autolink only before a letter, ``/``, ``!`` or ``?``; ``&`` opens an
# entity only before a letter or ``#``. Escaping exactly those keeps ``>=``, ``<=``, ``a & b`` as written.
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_MD_ENTITY = re.compile(r"&(?=[A-Za-z#])")
_MD_PUNCT = re.compile(r"([\\`*\[\]|])")
#: A bracketed index such as ``items[0]`` stays as written: it opens no link unless ``(`` or ``[`` follows.
_MD_INDEX = re.compile(r"(?<!\\)\\\[(\d+)\\\](?![(\[])")


def markdown(value: object) -> str:
    """Inline Markdown text: no HTML tag, entity, link, code span, emphasis or table cell can start in it.

    Backslash, backtick, ``*``, brackets and ``|`` are backslash-escaped; ``<`` before a tag
    name becomes ``&lt;``, ``&`` before an entity name ``&amp;``; control characters as :func:`text`.
    A bracketed index (``items[0]``, a case field path) is kept as written.
    """
    s = _MD_PUNCT.sub(r"\\\1", text(value))
    s = _MD_INDEX.sub(r"[\1]", s)
    s = _MD_ENTITY.sub("&amp;", s)
    return _MD_TAG.sub("&lt;", s)


_MERMAID = {"#": "#35;", '"': "#quot;", "<": "#lt;", ">": "#gt;", "&": "#amp;", "`": "#96;",
            "[": "#91;", "]": "#93;", "{": "#123;", "}": "#125;", "|": "#124;"}
_MERMAID_RE = re.compile("[" + re.escape("".join(_MERMAID)) + "]")


def mermaid(value: object) -> str:
    """Text inside a quoted mermaid label (``id["..."]``): mermaid's entity codes for its
    metacharacters and HTML (``#quot;``, ``#lt;``, ``#35;`` ...), control characters as :func:`text`."""
    return _MERMAID_RE.sub(lambda m: _MERMAID[m.group(0)], text(value))


def dot(value: object) -> str:
    """Text inside a double-quoted graphviz label: backslash and quote escaped, control characters as
    :func:`text` (whose backslashes are then escaped too, so graphviz shows them rather than reading
    ``\\n``, ``\\l`` as line breaks)."""
    return text(value).replace("\\", "\\\\").replace('"', '\\"')


def html(value: object) -> str:
    """HTML text or attribute value: ``&``, ``<``, ``>``, quotes escaped, control characters as :func:`text`
    (a bidi override must not reorder a page a reviewer reads)."""
    return _html.escape(text(value), quote=True)
