"""What validating a case needs to know of the knowledge base: its vocabulary, as a protocol.

Why a protocol and not :class:`exportkb.kb.KnowledgeBase`: the case layer sits below the
KB layer (the KB's reform files are read with this package's YAML reader), so it may not
import it; any object with these three members validates a case —
:class:`~exportkb.kb.KnowledgeBase` is the one the library passes.
"""
from __future__ import annotations

from typing import Protocol


class Vocabulary(Protocol):
    """The KB's enumerations a case file's values are checked against (and the JSON Schema lists)."""

    @property
    def countries(self) -> dict[str, str]:
        """ISO 3166-1 alpha-2 code → country name."""
        ...

    @property
    def eccns(self) -> dict[str, tuple[str, str]]:
        """ECCN → (level, family) of the ECCNs the KB covers."""
        ...

    def values(self, name: str) -> list[str]:
        """The allowed values of an enumerated vocabulary predicate (``end_use_value`` ...)."""
        ...
