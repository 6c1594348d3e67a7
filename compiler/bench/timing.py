"""Timing and its statistics, one version for every benchmark of this repository:
`segc bench`'s worker and benchmarks/vs_paddleseg.py both use these, so that their
medians and percentiles mean the same thing.

Imports nothing heavy.
"""

from __future__ import annotations

import statistics
import time


def percentile(ordered: list[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) of sorted values, interpolating linearly between the
    two nearest ranks (numpy's default method)."""
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def distribution(values: list[float]) -> dict:
    """Count, median, mean, 10th and 90th percentiles, min and max of measured values,
    rounded to 4 decimals."""
    ordered = sorted(values)
    return {"n": len(values), "median": round(statistics.median(values), 4),
            "mean": round(statistics.fmean(values), 4),
            "p10": round(percentile(ordered, 0.1), 4),
            "p90": round(percentile(ordered, 0.9), 4), "min": round(ordered[0], 4),
            "max": round(ordered[-1], 4)}


def stage_stats(wall_ms: list[float], cpu_ms: list[float]) -> dict:
    """Median and spread of one stage's timed runs, in the key order of the `segc bench`
    results schema (STATS_SCHEMA in segc.bench.results)."""
    wall = distribution(wall_ms)
    return {
        "runs": wall["n"],
        "median": wall["median"],
        "mean": wall["mean"],
        "min": wall["min"],
        "max": wall["max"],
        "p10": wall["p10"],
        "p90": wall["p90"],
        "stdev": round(statistics.stdev(wall_ms), 4) if len(wall_ms) > 1 else 0.0,
        "cpu_median": round(statistics.median(cpu_ms), 4),
    }


def time_stages(stages, warmup: int, runs: int) -> list[dict]:
    """Run the stage callables in order warmup + runs times, each stage's output feeding
    the next; per stage, the stage_stats of the wall-clock and CPU milliseconds of the
    timed runs."""
    wall = [[] for _ in stages]
    cpu = [[] for _ in stages]
    for run in range(warmup + runs):
        value = None
        for index, stage in enumerate(stages):
            wall_start, cpu_start = time.perf_counter(), time.process_time()
            value = stage(value)
            if run >= warmup:
                wall[index].append((time.perf_counter() - wall_start) * 1000)
                cpu[index].append((time.process_time() - cpu_start) * 1000)
    return [stage_stats(w, c) for w, c in zip(wall, cpu)]
