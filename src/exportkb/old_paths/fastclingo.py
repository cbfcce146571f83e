"""Deprecated: ``exportkb.fastclingo`` moved to :mod:`exportkb.solve.fastclingo`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.fastclingo", "exportkb.solve.fastclingo")
