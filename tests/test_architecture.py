"""The package's import graph obeys docs/architecture.md: no cycle, no private name across modules,
no import from a lower layer into a higher one (nor between packages that share a layer), and no
use of the deprecated old module paths by the package, its tests, benchmarks or notebooks.

Every module under src/exportkb is parsed with ``ast`` (nothing is imported), relative imports
are resolved against the module's package, and ``from X import y`` is an edge to ``X.y`` when
that is a module of ours, else to ``X``. Importing ``a.b.c`` also runs the ``__init__`` of
``a.b``, so an edge to a module implies edges to its enclosing packages (except the root
``exportkb`` and the importer's own packages, which are being imported already).

Which imports count:

* **layering and private names**: every import — at module level, inside a function (lazy),
  and under ``if TYPE_CHECKING:``. A lazy or type-only import is still a dependency.
* **cycles**: every import as well, ``if TYPE_CHECKING:`` included. A type-only import is never
  executed, but it still says that one module needs the other: two modules that need each other
  are one module or a missing interface (``explain.render`` reads proofs through its own
  ``Proof`` protocol instead of importing ``explain.proof``, which calls the renderer).

The layers are read from the table between ``<!-- layers:begin -->`` and ``<!-- layers:end -->``
in docs/architecture.md, so the documented layering and the enforced one cannot drift apart.
"""
from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "exportkb"
OLD_PATHS = SRC / "old_paths"
DOC = ROOT / "docs" / "architecture.md"
#: The one test module allowed to import the old paths: it checks that they still work and warn.
SHIM_TEST = "test_deprecated_paths.py"


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # a module of ours
    names: tuple[str, ...]  # names taken with `from target import ...` ("" for `import target`)
    line: int
    type_only: bool


def module_name(path: Path) -> str:
    """``src/exportkb/solve/solver.py`` → ``exportkb.solve.solver``; old paths are found as ``exportkb.<stem>``."""
    if path.parent == OLD_PATHS:
        return f"exportkb.{path.stem}"
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


OLD_MODULES = {f"exportkb.{p.stem}" for p in OLD_PATHS.glob("*.py")}


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                for stmt in node.body:
                    lines.update(range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))
    return lines


def imports_of(name: str, path: Path, known: set[str]) -> tuple[list[Import], ast.AST]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rsplit(".", 1)[0]
    type_only = _type_checking_lines(tree)
    out: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod != "exportkb" and not mod.startswith("exportkb."):
                continue
            plain = []
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                if sub in known:  # `from exportkb.analysis import whatif`: an import of the module
                    out.append(Import(name, sub, ("",), node.lineno, node.lineno in type_only))
                else:
                    plain.append(alias.name)
            if plain or not node.names:
                out.append(Import(name, mod, tuple(plain), node.lineno, node.lineno in type_only))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "exportkb" or alias.name.startswith("exportkb."):
                    out.append(Import(name, alias.name, ("",), node.lineno, node.lineno in type_only))
    return out, tree


def bound_modules(name: str, path: Path, tree: ast.AST, known: set[str]) -> dict[str, str]:
    """Local names bound to modules of ours: ``from . import fastclingo``, ``import exportkb.x as y``."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    out: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - (node.level - 1)] if node.level else []
            mod = ".".join(base + ([node.module] if node.module else []))
            for a in node.names:
                if f"{mod}.{a.name}" in known:
                    out[a.asname or a.name] = f"{mod}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname and a.name in known:
                    out[a.asname] = a.name
    return out


def resolve(target: str, known: set[str]) -> str:
    """The module of ours an import names (``exportkb.x.y`` where ``y`` is an attribute → ``exportkb.x``)."""
    while target not in known and "." in target:
        target = target.rsplit(".", 1)[0]
    return target


def read_layers() -> dict[str, tuple[int, str]]:
    """package → (layer number, its name as the table's first package) from docs/architecture.md."""
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- layers:begin -->(.*?)<!-- layers:end -->", text, re.S)
    assert m, "docs/architecture.md has no layers table between <!-- layers:begin --> and <!-- layers:end -->"
    layers: dict[str, tuple[int, str]] = {}
    for row in m.group(1).splitlines():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].isdigit():
            continue
        for pkg in re.findall(r"`([\w.]+)`", cells[1]):
            layers[pkg] = (int(cells[0]), pkg)
    assert layers, "the layers table of docs/architecture.md is empty"
    return layers


