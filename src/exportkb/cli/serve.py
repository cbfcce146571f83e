"""`exportkb serve`: the HTTP API and web pages (exportkb.server) on a local port."""
from __future__ import annotations

from pathlib import Path

import click

from ..errors import ExportKBError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command(context_settings=CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind. The default answers this machine only; another host exposes the server.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option("--time-limit", type=click.FloatRange(min=0.1, max=600), default=10.0, show_default=True,
              help="Seconds of solving and proof building allowed per request.")
@click.option("--max-body", "max_body", type=click.IntRange(1024, 5 * 1024 * 1024), default=1024 * 1024,
              show_default=True, help="Largest request body, in bytes.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes (each parses the KB once); one per core serves the most requests.")
@click.option("--list", "list_file", default=None, metavar="FILE", envvar="EXPORTKB_LIST",
              help="The restricted-party list POST /api/screen screens against (as `exportkb screen --list`); "
                   "default $EXPORTKB_LIST; without it /api/screen answers 422.")
@click.option("--cases", "cases_dir", default=None, metavar="DIR",
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Regression cases the provision pages list as exercising each rule; default the checkout's "
                   "tests/cases beside the KB (an installed wheel ships none).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, time_limit: float, max_body: int, workers: int,
          list_file: str | None, cases_dir: Path | None) -> None:
    """Serve the JSON API (/api/...) and the web page (/) for browsers.

    \b
    Examples:
      exportkb serve                 # http://127.0.0.1:8000/
      exportkb serve --port 8080
      exportkb serve --cases tests/cases   # provision pages list the regression cases
    """
    try:
        import uvicorn

        from ..server.app import create_app
    except ImportError:
        raise ExportKBError("the server needs its extra (fix: pip install 'exportkb[server]')") from None
    from ..server.service import ServerOptions
    from .common import get_kb

    # Parsed here even when worker processes parse their own: a broken kb/ is then one clear error
    # (file, line, fix), not a traceback from every worker as it starts.
    kb = get_kb(ctx)
    click.echo(f"exportkb: serving http://{host}:{port}/ (API docs at /api/docs; Ctrl-C stops)", err=True)
    if workers > 1:  # each worker process builds the app from the settings handed down in the environment
        import os
        kb_path = ctx.find_root().obj.get("kb_path")
        if kb_path:
            os.environ["EXPORTKB_KB"] = str(kb_path)
        os.environ["EXPORTKB_SERVE_TIME_LIMIT"] = repr(time_limit)
        os.environ["EXPORTKB_SERVE_MAX_BODY"] = str(max_body)
        if list_file:
            os.environ["EXPORTKB_LIST"] = str(list_file)
        if cases_dir:
            os.environ["EXPORTKB_SERVE_CASES"] = str(cases_dir)
        from ..server.workers import APP_FACTORY, WorkerSettings, reuse_port_available, serve_workers
        if reuse_port_available():  # one socket per worker: the kernel balances connections (server/workers.py)
            try:
                status = serve_workers(WorkerSettings(host, port), workers, echo=lambda m: click.echo(m, err=True))
            except OSError as e:
                raise ExportKBError(f"cannot listen on {host}:{port}: {e.strerror or e} "
                                    "(fix: choose another --port, or stop the program using it)") from None
            ctx.exit(status)
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=workers,
                    log_level="warning", server_header=False)
        return
    from ..server.app import warm
    warm(kb)
    app = create_app(kb, ServerOptions(max_body_bytes=max_body, time_limit=time_limit,
                                                   screening_list=Path(list_file) if list_file else None,
                                                   cases_dir=cases_dir))
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
