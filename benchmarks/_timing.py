"""Timing helpers shared by the benchmarks: medians of repeats, and the BLAS in use."""

import statistics
import time

from threadpoolctl import threadpool_info


def median_time(function, repeats):
    """Median wall time of ``repeats`` calls, after one untimed warm-up call."""
    result = function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def describe_blas():
    """One line per BLAS/OpenMP library loaded: API, implementation, threads."""
    return [
        f"{info['user_api']}: {info['internal_api']} {info.get('version')} "
        f"({info['num_threads']} threads, {info.get('architecture', '?')})"
        for info in threadpool_info()
    ]
