"""Deprecated: ``exportkb.schema`` moved to :mod:`exportkb.case.schema`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.schema", "exportkb.case.schema")
