"""Deprecated: ``exportkb.queries`` moved to :mod:`exportkb.analysis.queries`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.queries", "exportkb.analysis.queries")