def layer_of(module: str, layers: dict[str, tuple[int, str]]) -> tuple[int, str]:
    """The layer of a module: its longest declared package prefix (old paths belong to the facade)."""
    if module in OLD_MODULES:
        return layers["exportkb"]
    best = None
    for pkg in layers:
        if module == pkg or module.startswith(pkg + "."):
            if best is None or len(pkg) > len(best):
                best = pkg
    assert best is not None, f"{module} is in no layer: add its package to the table in docs/architecture.md"
    return layers[best]


def graph() -> tuple[dict[str, Path], list[Import], dict[str, ast.AST]]:
    mods = modules()
    known = set(mods)
    edges: list[Import] = []
    trees: dict[str, ast.AST] = {}
    for name, path in mods.items():
        found, tree = imports_of(name, path, known)
        trees[name] = tree
        edges.extend(found)
    return mods, edges, trees


def expanded(imp: Import, known: set[str]) -> list[str]:
    """The modules an import runs: its target and the target's enclosing packages (not the importer's own)."""
    target = resolve(imp.target, known)
    own = imp.importer.split(".")
    own_pkgs = {".".join(own[:i]) for i in range(1, len(own) + 1)}
    parts = target.split(".")
    out = [target]
    for i in range(2, len(parts)):
        pkg = ".".join(parts[:i])
        if pkg not in own_pkgs and pkg in known:
            out.append(pkg)
    return [t for t in out if t != imp.importer]


# --------------------------------------------------------------------------- the tests
def test_layers_table_covers_every_module():
    layers = read_layers()
    for name in modules():
        layer_of(name, layers)  # fails naming the module when it is in no layer


def test_no_import_cycles():
    mods, edges, _ = graph()
    known = set(mods)
    g = nx.DiGraph()
    g.add_nodes_from(mods)
    for imp in edges:
        for t in expanded(imp, known):
            g.add_edge(imp.importer, t, line=imp.line)
    cycles = sorted(nx.simple_cycles(g), key=len)
    assert not cycles, "import cycles in src/exportkb:\n" + "\n".join(
        " -> ".join(c + [c[0]]) for c in cycles[:20])


def test_no_private_names_across_modules():
    mods, edges, trees = graph()
    known = set(mods)
    bad = []
    for imp in edges:
        target = resolve(imp.target, known)
        if target == imp.importer:
            continue
        for n in imp.names:
            if n.startswith("_") and not (n.startswith("__") and n.endswith("__")):
                bad.append(f"{mods[imp.importer].relative_to(ROOT)}:{imp.line}: from {target} import {n}")
    # `module._name` through a name bound to one of our modules (`from . import fastclingo`; `import x as y`)
    for name, tree in trees.items():
        bound = bound_modules(name, mods[name], tree, known)
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                bad.append(f"{mods[name].relative_to(ROOT)}:{node.lineno}: {bound[node.value.id]}.{node.attr}")
    assert not bad, "private names used across modules (make them public in the module that owns them):\n" + \
        "\n".join(bad)


