"""Benchmarks: `python -m bench [name ...]` (or `make bench`). Results go to bench/results/."""
