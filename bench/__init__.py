"""Allyloop benchmarks: `python bench/run.py` (or `make bench`) from the repository root."""

import statistics


def spread(values: list[float], scale: float = 1.0, digits: int = 2) -> str:
    """How every figure here is reported: the median of the rounds, with their min-max."""
    ordered = sorted(v * scale for v in values)
    return f"{statistics.median(ordered):.{digits}f} ({ordered[0]:.{digits}f}-{ordered[-1]:.{digits}f})"
