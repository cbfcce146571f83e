"""The knowledge base: the `.lp` files of `kb/` parsed once with their annotations and templates, and the reforms that change it.

``KnowledgeBase.load()`` reads the shipped rules (in a wheel: ``exportkb/kb/rules/``; in
a checkout: the repository's `kb/`); :mod:`exportkb.kb.reforms` derives altered KBs
(what-if overlays, parameter overrides). This package depends only on
:mod:`exportkb.errors` and on :mod:`exportkb.case` (the YAML reader of reform files);
see docs/architecture.md.
"""
from __future__ import annotations

from .knowledge import (REQUIRED_KEYS, TEMPLATE_FILTERS, TEMPLATE_PLACEHOLDER_RE, KnowledgeBase, Rule, Template,
                        annotation_problems, default_kb_path, head_signature, python_value)

__all__ = ["REQUIRED_KEYS", "TEMPLATE_FILTERS", "TEMPLATE_PLACEHOLDER_RE", "KnowledgeBase", "Rule", "Template",
           "annotation_problems", "default_kb_path", "head_signature", "python_value"]
