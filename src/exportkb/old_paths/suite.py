"""Deprecated: ``exportkb.suite`` moved to :mod:`exportkb.suites.runner`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.suite", "exportkb.suites.runner")
