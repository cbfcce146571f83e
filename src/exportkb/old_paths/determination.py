"""Deprecated: ``exportkb.determination`` moved to :mod:`exportkb.solve.determination`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.determination", "exportkb.solve.determination")
