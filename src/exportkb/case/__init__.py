"""The case: its data model, reading YAML/JSON files and batch rows into a validated :class:`Case`, the `expect:` language, the JSON Schema, and the facts clingo receives.

First stage of the pipeline (docs/architecture.md): a file or a row becomes a
:class:`Case` here, checked against the KB's vocabulary (a :class:`Vocabulary`,
never the KB class itself), and :func:`case_facts` turns it into clingo symbols.
Depends on nothing of ours but :mod:`exportkb.errors`.
"""
from __future__ import annotations

from .facts import case_facts, emit_facts
from .loader import CASE_SUFFIXES, case_from_data, iter_case_paths, load_case, parse_yaml, read_document
from .parties import ListHit
from .model import CASE_FORMAT_VERSION, CASE_KEY_RE, Case, Item, Knowledge, Party, Usage, case_keys
from .vocabulary import Vocabulary

__all__ = ["CASE_FORMAT_VERSION", "CASE_KEY_RE", "CASE_SUFFIXES", "Case", "Item", "Knowledge", "ListHit", "Party", "Usage",
           "Vocabulary", "case_facts", "case_from_data", "case_keys", "emit_facts", "iter_case_paths", "load_case",
           "parse_yaml", "read_document"]
