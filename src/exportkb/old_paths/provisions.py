"""Deprecated: ``exportkb.provisions`` moved to :mod:`exportkb.suites.provisions`. See :mod:`exportkb.deprecated`."""
if __name__ == "__main__":  # `python -m exportkb.provisions`: now `python -m exportkb.suites.provisions`
    import runpy
    import warnings

    warnings.warn("python -m exportkb.provisions is deprecated: run python -m exportkb.suites.provisions",
                  DeprecationWarning, stacklevel=1)
    runpy.run_module("exportkb.suites.provisions", run_name="__main__", alter_sys=True)
else:
    from exportkb.deprecated import moved

    __getattr__, __dir__, __all__ = moved("exportkb.provisions", "exportkb.suites.provisions")
