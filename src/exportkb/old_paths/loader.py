"""Deprecated: ``exportkb.loader`` moved to :mod:`exportkb.case.loader`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.loader", "exportkb.case.loader")
