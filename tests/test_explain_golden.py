"""Golden files: the text, markdown and json renderings of a few proofs, byte for byte.

A change to kb/ (a line number, a template, a citation) or to the renderers shows
up here as a diff a reviewer reads. After checking the diff is intended, update
deliberately with:

    EXPORTKB_UPDATE_GOLDEN=1 /tmp/venv/bin/python -m pytest -q tests/test_explain_golden.py

The KB version hash and the absolute path of the checkout are normalised, so
unrelated KB edits elsewhere only matter when the proof itself changes.
"""
from __future__ import annotations

import os

import pytest

from exportkb.explain import Explainer
from exportkb.case.loader import load_case

from .conftest import CASES, ROOT

GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("EXPORTKB_UPDATE_GOLDEN") == "1"

# (golden name, case file, goal, mode, item)
EXAMPLES = [
    ("we01-license-required", CASES / "aia" / "aia-we01-germany.yaml", "license_required(gpus)", "why", None),
    ("we02-why-not-aia", CASES / "aia" / "aia-we02-parent-outside.yaml", "AIA", "why_not", "gpus"),
    ("we01-why-not-acm", CASES / "aia" / "aia-we01-germany.yaml", "ACM", "why_not", "gpus"),
]
FORMATS = {"text": "txt", "markdown": "md", "json": "json"}


@pytest.fixture(scope="module")
def explainer(kb) -> Explainer:
    return Explainer(kb)


def _normalise(text: str, kb) -> str:
    return text.replace(kb.version, "<kb-version>").replace(str(ROOT) + "/", "")


@pytest.mark.parametrize("name,path,goal,mode,item", EXAMPLES, ids=[e[0] for e in EXAMPLES])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_golden(kb, explainer, name, path, goal, mode, item, fmt):
    proof = explainer.case(load_case(path, kb)).explain(goal, mode=mode, item=item, depth=2 if mode == "why_not" else None)
    got = _normalise(proof.render(fmt), kb)
    target = GOLDEN / f"{name}.{FORMATS[fmt]}"
    if UPDATE or not target.exists():
        target.write_text(got, encoding="utf-8")
        if not UPDATE:
            pytest.fail(f"{target} did not exist and was written: review it and commit it")
        return
    want = target.read_text(encoding="utf-8")
    assert got == want, (f"{target.relative_to(ROOT)} differs from the rendering; if the change is intended, "
                         "update with EXPORTKB_UPDATE_GOLDEN=1 (see this file's docstring)")
