"""`exportkb lint`: static checks of a knowledge base (see :mod:`exportkb.suites.lint`)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command(context_settings=CONTEXT)
@click.option("--kb", "kb_path", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Knowledge base folder to lint (default: the one `exportkb --kb` names, else the shipped kb/).")
@click.option("--json", "as_json", is_flag=True, help="Print the problems as a JSON list.")
@click.option("--no-fragment", is_flag=True, help="Skip the pyDatalog fragment check (it translates the whole KB).")
@click.pass_context
def lint(ctx: click.Context, kb_path: Path | None, as_json: bool, no_fragment: bool) -> None:
    """Check the knowledge base: annotations, undefined and unused predicates, stratification,
    recursion, parameters, country codes, templates and the pyDatalog fragment.

    Exit 0 when clean, 1 when a problem is found, 2 when the KB cannot be read.
    """
    from .common import get_kb
    from ..kb import KnowledgeBase
    from ..suites.lint import lint as run_lint

    kb = KnowledgeBase.load(kb_path) if kb_path else get_kb(ctx)
    problems = run_lint(kb, with_fragment=not no_fragment)
    if as_json:
        click.echo(json.dumps([{"check": p.check, "where": p.where, "message": p.message} for p in problems],
                              indent=2, ensure_ascii=False))
    else:
        for p in problems:
            click.echo(str(p))
        click.echo(f"{kb.root}: {len(problems)} problem(s) in {len(kb.files)} file(s), {len(kb.rules)} statements",
                   err=True)
    sys.exit(1 if problems else 0)
