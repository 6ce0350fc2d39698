"""One module per framework, each implementing the benchmark scenarios S1-S6 identically.

Every module exposes ``app`` (scenarios S1-S5) and ``app_mw`` (S6: the same routes
behind three pass-through middlewares). See ``benchmarks/README.md``.
"""
