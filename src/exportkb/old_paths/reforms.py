"""Deprecated: ``exportkb.reforms`` moved to :mod:`exportkb.kb.reforms` and :mod:`exportkb.solve.laws`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.reforms", "exportkb.kb.reforms", "exportkb.solve.laws")
