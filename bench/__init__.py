"""Benchmarks (run outside CI): ``python -m bench.run_all`` and ``bench/diff_scaling.py``.

Every figure is measured side by side in the same run and reported as a ratio, with the
absolute numbers beside it for context. See ``docs/performance.md``.
"""
