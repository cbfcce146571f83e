"""Deprecated: ``exportkb.provisions`` moved to :mod:`exportkb.suites.provisions`. See :mod:`exportkb.deprecated`."""
from exportkb.deprecated import moved

__getattr__, __dir__, __all__ = moved("exportkb.provisions", "exportkb.suites.provisions")

if __name__ == "__main__":  # `python -m exportkb.provisions` (now `python -m exportkb.suites.provisions`)
    import runpy

    runpy.run_module("exportkb.suites.provisions", run_name="__main__")
