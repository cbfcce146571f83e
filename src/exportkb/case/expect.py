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

import difflib
from typing import Any

from ..errors import FieldProblem

CASE_KEYS = {"in_scope", "red_flags", "red_flags_include", "obligations", "obligations_include", "dates", "figures",
             "notes", "notes_include", "notes_exclude"}
# `as_of: YYYY-MM-DD` is an instruction, not an expectation: evaluate the case as if dated so
# (applied by exportkb.suites.runner; never compared). See docs/regression-suites.md.
CASE_KEYS = CASE_KEYS | {"as_of"}
ITEM_KEYS = {
    "eccn", "license_required", "license_required_enforced", "requirements", "requirements_include",
    "exceptions_available", "exceptions_include", "exceptions_unavailable", "exceptions_conditional",
    "presumption_of_denial", "obligations", "obligations_include", "obligations_exclude", "classification_mismatch",
    "license_review_policy", "license_review_policy_cite",
}
#: The values of ``license_review_policy:`` — the JSON's four policies, ``not_stated`` (the paragraph
#: that governs states no policy; JSON null with a citation) and ``none`` (no policy at all; JSON null).
REVIEW_POLICY_VALUES = ("presumption_of_denial", "presumption_of_approval", "case_by_case", "policy_of_denial",
                        "not_stated", "none")
_BOOL_KEYS = {"in_scope", "license_required", "license_required_enforced", "presumption_of_denial",
              "classification_mismatch"}
_LIST_KEYS = {"red_flags", "red_flags_include", "obligations", "obligations_include", "obligations_exclude",
              "requirements", "requirements_include", "exceptions_available", "exceptions_include",
              "exceptions_unavailable", "exceptions_conditional", "notes", "notes_include", "notes_exclude"}


#: Which KB predicate argument holds the names of each list-valued expectation, and whether the
#: comparison ignores case (exceptions and red flags are compared in upper case). Case-level keys
#: first, then item-level ones; ``notes`` and ``dates``/``figures`` names are open (not checked).
_CASE_VOCAB = {"red_flags": ("red_flag/2", 1), "red_flags_include": ("red_flag/2", 1),
               "obligations": ("case_obligation/2", 1), "obligations_include": ("case_obligation/2", 1)}
_ITEM_VOCAB = {"requirements": ("license_requirement/3", 2), "requirements_include": ("license_requirement/3", 2),
               "exceptions_available": ("exception_available/3", 2), "exceptions_include": ("exception_available/3", 2),
               "exceptions_unavailable": ("exception_available/3", 2),
               "exceptions_conditional": ("exception_conditional/4", 2),
               "obligations": ("obligation/3", 2), "obligations_include": ("obligation/3", 2),
               "obligations_exclude": ("obligation/3", 2)}


def expectation_names(kb: Any, signature: str, position: int) -> set[str] | None:
    """The names a list expectation may use, as the determination spells them (None: open).

    Exceptions are shown by their catalogue name (``LPP``, ``VEU-NATIONAL``) and red flags in
    upper case, so those are returned in upper case (the comparison upper-cases the expectation)."""
    names = kb.head_constants(signature, position)
    if names is None:
        return None
    if signature in ("exception_available/3", "exception_conditional/4"):
        return {kb.exception_names.get(x, (x.upper(),))[0].upper() for x in names}
    if signature == "red_flag/2":
        return {x.upper() for x in names}
    return set(names)


def check_expect_shape(expect: dict[str, Any], item_ids: list[str], src: str, line_of,
                       kb: Any = None) -> list[FieldProblem]:
    """Problems with the shape of an `expect:` block (unknown keys, wrong types) and, given the KB,
    names in its lists that the KB can never derive (``exceptions_unavailable: [LLP]`` would pass
    for ever, whatever the KB concludes)."""
    problems: list[FieldProblem] = []

    def bad(path: str, value: Any, msg: str, fix: str) -> None:
        problems.append(FieldProblem(src, path, msg, fix, line=line_of(path), value=value, has_value=True))

    def check_names(path: str, values: list[str], where: tuple[str, int] | None) -> None:
        if kb is None or where is None:
            return
        vocab = expectation_names(kb, *where)
        if vocab is None:
            return
        upper = where[0] in ("exception_available/3", "exception_conditional/4", "red_flag/2")
        for i, v in enumerate(values):
            if (v.upper() if upper else v) in vocab:
                continue
            close = difflib.get_close_matches(v.upper() if upper else v, sorted(vocab), n=1)
            bad(f"{path}[{i}]", v, "not a name the knowledge base uses here",
                (f"did you mean '{close[0]}'? " if close else "") + "accepted: " + ", ".join(sorted(vocab)))

    def check_value(path: str, key: str, value: Any, vocab: dict[str, tuple[str, int]] = _CASE_VOCAB) -> None:
        if key == "license_required" and value == "unknown":
            pass  # the determination holds (license_required null): an unresolved potential match
        elif key in _BOOL_KEYS and not isinstance(value, bool):
            bad(path, value, "expected true or false", "write true or false")
        if key in _LIST_KEYS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            bad(path, value, "expected a list of names", "write a list such as [AIA, LPP] (or [] for none)")
        elif key in _LIST_KEYS:
            check_names(path, value, vocab.get(key))
        if key == "license_review_policy" and value not in REVIEW_POLICY_VALUES:
            close = difflib.get_close_matches(str(value), REVIEW_POLICY_VALUES, n=1)
            bad(path, value, "not a licence review policy",
                (f"did you mean '{close[0]}'? " if close else "") + "accepted: " + ", ".join(REVIEW_POLICY_VALUES))
        if key == "license_review_policy_cite" and not isinstance(value, str):
            bad(path, value, "expected a citation", "write the citation as the JSON gives it, e.g. '15 CFR 742.6(b)(14)'")
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
                    check_value(f"{path}.{k}", k, v, _ITEM_VOCAB)
        else:
            bad(path, value, "neither a case-level expectation nor an item id of this case",
                "case-level keys: " + ", ".join(sorted(CASE_KEYS)) + "; item ids: " + ", ".join(item_ids))
    return problems
