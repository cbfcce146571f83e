"""Deprecated: ``exportkb.model`` moved to :mod:`exportkb.case.model`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.model", "exportkb.case.model")
