"""Deprecated: ``exportkb.render`` moved to :mod:`exportkb.cli.render`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.render", "exportkb.cli.render")
