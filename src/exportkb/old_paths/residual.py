"""Deprecated: ``exportkb.residual`` moved to :mod:`exportkb.solve.residual`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.residual", "exportkb.solve.residual")
