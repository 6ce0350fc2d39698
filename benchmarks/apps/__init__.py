"""One module per framework, each implementing the benchmark scenarios S1-S6 identically.

Every module exposes ``app`` (scenarios S1-S5), ``app_mw`` (S6: the same routes
behind three pass-through middlewares) and ``app_small`` (S5s: the scenario routes with
2 extra routes instead of 2,000). See ``benchmarks/README.md``.
"""
