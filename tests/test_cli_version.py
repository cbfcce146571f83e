"""`exportkb --version` and `exportkb.__version__` give the installed package's version (read lazily)."""
from __future__ import annotations

from importlib.metadata import version

from click.testing import CliRunner

import exportkb
from exportkb.cli import main


def test_version_flag_prints_the_package_version():
    for flag in ("--version", "-V"):
        result = CliRunner().invoke(main, [flag])
        assert result.exit_code == 0
        assert result.output == f"exportkb, version {version('exportkb')}\n"


def test_module_version_attribute():
    assert exportkb.__version__ == version("exportkb")
    assert "__version__" in exportkb.__all__
