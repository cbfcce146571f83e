"""The `exportkb` command group and its core commands (check, validate, kb, schema): a thin shell over the library API.

Exit codes: 0 done; 1 a determination differs from the case's `expect:`;
2 bad input (a message naming file, field and fix — never a traceback).
"""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import click

from ..budget import budgeted, memory_limit_option, time_limit_option
from ..errors import ExportKBError
from ..solve.solver import SolveOptions, Solver
from ..suites.expect import compare
from .common import CONTEXT, get_kb, list_option, load_cases, ready_cases


#: Subcommands defined in their own modules of exportkb.cli, imported only when named (or listed by --help):
#: `exportkb batch` then does not pay for rich tables, pandas, the test runner ... at start-up.
_LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "batch": ("batch", "batch"),
    "counterfactual": ("whatchange", "counterfactual"),
    "explain-html": ("whatchange", "explain_html"),
    "explain": ("explain", "explain"),
    "verify": ("explain", "verify"),
    "verify-batch": ("verify_batch", "verify_batch"),
    "lint": ("lint", "lint"),
    "whatif": ("whatif", "whatif"),
    "compare": ("whatif", "compare"),
    "query": ("whatif", "query"),
    "test": ("test", "test"),
    "serve": ("serve", "serve"),
    "screen": ("screen", "screen"),
}


class _Group(click.Group):
    """Turns every ExportKBError into one message and exit code 2; imports subcommands on demand."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in _LAZY_COMMANDS:
            module, attr = _LAZY_COMMANDS[name]
            self.add_command(getattr(importlib.import_module(f".{module}", __package__), attr), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        from ..escape import lines
        try:
            return super().invoke(ctx)
        except ExportKBError as exc:  # messages quote case data: no terminal sequence may reach stderr
            click.echo(f"error: {lines(exc)}", err=True)
            sys.exit(2)
        except MemoryError:  # outside a command's own budget (exportkb.budget): still a message, not a traceback
            click.echo("error: out of memory (fix: give a smaller case, or raise the limit with --memory-limit MB)",
                       err=True)
            sys.exit(2)


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``--version``: reads the package metadata only when asked (it costs ~0.1 s of start-up)."""
    if not value or ctx.resilient_parsing:
        return
    from ..version import package_version

    click.echo(f"exportkb, version {package_version()}")
    ctx.exit()


@click.group(cls=_Group, context_settings=CONTEXT)
@click.option("-V", "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
              help="Show the version and exit.")
@click.option("--kb", "kb_path", type=click.Path(file_okay=False, path_type=Path), envvar="EXPORTKB_KB",
              help="Knowledge base folder (default: the shipped kb/). Env: EXPORTKB_KB.")
@click.pass_context
def main(ctx: click.Context, kb_path: Path | None) -> None:
    """Export controls on advanced AI (the January 2025 AI Diffusion rule) as rules-as-code.

    Determine whether a transaction needs a license, which license exception is
    available, whether a presumption of denial applies and which red flags are
    raised — each answer traceable to the 15 CFR provision it comes from.

    \b
    Examples:
      exportkb check examples/de-cloud-provider.yaml
      exportkb check examples/*.yaml --json
      exportkb validate my-cases/
      exportkb kb            # the provisions encoded, with citations
    """
    ctx.obj = {"kb_path": kb_path}


@main.command(context_settings=CONTEXT)
@click.argument("cases", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object per case (a list when several).")
@list_option()
@time_limit_option(60.0, help="Seconds of solving allowed per chunk of cases.")
@memory_limit_option()
@click.pass_context
@budgeted("check", whole_command_time=False)
def check(ctx: click.Context, cases: tuple[str, ...], as_json: bool, list_path: Path | None, time_limit: float) -> None:
    """Determine CASES (files or folders) and compare with their `expect:` blocks.

    Exit 1 if any determination differs from what the case expects.
    """
    kb = get_kb(ctx)
    readied = ready_cases(kb, cases, list_path)
    loaded = [r.case for r in readied]
    failed = False
    out = []
    from rich.console import Console

    from .render import print_determination
    console = Console()
    dets: list = [None] * len(readied)
    groups: dict[tuple[str, ...], list[int]] = {}  # cases under the same law share one grounding
    for i, r in enumerate(readied):
        groups.setdefault(r.reforms, []).append(i)
    for idx in groups.values():
        solver = Solver(readied[idx[0]].kb, SolveOptions(time_limit=time_limit))
        for i, det in zip(idx, solver.determine_many([loaded[i] for i in idx])):
            dets[i] = det
    for case, det, r in zip(loaded, dets, readied):
        mism = compare(case.expect, det) if case.expect else None
        failed |= bool(mism)
        if as_json:
            js = det.to_json()
            if mism is not None:
                js["expect_mismatches"] = [str(m) for m in mism]
            out.append(js)
        else:
            print_determination(console, det, mism, kb=r.kb)
    if as_json:
        click.echo(json.dumps(out[0] if len(out) == 1 else out, indent=2, ensure_ascii=False))
    sys.exit(1 if failed else 0)


@main.command(context_settings=CONTEXT)
@click.argument("cases", nargs=-1, required=True)
@click.pass_context
def validate(ctx: click.Context, cases: tuple[str, ...]) -> None:
    """Check CASES (files or folders) against the case format without solving."""
    kb = get_kb(ctx)
    loaded = ready_cases(kb, cases)  # as every command reads them: a reform combination that cannot apply is invalid too
    click.echo(f"{len(loaded)} case file(s) valid")


@main.command("kb", context_settings=CONTEXT)
@click.option("--path", "show_path", is_flag=True, help="Print where the knowledge base is, and stop.")
@click.option("--json", "as_json", is_flag=True, help="Print the provisions as JSON.")
@click.pass_context
def kb_cmd(ctx: click.Context, show_path: bool, as_json: bool) -> None:
    """List the provisions encoded in the knowledge base, with their citations."""
    kb = get_kb(ctx)
    if show_path:
        click.echo(str(kb.root))
        return
    seen: dict[str, dict] = {}
    for r in kb.rules:
        entry = seen.setdefault(r.id, {"id": r.id, "cite": r.cite, "reads": r.reads, "file": r.file,
                                       "line": r.line, "source": r.source})
        entry.setdefault("statements", 0)
        entry["statements"] += 1
    if as_json:
        click.echo(json.dumps({"kb_version": kb.version, "root": str(kb.root), "provisions": list(seen.values())}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table
    title = f"exportkb knowledge base {kb.version} — {len(seen)} provisions in {len(kb.files)} files"
    console = Console()
    if not console.is_terminal:  # piped: one line per provision, never wrapped (cli.render.plain_table)
        from .render import plain_table
        rows = [[e["id"], e["cite"], e["reads"], f"{e['file']}:{e['line']}"] for e in seen.values()]
        click.echo(title + "\n" + plain_table(("id", "citation", "reads", "where"), rows))
        return
    table = Table(title=title)
    for col in ("id", "citation", "reads", "where"):
        table.add_column(col, overflow="fold")
    for e in seen.values():
        table.add_row(e["id"], e["cite"], e["reads"], f"{e['file']}:{e['line']}")
    console.print(table)


@main.command(context_settings=CONTEXT)
@click.pass_context
def schema(ctx: click.Context) -> None:
    """Print the JSON Schema of the case format (generated from the models, with the KB's vocabularies)."""
    from ..case.schema import case_schema
    click.echo(json.dumps(case_schema(get_kb(ctx)), indent=2))


# Subcommands defined in their own modules are registered lazily: see _LAZY_COMMANDS above.


if __name__ == "__main__":  # pragma: no cover
    main()
