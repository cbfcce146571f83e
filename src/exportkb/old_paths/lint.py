"""Deprecated: ``exportkb.lint`` moved to :mod:`exportkb.suites.lint`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.lint", "exportkb.suites.lint")
