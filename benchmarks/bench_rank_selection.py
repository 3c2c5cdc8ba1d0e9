"""Rank selection: MinNormLeastSquaresCV against a grid search over PCA + regression.

Scores 25 candidate ranks on 5 folds of a 20,000 × 100 regression problem in two
ways, on the same folds: ``GridSearchCV(Pipeline([PCA, LinearRegression]))`` over
``n_components`` (one PCA and one regression per rank and fold) and
``MinNormLeastSquaresCV(cv=folds)`` (one SVD per fold scores every rank). Also
times the leave-one-out variant (``cv=None``, one SVD in all). Prints medians of
repeats, the ratio, and the rank each method selects. Run from the repository
root::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_rank_selection.py
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

sys.path.insert(0, str(Path(__file__).parent))
from _timing import describe_blas, median_time  # noqa: E402

from sksvd import MinNormLeastSquaresCV  # noqa: E402


def make_problem(n_samples, n_features, n_latent, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_samples, n_latent))
    X = latent @ rng.standard_normal((n_latent, n_features))
    X += 0.5 * rng.standard_normal((n_samples, n_features))
    y = latent @ rng.standard_normal(n_latent) + rng.standard_normal(n_samples)
    return X, y


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=20_000)
    parser.add_argument("--features", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    X, y = make_problem(args.samples, args.features, n_latent=12)
    ranks = list(range(2, 52, 2))  # 25 candidates
    folds = KFold(5, shuffle=True, random_state=0)
    print(f"X {X.shape}, {len(ranks)} ranks x 5 folds")
    for line in describe_blas():
        print("  " + line)

    def grid_search():
        pipeline = Pipeline(
            [("pca", PCA(svd_solver="full")), ("regression", LinearRegression())]
        )
        search = GridSearchCV(
            pipeline,
            {"pca__n_components": ranks},
            cv=folds,
            scoring="neg_mean_squared_error",
        )
        return search.fit(X, y).best_params_["pca__n_components"]

    def ours_k_fold():
        return MinNormLeastSquaresCV(max_ranks=ranks, cv=folds).fit(X, y).best_rank_

    def ours_leave_one_out():
        return MinNormLeastSquaresCV(max_ranks=ranks).fit(X, y).best_rank_

    peer_time, peer_rank = median_time(grid_search, args.repeats)
    rows = [("GridSearchCV(PCA + LinearRegression)", peer_time, peer_rank)]
    for name, function in [
        ("MinNormLeastSquaresCV(cv=5 folds)", ours_k_fold),
        ("MinNormLeastSquaresCV(leave-one-out)", ours_leave_one_out),
    ]:
        seconds, rank = median_time(function, args.repeats)
        rows.append((name, seconds, rank))
    print(f"\n  {'method':<40}{'median s':>10}{'speed-up':>10}{'rank':>6}")
    for name, seconds, rank in rows:
        print(f"  {name:<40}{seconds:>10.3f}{peer_time / seconds:>9.1f}x{rank:>6}")


if __name__ == "__main__":
    main()
