"""Allyloop benchmarks: `python bench/run.py` (or `make bench`) from the repository root."""
