"""Imputation: SVDImputer against scikit-learn's IterativeImputer and KNNImputer.

A rank-5 matrix plus noise of standard deviation 0.01, with 30 % of its entries
removed completely at random; each imputer fills the gaps, and the root mean
squared error on the removed entries is measured against the values removed.
SVDImputer runs with its defaults (rank by 5-fold cross-validation) and with
the rank given; IterativeImputer and KNNImputer with their defaults (and
fancyimpute's SoftImpute if it is installed). One timed run each (the slow
peers take minutes), after which the ratios are printed. Run from the
repository root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_impute.py
    ... --samples 200 --features 100    # the small case of the tests
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

sys.path.insert(0, str(Path(__file__).parent))
from _timing import describe_blas  # noqa: E402

from sksvd import SVDImputer  # noqa: E402


def make_problem(n_samples, n_features, rank=5, noise=0.01, fraction=0.3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, rank)) @ rng.standard_normal((rank, n_features))
    X += noise * rng.standard_normal(X.shape)
    missing = rng.random(X.shape) < fraction
    return X, np.where(missing, np.nan, X), missing


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--features", type=int, default=500)
    parser.add_argument(
        "--skip-iterative",
        action="store_true",
        help="leave out IterativeImputer (minutes at the default size)",
    )
    args = parser.parse_args()

    X, X_missing, missing = make_problem(args.samples, args.features)
    print(f"X {X.shape}, rank 5, noise 0.01, {missing.mean():.0%} missing")
    for line in describe_blas():
        print("  " + line)

    imputers = {
        "SVDImputer (rank by CV)": SVDImputer(random_state=0),
        "SVDImputer (rank=5)": SVDImputer(5, random_state=0),
        "SVDImputer (soft, by CV)": SVDImputer(method="soft", random_state=0),
        "SimpleImputer (mean)": SimpleImputer(),
        "KNNImputer": KNNImputer(),
    }
    if not args.skip_iterative:
        imputers["IterativeImputer"] = IterativeImputer(random_state=0)
    try:
        from fancyimpute import SoftImpute

        imputers["fancyimpute SoftImpute"] = SoftImpute(verbose=False)
    except ImportError:
        print("  (fancyimpute is not installed: its SoftImpute is left out)")

    results = {}
    for name, imputer in imputers.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # IterativeImputer's convergence
            filled = imputer.fit_transform(X_missing)
        seconds = time.perf_counter() - start
        rmse = float(np.sqrt(np.mean((filled[missing] - X[missing]) ** 2)))
        results[name] = (seconds, rmse)
        extra = f", rank {imputer.rank_}" if hasattr(imputer, "rank_") else ""
        print(f"{name:>26}: {seconds:8.2f} s   RMSE {rmse:.4g}{extra}")

    ours = results["SVDImputer (rank by CV)"]
    for name, (seconds, rmse) in results.items():
        if name.startswith("SVDImputer"):
            continue
        print(
            f"  against {name}: {seconds / ours[0]:.1f}x the time, "
            f"{rmse / ours[1]:.1f}x the error"
        )


if __name__ == "__main__":
    main()
