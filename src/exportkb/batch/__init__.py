"""Batches: transaction logs (JSONL, CSV, a folder of case files) determined in chunks by worker processes, one result line per row.

Above :mod:`exportkb.explain` because a batch can attach proofs to its rows and compare
each with its `expect:` block (:mod:`exportkb.suites.expect`); the chunked grounding
itself is the solver's (:func:`exportkb.solve.chunked`). A distributed backend
belongs here, next to the process pool of :mod:`.engine`. See docs/batch.md.
"""
from __future__ import annotations

from .engine import (CSV_COLUMNS, CSV_OUT_COLUMNS, DEFAULT_CHUNK, DEFAULT_CHUNK_PARALLEL, Result, Row, Summary, Writer,
                     csv_row_to_case, csv_rows, read_rows, result_text, run_batch, solve_rows)

__all__ = ["CSV_COLUMNS", "CSV_OUT_COLUMNS", "DEFAULT_CHUNK", "DEFAULT_CHUNK_PARALLEL", "Result", "Row", "Summary",
           "Writer", "csv_row_to_case", "csv_rows", "read_rows", "result_text", "run_batch", "solve_rows"]
