"""Deprecated: ``exportkb.counterfactual`` moved to :mod:`exportkb.analysis.counterfactual`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.counterfactual", "exportkb.analysis.counterfactual")
