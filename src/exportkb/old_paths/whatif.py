"""Deprecated: ``exportkb.whatif`` moved to :mod:`exportkb.analysis.whatif`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.whatif", "exportkb.analysis.whatif")
