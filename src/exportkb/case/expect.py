"""The expectation language of case files (`expect:`) and the check of its shape when a case is loaded.

Case-level keys: ``in_scope``, ``red_flags`` (exact set), ``red_flags_include``,
``obligations`` / ``obligations_include`` (case-level), ``dates`` (subset of
name → YYYY-MM-DD), ``figures`` (subset). Every other key is an item id whose
value is a mapping of item-level keys (see ``ITEM_KEYS``). Set-valued keys
compare as sets; ``*_include`` means "at least these"; ``exceptions_unavailable``
means "none of these". Documented in docs/case-format.md. Comparing an `expect:` block with a determination
is :func:`exportkb.suites.expect.compare` (it needs the solver's output, a layer above).
"""
from __future__ import annotations

from typing import Any

from ..errors import FieldProblem

CASE_KEYS = {"in_scope", "red_flags", "red_flags_include", "obligations", "obligations_include", "dates", "figures",
             "notes", "notes_include", "notes_exclude"}
# `as_of: YYYY-MM-DD` is an instruction, not an expectation: evaluate the case as if dated so
# (applied by exportkb.suites.runner; never compared). See docs/regression-suites.md.
CASE_KEYS = CASE_KEYS | {"as_of"}
ITEM_KEYS = {
    "eccn", "license_required", "license_required_enforced", "requirements", "requirements_include",
    "exceptions_available", "exceptions_include", "exceptions_unavailable", "presumption_of_denial",
    "obligations", "obligations_include", "obligations_exclude", "classification_mismatch",
}
_BOOL_KEYS = {"in_scope", "license_required", "license_required_enforced", "presumption_of_denial",
              "classification_mismatch"}
_LIST_KEYS = {"red_flags", "red_flags_include", "obligations", "obligations_include", "obligations_exclude",
              "requirements", "requirements_include", "exceptions_available", "exceptions_include",
              "exceptions_unavailable", "notes", "notes_include", "notes_exclude"}


def check_expect_shape(expect: dict[str, Any], item_ids: list[str], src: str, line_of) -> list[FieldProblem]:
    """Problems with the shape of an `expect:` block (unknown keys, wrong types)."""
    problems: list[FieldProblem] = []

    def bad(path: str, value: Any, msg: str, fix: str) -> None:
        problems.append(FieldProblem(src, path, msg, fix, line=line_of(path), value=value, has_value=True))

    def check_value(path: str, key: str, value: Any) -> None:
        if key in _BOOL_KEYS and not isinstance(value, bool):
            bad(path, value, "expected true or false", "write true or false")
        if key in _LIST_KEYS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            bad(path, value, "expected a list of names", "write a list such as [AIA, LPP] (or [] for none)")
        if key in ("dates", "figures") and not isinstance(value, dict):
            bad(path, value, "expected a mapping", "write name: value pairs")
        if key == "as_of":
            import datetime as _dt
            try:
                ok = isinstance(value, _dt.date) or (
                    isinstance(value, str) and 1900 <= _dt.date.fromisoformat(value).year <= 2100)
            except ValueError:
                ok = False
            if not ok:
                bad(path, value, "expected a date", "write the date as YYYY-MM-DD, e.g. as_of: 2025-06-01")

    for key, value in expect.items():
        path = f"expect.{key}"
        if key in CASE_KEYS:
            check_value(path, key, value)
        elif key in item_ids:
            if not isinstance(value, dict):
                bad(path, value, "expected a mapping of item-level expectations",
                    "e.g. license_required: true, exceptions_available: [AIA]")
                continue
            for k, v in value.items():
                if k not in ITEM_KEYS:
                    bad(f"{path}.{k}", v, "unknown expectation key", "accepted: " + ", ".join(sorted(ITEM_KEYS)))
                else:
                    check_value(f"{path}.{k}", k, v)
        else:
            bad(path, value, "neither a case-level expectation nor an item id of this case",
                "case-level keys: " + ", ".join(sorted(CASE_KEYS)) + "; item ids: " + ", ".join(item_ids))
    return problems
