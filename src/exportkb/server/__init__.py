"""The HTTP server: `exportkb serve` — a JSON API and web pages over the same library paths as the CLI.

:func:`create_app` builds the ASGI application (Starlette, Jinja2 templates, the package's own
CSS and JavaScript, nothing from a CDN); :class:`Service` holds the KB parsed once and answers each
request by the CLI's library calls. Install with ``pip install 'exportkb[server]'``.
"""
from __future__ import annotations

from .service import ServerOptions, Service

__all__ = ["ServerOptions", "Service", "create_app"]


def create_app(*args, **kwargs):  # type: ignore[no-untyped-def]
    """The ASGI application (see :func:`exportkb.server.app.create_app`); imports Starlette on first use."""
    from .app import create_app as make
    return make(*args, **kwargs)