def test_no_upward_or_sideways_imports():
    mods, edges, _ = graph()
    known = set(mods)
    layers = read_layers()
    bad = []
    for imp in edges:
        src_layer, src_pkg = layer_of(imp.importer, layers)
        for t in expanded(imp, known):
            dst_layer, dst_pkg = layer_of(t, layers)
            kind = " (type only)" if imp.type_only else ""
            if dst_layer > src_layer:
                bad.append(f"{mods[imp.importer].relative_to(ROOT)}:{imp.line}: {imp.importer} (layer {src_layer}) "
                           f"imports {t} (layer {dst_layer}){kind}")
            elif dst_layer == src_layer and dst_pkg != src_pkg:
                bad.append(f"{mods[imp.importer].relative_to(ROOT)}:{imp.line}: {imp.importer} imports {t}, "
                           f"a different package of the same layer {src_layer}{kind}")
    assert not bad, "imports against the layering of docs/architecture.md:\n" + "\n".join(bad)


def _old_path_imports(tree: ast.AST) -> list[tuple[int, str]]:
    out: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            mods = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        else:
            continue
        for m in mods:
            parts = m.split(".")
            for i in range(2, len(parts) + 1):
                if ".".join(parts[:i]) in OLD_MODULES:
                    out.add((node.lineno, ".".join(parts[:i])))
                    break
    return sorted(out)


def test_package_code_uses_no_old_paths():
    mods, edges, _ = graph()
    bad = [f"{mods[i.importer].relative_to(ROOT)}:{i.line}: {i.target}" for i in edges
           if mods[i.importer].parent != OLD_PATHS and resolve(i.target, set(mods)) in OLD_MODULES]
    assert not bad, "src/ imports deprecated old module paths:\n" + "\n".join(bad)


def test_tests_benchmarks_and_notebooks_use_no_old_paths():
    bad = []
    for folder in ("tests", "benchmarks"):
        for p in sorted((ROOT / folder).rglob("*.py")):
            if p.name == SHIM_TEST:
                continue
            for line, m in _old_path_imports(ast.parse(p.read_text(encoding="utf-8"))):
                bad.append(f"{p.relative_to(ROOT)}:{line}: {m}")
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for n, cell in enumerate(json.loads(nb.read_text(encoding="utf-8"))["cells"]):
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            try:
                tree = ast.parse("\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!"))))
            except SyntaxError:
                continue
            for line, m in _old_path_imports(tree):
                bad.append(f"{nb.relative_to(ROOT)} cell {n} line {line}: {m}")
    assert not bad, "old module paths used (use the new ones, docs/architecture.md):\n" + "\n".join(bad)


@pytest.mark.parametrize("package", ["case", "kb", "solve", "explain", "analysis", "suites", "engines", "batch", "cli"])
def test_every_subpackage_says_what_it_owns(package):
    doc = ast.get_docstring(ast.parse((SRC / package / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc.splitlines()[0]) > 20, f"exportkb.{package}: its __init__ docstring must say what it owns"


# ------------------------------------------------- the checks themselves catch what they must
def _fake_tree(tmp_path: Path, files: dict[str, str]) -> list[Import]:
    known = {f"exportkb.{k}" for k in files}
    out = []
    for k, text in files.items():
        p = tmp_path / (k.replace(".", "/") + ".py")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        found, _ = imports_of(f"exportkb.{k}", p, known)
        out.extend(found)
    return out


def test_checks_see_lazy_type_only_and_private_imports(tmp_path):
    edges = _fake_tree(tmp_path, {
        "a": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\n",
        "b": "def f():\n    from .a import _secret\n",
    })
    by = {(e.importer, e.target): e for e in edges}
    assert by[("exportkb.a", "exportkb.b")].type_only
    lazy = by[("exportkb.b", "exportkb.a")]
    assert not lazy.type_only and lazy.names == ("_secret",)


def test_layer_lookup_uses_the_longest_declared_package():
    layers = {"exportkb": (8, "exportkb"), "exportkb.solve": (3, "exportkb.solve"), "exportkb.case": (1, "exportkb.case")}
    assert layer_of("exportkb.solve.residual.split", layers) == (3, "exportkb.solve")
    assert layer_of("exportkb.case", layers) == (1, "exportkb.case")
