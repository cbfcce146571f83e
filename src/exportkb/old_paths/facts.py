"""Deprecated: ``exportkb.facts`` moved to :mod:`exportkb.case.facts`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.facts", "exportkb.case.facts")
