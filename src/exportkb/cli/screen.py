"""`exportkb screen PARTIES --list FILE`: restricted-party screening, a thin shell over exportkb.screening."""
from __future__ import annotations

import io
import json
import sys
import time

import click

from .common import CONTEXT

CSV_HEADER = ["party", "alert", "rank", "list_id", "source", "name", "score", "matched_on", "kind", "matched_text",
              "federal_register_notice", "license_requirement", "license_policy", "explanation", "list_version"]


@click.command(context_settings=CONTEXT)
@click.argument("parties", nargs=-1, required=True)
@click.option("--list", "list_file", required=True, metavar="FILE",
              help="The Consolidated Screening List as downloaded from trade.gov (consolidated.csv/.tsv/.json), "
                   "or an Entity List in the KB's format (.lp, e.g. kb/parties/entity_list.lp).")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None,
              help="Alert at this score or above (default 0.80, tuned on benchmarks/screening.py's development seed).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "table"]), default="jsonl", show_default=True,
              help="jsonl: one JSON object per party; csv: one row per match (formula-safe); table: for reading.")
@click.option("--summary/--no-summary", default=True, show_default=True, help="Print a summary on stderr.")
def screen(parties: tuple[str, ...], list_file: str, threshold: float | None, fmt: str, summary: bool) -> None:
    """Screen PARTIES against a restricted-party list and explain every match.

    PARTIES are CSV files (header id,name,address,country; more columns ignored), JSONL files
    (objects with those keys), or case files (.yaml/.json: their `parties:`).

    Each party gets one JSON line: {"party", "alert", "matches": [best first, each with
    "list_id", "source", "name", "score", "matched_on", "kind", "explanation", "federal_register_notice",
    "license_requirement", "license_policy"], "list_version": SHA-256 of the list file}. The score is
    the sum of its explanation's points. "kind" is match, potential, address_only, or
    same_building_other_unit (a flag below the threshold, not an alert).

    A match is a lead, not a determination: confirm it against the Federal Register notice or the
    official list before acting (15 CFR 744.11, Supp. No. 4 to part 744). Exit 0 when screened
    (alerts or not), 2 on a bad file.

    \b
    Examples:
      exportkb screen customers.csv --list consolidated.csv
      exportkb screen orders.jsonl --list consolidated.json --format table
      exportkb screen examples/*.yaml --list kb/parties/entity_list.lp
    """
    from ..screening import DEFAULT_THRESHOLD, Screener, load_list, read_parties

    t0 = time.perf_counter()
    queries = read_parties(parties)
    slist = load_list(list_file)
    screener = Screener.build(slist, DEFAULT_THRESHOLD if threshold is None else threshold)
    built = time.perf_counter() - t0
    progress = sys.stderr.isatty() and len(queries) > 200
    results = []
    for n, q in enumerate(queries, 1):
        results.append(screener.screen(q.id, q.name, q.address, q.country, q.aliases))
        if progress and n % 200 == 0:
            click.echo(f"\rscreened {n:,}/{len(queries):,}", err=True, nl=False)
    if progress:
        click.echo("\r" + " " * 40 + "\r", err=True, nl=False)
    out = sys.stdout
    if fmt == "jsonl":
        for r in results:
            out.write(json.dumps(r.to_json(), ensure_ascii=False, separators=(", ", ": ")) + "\n")
    elif fmt == "csv":
        from ..batch.outputs import CsvOut

        buf = io.StringIO()
        w = CsvOut(buf, lineterminator="\n")
        w.writerow(CSV_HEADER)
        for r in results:
            if not r.matches:
                w.writerow([r.party, "false", "", "", "", "", "", "", "", "", "", "", "", "", r.list_version])
            for rank, m in enumerate(r.matches, 1):
                expl = "; ".join(f"{e['op']} {e['query']}|{e['list']} {float(e['points']):+.6f} ({e['how']})"  # type: ignore[arg-type]
                                 for e in m.explanation)
                w.writerow([r.party, "true" if r.alert else "false", rank, m.entry_id, m.source, m.entry_name,
                            f"{m.score:.6f}", m.matched_on, m.kind, m.matched_text, m.federal_register_notice,
                            m.license_requirement, m.license_policy, expl, r.list_version])
        out.write(buf.getvalue())
    else:
        from rich.console import Console
        from rich.table import Table

        from ..escape import rich as esc

        table = Table(title=f"screened against {esc(slist.path)} (sha256 {slist.sha256[:12]}…)")
        for col in ("party", "alert", "score", "kind", "on", "list entry", "FR notice", "why"):
            table.add_column(col)
        for r in results:
            if not r.matches:
                table.add_row(esc(r.party), "no", "", "", "", "", "", "")
            for m in r.matches:
                why = ", ".join(f"{e['op']}:{e['query'] or '-'}/{e['list'] or '-'}" for e in m.explanation
                                if float(e["points"]) > 0)  # type: ignore[arg-type]
                table.add_row(esc(r.party), "ALERT" if r.alert and m.kind != "same_building_other_unit" else "flag",
                              f"{m.score:.3f}", m.kind, m.matched_on, esc(m.entry_name), esc(m.federal_register_notice),
                              esc(why))
        Console(file=out, width=160).print(table)
    if summary:
        alerts = sum(r.alert for r in results)
        flags = sum(1 for r in results for m in r.matches if m.kind == "same_building_other_unit")
        elapsed = time.perf_counter() - t0
        click.echo(f"screened {len(results):,} part{'y' if len(results) == 1 else 'ies'} against {len(slist.entries):,} "
                   f"entries ({len(screener.names):,} names, {len(screener.addresses):,} addresses) of {slist.path} "
                   f"[{slist.format}, sha256 {slist.sha256}]: {alerts:,} alert(s), {flags:,} same-building flag(s), "
                   f"threshold {screener.threshold:.2f}; index {built:.2f} s, total {elapsed:.2f} s", err=True)
