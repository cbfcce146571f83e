"""Deprecated: ``exportkb.solver`` moved to :mod:`exportkb.solve.solver` and :mod:`exportkb.solve.atoms`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.solver", "exportkb.solve.solver", "exportkb.solve.atoms")
