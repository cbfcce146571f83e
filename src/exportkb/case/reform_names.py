"""Reform names: which names a case's ``reform:`` may use (the file stems of the reform folder).

Why in the case layer: validating a case checks its reform names, and reform names resolve only
inside the configured folder (never a path); applying a reform is the KB layer's business
(:mod:`exportkb.kb.reforms`), naming one is part of reading the case."""
from __future__ import annotations

import difflib
import re
from importlib import resources
from pathlib import Path
from typing import Any


def default_queries_path() -> Path:
    """Where the shipped queries/ folder is (repository checkout or package data)."""
    packaged = Path(str(resources.files("exportkb"))) / "queries"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "queries"


def default_reforms_path() -> Path:
    return default_queries_path() / "reforms"


REFORM_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
REFORM_SUFFIXES = (".yaml", ".yml", ".lp")


def known_reform_names(folder: Path | None = None) -> list[str]:
    """The names of the reforms in *folder* (default: queries/reforms/)."""
    folder = folder or default_reforms_path()
    return sorted({p.stem for p in folder.glob("*") if p.suffix in REFORM_SUFFIXES}) if folder.is_dir() else []


def reform_name_problem(name: Any, folder: Path | None = None) -> tuple[str, str] | None:
    """Why *name* names no reform of *folder*, as (problem, fix); None when it does.

    Reform names resolve only inside the configured reform folder: no paths, no suffixes."""
    folder = folder or default_reforms_path()
    known = known_reform_names(folder)
    fix = "use one of: " + (", ".join(known) or "none") + " (`exportkb query --list` describes them)"
    if not isinstance(name, str) or not REFORM_NAME_RE.match(name) or name.endswith(REFORM_SUFFIXES):
        return ("not a reform name (a reform is named by its file stem in the reform folder, never by a path)",
                fix)
    if not any((folder / f"{name}{s}").is_file() for s in REFORM_SUFFIXES):
        close = difflib.get_close_matches(name, known, n=1)
        return (f"not found in {folder}", (f"did you mean '{close[0]}'? " if close else "") + fix)
    return None
