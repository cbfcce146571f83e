"""The notebooks in notebooks/ run top to bottom and each draws at least one chart.

Executed with nbclient on a python3 kernel that runs THIS interpreter (a
kernelspec written to a temporary JUPYTER_PATH), so the notebooks see the same
installed exportkb as the tests. Skipped, with the reason, when the notebook
extras are not installed.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat not installed (pip install 'exportkb[test]')")
nbclient = pytest.importorskip("nbclient", reason="nbclient not installed (pip install 'exportkb[test]')")
pytest.importorskip("ipykernel", reason="ipykernel not installed (pip install 'exportkb[test]')")
pytest.importorskip("matplotlib", reason="matplotlib not installed (pip install 'exportkb[whatif]')")
pytest.importorskip("pandas", reason="pandas not installed (pip install 'exportkb[whatif]')")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
MAX_BYTES = 64 * 1024  # notebooks are committed without (or with small) outputs


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory) -> Path:
    """A kernelspec named python3 whose kernel is the running interpreter."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / "python3"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (tests)", "language": "python"}))
    return root


def test_there_are_four_notebooks():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_small_and_committed_without_big_outputs(path):
    assert path.stat().st_size < MAX_BYTES, f"{path.name}: clear the outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_draws(path, kernel_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    images = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
              if o.get("output_type") in ("display_data", "execute_result") and "image/png" in o.get("data", {})]
    assert images, f"{path.name}: produced no chart"
