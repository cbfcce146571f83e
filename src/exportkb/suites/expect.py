"""Comparing a case's `expect:` block with a determination: every difference, as a :class:`Mismatch`.

The expectation language itself (its keys, the shape check run when a case is loaded)
is :mod:`exportkb.case.expect`; this half needs a :class:`~exportkb.solve.Determination`
and so lives above the solver, where suites, the batch and ``exportkb check`` use it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..solve.determination import Determination


@dataclass
class Mismatch:
    path: str
    expected: Any
    actual: Any

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected!r}, got {self.actual!r}"


def compare(expect: dict[str, Any] | None, det: Determination) -> list[Mismatch]:
    """Every difference between what the case expects and what was determined."""
    if not expect:
        return []
    out: list[Mismatch] = []
    js = det.to_json()

    def cmp_set(path: str, key: str, want: list[str], have: list[str]) -> None:
        w, h = {s.upper() if key.startswith(("exceptions", "red_flags")) else s for s in want}, set(have)
        if key.endswith("_include"):
            if not w <= h:
                out.append(Mismatch(path, f"includes {sorted(w)}", sorted(h)))
        elif key.endswith(("_unavailable", "_exclude")):
            if w & h:
                out.append(Mismatch(path, f"none of {sorted(w)}", sorted(h)))
        elif w != h:
            out.append(Mismatch(path, sorted(w), sorted(h)))

    for key, want in expect.items():
        path = f"expect.{key}"
        if key == "as_of":
            continue  # applied before solving (exportkb.suites.runner.prepared), not compared
        elif key == "in_scope":
            if want != det.in_scope:
                out.append(Mismatch(path, want, det.in_scope))
        elif key in ("red_flags", "red_flags_include"):
            cmp_set(path, key, want, det.red_flags)
        elif key in ("notes", "notes_include", "notes_exclude"):
            cmp_set(path, key, want, det.notes)
        elif key in ("obligations", "obligations_include"):
            cmp_set(path, key, want, det.obligations)
        elif key in ("dates", "figures"):
            have = js[key]
            for k, v in want.items():
                hv = have.get(k)
                if str(hv) != str(v):
                    out.append(Mismatch(f"{path}.{k}", v, hv))
        else:
            item = js["items"].get(key)
            if item is None:
                out.append(Mismatch(path, "an item of this case", None))
                continue
            for k, v in want.items():
                p = f"{path}.{k}"
                if k == "classification_mismatch":  # true: the declared ECCN and the specs disagree
                    if (item[k] is not None) != v:
                        out.append(Mismatch(p, v, item[k]))
                elif k == "license_required" and v == "unknown":  # null: not determined
                    if item[k] is not None:
                        out.append(Mismatch(p, v, item[k]))
                elif k in ("eccn", "license_required", "license_required_enforced", "presumption_of_denial",
                           "license_review_policy_cite"):
                    if item[k] != v:
                        out.append(Mismatch(p, v, item[k]))
                elif k == "license_review_policy":  # not_stated / none: JSON null, told apart by the KB's policy
                    have = det.items[key].review_policy if key in det.items else None
                    have = "none" if have is None else have
                    if have != v:
                        out.append(Mismatch(p, v, have))
                elif k.startswith("requirements"):
                    cmp_set(p, k, v, [r["id"] for r in item["requirements"]])
                elif k == "exceptions_conditional":  # the exceptions only a fact the case leaves open can make usable
                    cmp_set(p, k, v, [c["exception"] for c in item.get("exceptions_conditional", [])])
                elif k.startswith("exceptions"):
                    cmp_set(p, k, v, item["exceptions_available"])
                elif k.startswith("obligations"):
                    cmp_set(p, k, v, item["obligations"])
    return out
