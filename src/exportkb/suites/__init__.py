"""Checks that keep the KB and the cases honest: expectations compared with determinations, the regression runner (`exportkb test`), the pytest plugin, the KB linter and the provision-coverage map.

The linter sits here, not in :mod:`exportkb.kb`, because it runs the second engine's
fragment check (:mod:`exportkb.engines`); the coverage map because it runs the
explanation layer's recorder over the regression cases. Nothing is imported at package
import: pytest loads :mod:`.plugin` in every run.
"""
