"""Out-of-core PCA: 20,000,000 × 50 float64 (8 GB) on dask against in-memory NumPy.

The dask array is generated chunk by chunk (``dask.array.random``), so it never
exists in memory as a whole; ``PCAViaSVD`` reads it twice (statistics, then TSQR).
Each case runs in its own subprocess, which reports its peak resident memory
(``ru_maxrss``). Prints seconds, seconds per million rows, and the peak memory
of each. Run from the repository root (it takes a few minutes)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_out_of_core_pca.py [--rows 20000000]
"""

import argparse
import json
import subprocess
import sys
import time

CASE = r"""
import json, resource, sys, time
import numpy as np
rows, columns, chunk = (int(value) for value in sys.argv[1:4])
mode = sys.argv[4]
from sksvd import PCAViaSVD
# Warm up: libraries, thread pools and allocator, outside the timing.
PCAViaSVD(10).fit(np.random.RandomState(1).standard_normal((20_000, columns)))
start = time.perf_counter()
if mode == "dask":
    import dask, dask.array as da
    dask.config.set(scheduler="threads")
    shape, chunks = (rows, columns), (chunk, columns)
    X = da.random.RandomState(0).standard_normal(shape, chunks=chunks)
    pca = PCAViaSVD(10).fit(X)
    fit_only = time.perf_counter() - start
else:
    X = np.random.RandomState(0).standard_normal((rows, columns))
    generated = time.perf_counter()
    pca = PCAViaSVD(10).fit(X)
    fit_only = time.perf_counter() - generated
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB to GiB
print(json.dumps({
    "seconds": seconds, "fit_seconds": fit_only, "peak_gib": peak,
    "solver": pca.solver_, "variance": pca.explained_variance_[:2].tolist(),
}))
"""


def run(rows, columns, chunk, mode):
    output = subprocess.run(
        [sys.executable, "-c", CASE, str(rows), str(columns), str(chunk), mode],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--columns", type=int, default=50)
    parser.add_argument("--chunk", type=int, default=250_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    from _timing import describe_blas  # noqa: PLC0415 - after argument parsing

    for line in describe_blas():
        print("  " + line)
    started = time.perf_counter()
    memory = run(args.memory_rows, args.columns, args.chunk, "numpy")
    dask_case = run(args.rows, args.columns, args.chunk, "dask")
    size_gb = args.rows * args.columns * 8 / 1e9
    print(f"\n  {'case':<42}{'seconds':>9}{'s / 1e6 rows':>14}{'peak GiB':>10}")
    for name, rows, case in [
        (
            f"NumPy in memory, {args.memory_rows:,} rows (generate + fit)",
            args.memory_rows,
            memory,
        ),
        (
            f"dask, {args.rows:,} rows ({size_gb:.0f} GB, generated)",
            args.rows,
            dask_case,
        ),
    ]:
        per_million = case["seconds"] / rows * 1e6
        print(
            f"  {name:<42}{case['seconds']:>9.1f}{per_million:>14.3f}"
            f"{case['peak_gib']:>10.2f}"
        )
    ratio = (dask_case["seconds"] / args.rows) / (memory["seconds"] / args.memory_rows)
    print(f"\n  time per row, dask / in-memory: {ratio:.2f}")
    print(
        f"  in-memory fit alone: {memory['fit_seconds']:.2f} s ({memory['solver']}); "
        f"dask solver: {dask_case['solver']}"
    )
    print(f"  total wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    main()
