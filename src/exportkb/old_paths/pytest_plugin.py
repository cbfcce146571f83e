"""Deprecated: ``exportkb.pytest_plugin`` moved to :mod:`exportkb.suites.plugin` (the pytest11 entry point names the new path).

Kept for conftests that name it (``pytest_plugins = ["exportkb.pytest_plugin"]``, ``-p
exportkb.pytest_plugin``): this name becomes the new module itself, so pytest never sees
two plugin objects. See :mod:`exportkb.deprecated`.
"""
from exportkb.deprecated import moved

moved("exportkb.pytest_plugin", "exportkb.suites.plugin", alias=True)
