"""Deprecated: ``exportkb.expect`` moved to :mod:`exportkb.case.expect` and :mod:`exportkb.suites.expect`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.expect", "exportkb.case.expect", "exportkb.suites.expect")
