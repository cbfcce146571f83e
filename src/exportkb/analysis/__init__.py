"""Analysis over many determinations: what-if sweeps and comparisons, counterfactuals (the smallest change that flips a goal), and the named queries of queries/.

Built on the solver and the explanation layer; pandas and matplotlib are needed only by
the what-if tables (the ``whatif`` extra). Nothing is imported here at package import,
so ``import exportkb.analysis.queries`` does not load pandas.
"""
