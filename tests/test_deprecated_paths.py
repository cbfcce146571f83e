"""The module paths of the flat layout keep working for one release, with a DeprecationWarning.

This is the one test module that imports the old paths (tests/test_architecture.py keeps
everything else on the new ones). Each old path is imported afresh (its ``sys.modules`` entry
removed for the test) and must warn, name its new home, and give the very objects of the
new module.
"""
from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

# old path, new module, a name that must come through (None: the module itself is aliased)
SHIMS = [
    ("exportkb.model", "exportkb.case.model", "Case"),
    ("exportkb.loader", "exportkb.case.loader", "load_case"),
    ("exportkb.expect", "exportkb.case.expect", "check_expect_shape"),
    ("exportkb.expect", "exportkb.suites.expect", "compare"),
    ("exportkb.schema", "exportkb.case.schema", "case_schema"),
    ("exportkb.facts", "exportkb.case.facts", "case_facts"),
    ("exportkb.reforms", "exportkb.kb.reforms", "apply_reforms"),
    ("exportkb.reforms", "exportkb.solve.laws", "ReformCache"),
    ("exportkb.determination", "exportkb.solve.determination", "Determination"),
    ("exportkb.solver", "exportkb.solve.solver", "Solver"),
    ("exportkb.solver", "exportkb.solve.atoms", "parse_flat"),
    ("exportkb.fastclingo", "exportkb.solve.fastclingo", "FactWriter"),
    ("exportkb.residual", "exportkb.solve.residual", "residual_program"),
    ("exportkb.whatif", "exportkb.analysis.whatif", "sweep"),
    ("exportkb.counterfactual", "exportkb.analysis.counterfactual", "Counterfactuals"),
    ("exportkb.queries", "exportkb.analysis.queries", "run_query"),
    ("exportkb.suite", "exportkb.suites.runner", "Runner"),
    ("exportkb.pytest_plugin", "exportkb.suites.plugin", None),
    ("exportkb.lint", "exportkb.suites.lint", "lint"),
    ("exportkb.provisions", "exportkb.suites.provisions", "coverage"),
    ("exportkb.render", "exportkb.cli.render", "print_determination"),
]


def fresh_import(monkeypatch: pytest.MonkeyPatch, old: str):
    monkeypatch.delitem(sys.modules, old, raising=False)
    return importlib.import_module(old)


@pytest.mark.parametrize("old, new, name", SHIMS, ids=[f"{o}:{n or 'module'}" for o, _, n in SHIMS])
def test_old_path_imports_warns_and_forwards(monkeypatch, old, new, name):
    with pytest.warns(DeprecationWarning, match=rf"{old} is deprecated .* import .*{new}"):
        module = fresh_import(monkeypatch, old)
    target = importlib.import_module(new)
    if name is None:  # the pytest plugin: one object, whatever name pytest registers it under
        assert module is target
    else:
        assert getattr(module, name) is getattr(target, name)
        assert name in dir(module)


def test_the_warning_points_at_the_importing_line(monkeypatch):
    monkeypatch.delitem(sys.modules, "exportkb.whatif", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        import exportkb.whatif  # noqa: F401  (the line the warning must name)
    [w] = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert w.filename == __file__


def test_warns_once_per_process(monkeypatch):
    monkeypatch.delitem(sys.modules, "exportkb.loader", raising=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        importlib.import_module("exportkb.loader")
        importlib.import_module("exportkb.loader")
        from exportkb.loader import case_from_data  # noqa: F401
    assert sum(issubclass(w.category, DeprecationWarning) for w in caught) == 1


def test_star_import_and_unknown_names(monkeypatch):
    with pytest.warns(DeprecationWarning):
        module = fresh_import(monkeypatch, "exportkb.whatif")
    namespace: dict = {}
    exec("from exportkb.whatif import *", namespace)
    assert namespace["sweep"] is importlib.import_module("exportkb.analysis.whatif").sweep
    with pytest.raises(AttributeError, match="exportkb.analysis.whatif"):
        module.no_such_name  # noqa: B018


def test_new_paths_do_not_warn():
    code = ("import warnings; warnings.simplefilter('error');"
            "import exportkb, exportkb.cli, exportkb.case, exportkb.kb, exportkb.solve, exportkb.solve.residual,"
            " exportkb.explain, exportkb.engines, exportkb.analysis.whatif, exportkb.suites.runner, exportkb.batch;"
            "from exportkb import KnowledgeBase, Solver, load_case")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
