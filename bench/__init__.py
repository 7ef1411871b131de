"""Benchmarks: ``python -m bench.run`` writes docs/benchmarks.md (ratios against a same-run baseline)."""
