"""The installed package's version, read from its metadata only when asked."""
from __future__ import annotations


def package_version() -> str:
    """``exportkb``'s version from the installed metadata (~70-100 ms to read: callers ask only when needed);
    ``0.0.0+src`` when running from a source tree that is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("exportkb")
    except PackageNotFoundError:  # running from a source tree
        return "0.0.0+src"
