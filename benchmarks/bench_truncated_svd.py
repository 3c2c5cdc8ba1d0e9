"""Truncated SVD of an image-like matrix: sksvd against scikit-learn and SciPy.

Prints, for each rank k, the median time of each method and its ratio to the
fastest peer, together with the Frobenius error of its rank-k approximation relative
to the optimal (Eckart–Young) error. Run from the repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \
        python benchmarks/bench_truncated_svd.py

``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` are set on some machines for old
OpenBLAS builds and slow a current NumPy; unset them for this command only.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import scipy.linalg as la
from scipy.sparse.linalg import svds
from sklearn.decomposition import TruncatedSVD

sys.path.insert(0, str(Path(__file__).parent))
from _timing import describe_blas, median_time  # noqa: E402

from sksvd import TruncatedSVDCompressor  # noqa: E402


def image_like(shape, seed=0):
    """A smooth random field plus pixel noise: a power-law spectrum like a photo's."""
    rng = np.random.default_rng(seed)
    field = np.cumsum(np.cumsum(rng.standard_normal(shape), axis=0), axis=1)
    field = (field - field.min()) / np.ptp(field) * 255
    return field + 2.0 * rng.standard_normal(shape)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=2, default=[2000, 1125])
    parser.add_argument("--ranks", type=int, nargs="+", default=[5, 20, 50, 400])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    X = image_like(tuple(args.shape))
    s_all = la.svdvals(X)
    print(f"matrix {X.shape}, float64")
    for line in describe_blas():
        print("  " + line)

    for k in args.ranks:
        compare_at_rank(X, s_all, k, args.repeats)


def compare_at_rank(X, s_all, k, repeats):
    optimal = np.sqrt(np.sum(s_all[k:] ** 2))
    peers = {
        "sklearn randomized": lambda: _sklearn(X, k),
        "scipy arpack": lambda: svds(X, k, solver="arpack", random_state=0),
        "scipy propack": lambda: svds(X, k, solver="propack", random_state=0),
    }
    mine = {
        "sksvd auto": lambda: _sksvd(X, k, "auto"),
        "sksvd randomized": lambda: _sksvd(X, k, "randomized"),
    }
    rows = []
    for name, function in {**peers, **mine}.items():
        seconds, (U, s, Vt) = median_time(function, repeats)
        rows.append((name, seconds, np.linalg.norm(X - (U * s) @ Vt) / optimal))
    fastest_peer = min(seconds for name, seconds, _ in rows if name in peers)
    print(f"\nk = {k}  (optimal Frobenius error {optimal:.4g})")
    print(f"  {'method':<20}{'median s':>10}{'/ fastest peer':>16}{'error/opt':>12}")
    for name, seconds, ratio in rows:
        print(
            f"  {name:<20}{seconds:>10.3f}{seconds / fastest_peer:>16.2f}{ratio:>12.5f}"
        )


def _sksvd(X, k, solver):
    # The scores X V and the components: their product is the rank-k projection.
    model = TruncatedSVDCompressor(k, solver=solver, random_state=0).fit(X)
    return model.transform(X), np.ones(k), model.components_


def _sklearn(X, k):
    model = TruncatedSVD(k, algorithm="randomized", random_state=0).fit(X)
    return model.transform(X), np.ones(k), model.components_


if __name__ == "__main__":
    main()
