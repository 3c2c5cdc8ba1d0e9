"""Exact leave-one-out of MinNormLeastSquaresCV against brute-force refits.

The reference refits each left-out problem from scratch with NumPy's LAPACK SVD
(weighted means, centring, the cut-off of n − 1 samples, the truncation), or is
scikit-learn's own GridSearchCV over LeaveOneOut.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.model_selection import GridSearchCV, KFold, LeaveOneOut

from sksvd import MinNormLeastSquares, MinNormLeastSquaresCV
from sksvd.linalg._loo import leave_one_out_predictions
from sksvd.linalg._lstsq import default_rcond

_EPS = np.finfo(np.float64).eps


def _refit_predictions(X, Y, w, i, ranks, fit_intercept, rcond=None):
    """Predictions at sample i of the refits without it, at every rank (NumPy)."""
    w = w / w.max()  # the same refits; no weighted sum under- or overflows
    keep = np.arange(X.shape[0]) != i
    Xk, Yk, wk = X[keep], Y[keep], w[keep]
    if fit_intercept:
        x_mean = wk @ Xk / wk.sum()
        y_mean = wk @ Yk / wk.sum()
    else:
        x_mean, y_mean = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
    root = np.sqrt(wk)[:, None]
    U, s, Vt = np.linalg.svd(root * (Xk - x_mean), full_matrices=False)
    rcond = _EPS * max(Xk.shape) if rcond is None else rcond
    r = int(np.count_nonzero(s > rcond * s[0])) if s.size and s[0] > 0 else 0
    coordinates = (X[i] - x_mean) @ Vt[:r].T  # (r,)
    weights = (U[:, :r].T @ (root * (Yk - y_mean))) / s[:r, None]  # (r, T)
    cumulative = np.cumsum(coordinates[:, None] * weights, axis=0)
    out = np.empty((len(ranks), Y.shape[1]))
    for position, k in enumerate(ranks):
        k = min(int(k), r)
        out[position] = y_mean + (cumulative[k - 1] if k > 0 else 0.0)
    return out


def _brute_force(X, y, ranks, w=None, fit_intercept=True, rcond=None):
    """Mean and standard deviation of the weighted negative squared errors."""
    Y = y.reshape(len(y), -1)
    w = np.ones(len(y)) if w is None else w / w.max()
    errors = np.empty((len(y), len(ranks)))
    for i in range(len(y)):
        prediction = _refit_predictions(X, Y, w, i, ranks, fit_intercept, rcond)
        errors[i] = -np.mean((prediction - Y[i]) ** 2, axis=1)
    mean = np.average(errors, axis=0, weights=w)
    std = np.sqrt(np.average((errors - mean) ** 2, axis=0, weights=w))
    return mean, std


def _latent(rng, n, p, rank=5, noise=0.3, targets=None):
    latent = rng.standard_normal((n, rank))
    X = latent @ rng.standard_normal((rank, p)) + noise * rng.standard_normal((n, p))
    shape = (rank,) if targets is None else (rank, targets)
    y = latent @ rng.standard_normal(shape)
    return X + 2.0, y + noise * rng.standard_normal(y.shape)


@pytest.mark.parametrize("shape", [(60, 20), (40, 60)])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_rank_equals_brute_force(rng, shape, fit_intercept, weighted):
    X, y = _latent(rng, *shape)
    w = rng.uniform(0.2, 3.0, shape[0]) if weighted else None
    model = MinNormLeastSquaresCV(fit_intercept=fit_intercept).fit(
        X, y, sample_weight=w
    )
    ranks = model.cv_results_["rank"]
    # Every rank up to the numerical rank (wide data: all n − 1 centred ones).
    assert ranks[-1] == min(shape[0] - fit_intercept, shape[1])
    mean, std = _brute_force(X, y, ranks, w, fit_intercept)
    np.testing.assert_allclose(model.cv_results_["mean_test_score"], mean, rtol=1e-8)
    np.testing.assert_allclose(model.cv_results_["std_test_score"], std, rtol=1e-8)
    assert model.best_rank_ == ranks[np.argmax(mean)]


def test_multi_target_equals_brute_force(rng):
    X, Y = _latent(rng, 50, 15, targets=3)
    model = MinNormLeastSquaresCV().fit(X, Y)
    mean, _ = _brute_force(X, Y, model.cv_results_["rank"])
    np.testing.assert_allclose(model.cv_results_["mean_test_score"], mean, rtol=1e-8)


def test_equals_grid_search_over_leave_one_out(rng):
    X, y = _latent(rng, 50, 12, rank=3)
    ranks = list(range(1, 13))
    model = MinNormLeastSquaresCV(max_ranks=ranks).fit(X, y)
    search = GridSearchCV(
        MinNormLeastSquares(),
        {"max_rank": ranks},
        cv=LeaveOneOut(),
        scoring="neg_mean_squared_error",
    ).fit(X, y)
    for key in ("mean_test_score", "std_test_score"):
        np.testing.assert_allclose(
            model.cv_results_[key], search.cv_results_[key], rtol=1e-8
        )
    assert model.cv_results_["params"] == search.cv_results_["params"]
    assert model.best_rank_ == search.best_params_["max_rank"]


def test_tall_predictions_equal_refits_at_every_rank(rng):
    # 2000 × 50: every rank, checked sample by sample on 120 of them.
    X, y = _latent(rng, 2000, 50, rank=8)
    Y = y[:, None]
    w = np.ones(len(y))
    x_mean, y_mean = X.mean(0), Y.mean(0)
    U, s, Vt = np.linalg.svd(X - x_mean, full_matrices=False)
    n = len(y)
    gamma = n / (n - 1)  # ρᵢ/wᵢ with unit weights
    zeta = np.sqrt(gamma) * (s * U)  # √ρ·Vᵀaᵢ, from U
    ranks = np.arange(1, 51)
    rcond = default_rcond((n - 1, 50), np.float64)
    centred = leave_one_out_predictions(
        s,
        zeta,
        U.T @ (Y - y_mean),
        Y - y_mean,
        np.full(n, np.sqrt(gamma)),
        ranks,
        rcond,
    )
    predictions = y_mean - (Y - y_mean)[:, None] / (n - 1) + centred * n / (n - 1)
    for i in rng.choice(n, 120, replace=False):
        expected = _refit_predictions(X, Y, w, i, ranks, True)
        np.testing.assert_allclose(
            predictions[i], expected, rtol=1e-8, atol=1e-10 * np.abs(Y).max()
        )


def _check_engine_against_refits(X, y, w=None, ranks=None, rtol=1e-8, **options):
    """The estimator's leave-one-out scores at every rank against refits."""
    model = MinNormLeastSquaresCV(max_ranks=ranks, **options)
    model.fit(X, y, sample_weight=w)
    mean, std = _brute_force(
        X,
        y,
        model.cv_results_["rank"],
        w,
        options.get("fit_intercept", True),
        options.get("rcond"),
    )
    scale = np.max(np.abs(mean))
    np.testing.assert_allclose(
        model.cv_results_["mean_test_score"], mean, rtol=rtol, atol=rtol * scale
    )
    return model


def test_repeated_singular_values(rng):
    # Orthogonal columns of equal norm: every singular value is repeated, so
    # the secular equation has no simple root and LAPACK's eigh takes over.
    Q, _ = np.linalg.qr(rng.standard_normal((40, 6)))
    X = np.vstack([Q, -Q]) * 3.0  # centred, with σ² all equal to 18
    y = X @ rng.standard_normal(6) + 0.1 * rng.standard_normal(80)
    _check_engine_against_refits(X, y)


def test_sample_at_the_mean_and_zero_weights(rng):
    X, y = _latent(rng, 40, 8)
    X[0] = X[1:].mean(0)  # its centred row is (nearly) zero: z = 0
    w = rng.uniform(0.5, 2.0, 40)
    w[[3, 7]] = 0.0  # left out, nothing changes; they do not count
    _check_engine_against_refits(X, y, w)


def test_leverage_one_samples(rng):
    # A sample alone along a direction: leaving it out lowers the rank, and the
    # refit predicts it with the smaller model, as the refit's cut-off does.
    X, y = _latent(rng, 30, 5)
    X = np.column_stack([X, np.zeros(30)])
    X[4, -1] = 7.0
    model = _check_engine_against_refits(X, y)
    assert np.all(np.isfinite(model.cv_results_["mean_test_score"]))


def test_outlier_and_wide_magnitudes(rng):
    X, y = _latent(rng, 60, 10)
    X[5] *= 40.0  # a high-leverage sample: its roots move far from the poles
    X = X * np.logspace(-3, 3, 10)  # features six orders of magnitude apart
    _check_engine_against_refits(X, y, rtol=1e-7)


def test_duplicated_rows(rng):
    X, y = _latent(rng, 30, 6)
    X, y = np.vstack([X, X[:5]]), np.concatenate([y, y[:5]])
    _check_engine_against_refits(X, y)


def test_float32_data(rng):
    X, y = _latent(rng, 60, 10)
    model = MinNormLeastSquaresCV().fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    reference = MinNormLeastSquaresCV().fit(X.astype(np.float32).astype(float), y)
    # float32 data are scored as their float64 values, with float32's cut-off.
    assert model.best_rank_ == reference.best_rank_


def test_only_one_positive_weight_is_an_error(rng):
    X, y = _latent(rng, 10, 3)
    w = np.zeros(10)
    w[2] = 1.0
    with pytest.raises(ValueError, match="two samples with a positive"):
        MinNormLeastSquaresCV().fit(X, y, sample_weight=w)


@pytest.mark.parametrize("cv", [None, 4])
def test_sparse_equals_dense(rng, cv):
    X, y = _latent(rng, 60, 15)
    X[rng.random(X.shape) < 0.5] = 0.0
    dense = MinNormLeastSquaresCV(cv=cv).fit(X, y)
    sparse = MinNormLeastSquaresCV(cv=cv).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(
        sparse.cv_results_["mean_test_score"],
        dense.cv_results_["mean_test_score"],
        rtol=1e-9,
    )
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-12)


def test_sparse_k_fold_with_few_ranks_uses_arpack(rng):
    X, y = _latent(rng, 200, 40)
    X[rng.random(X.shape) < 0.7] = 0.0
    folds = KFold(4, shuffle=True, random_state=0)
    ranks = [1, 2, 4, 6]
    dense = MinNormLeastSquaresCV(ranks, cv=folds).fit(X, y)
    sparse = MinNormLeastSquaresCV(ranks, cv=folds).fit(sp.csc_matrix(X), y)
    assert sparse.solver_ == "arpack"
    np.testing.assert_allclose(
        sparse.cv_results_["mean_test_score"],
        dense.cv_results_["mean_test_score"],
        rtol=1e-8,
    )


def test_weighted_k_fold_equals_refits(rng):
    X, y = _latent(rng, 80, 10)
    w = rng.integers(0, 4, 80).astype(float)
    folds = list(KFold(4, shuffle=True, random_state=1).split(X))
    ranks = [1, 3, 5, 8]
    model = MinNormLeastSquaresCV(ranks, cv=folds).fit(X, y, sample_weight=w)
    for split, (train, test) in enumerate(folds):
        expected = []
        for k in ranks:
            fit = MinNormLeastSquares(max_rank=k).fit(
                X[train], y[train], sample_weight=w[train]
            )
            error = (fit.predict(X[test]) - y[test]) ** 2
            expected.append(-np.average(error, weights=w[test]))
        np.testing.assert_allclose(
            model.cv_results_[f"split{split}_test_score"], expected, rtol=1e-9
        )


def test_integer_weights_equal_repeated_rows_under_k_fold(rng):
    # Frequency weights: in k-fold CV a weight-2 sample is the same as the
    # sample twice in the same fold.
    X, y = _latent(rng, 30, 5)
    w = rng.integers(1, 3, 30)
    repeated = np.repeat(np.arange(30), w)
    groups = np.arange(30) % 3
    weighted = MinNormLeastSquaresCV(
        cv=[
            (np.flatnonzero(groups != g), np.flatnonzero(groups == g)) for g in range(3)
        ]
    ).fit(X, y, sample_weight=w)
    rg = groups[repeated]
    plain = MinNormLeastSquaresCV(
        cv=[(np.flatnonzero(rg != g), np.flatnonzero(rg == g)) for g in range(3)]
    ).fit(X[repeated], y[repeated])
    np.testing.assert_allclose(
        weighted.cv_results_["mean_test_score"],
        plain.cv_results_["mean_test_score"],
        rtol=1e-9,
    )


def test_custom_scorer_has_no_leave_one_out_spread(rng):
    X, y = _latent(rng, 40, 6)
    model = MinNormLeastSquaresCV(scoring="r2").fit(X, y)
    assert "std_test_score" not in model.cv_results_
    ranks = model.cv_results_["rank"]
    Y = y[:, None]
    predictions = np.array(
        [_refit_predictions(X, Y, np.ones(40), i, ranks, True)[:, 0] for i in range(40)]
    )
    from sklearn.metrics import r2_score

    expected = [r2_score(y, predictions[:, c]) for c in range(len(ranks))]
    np.testing.assert_allclose(
        model.cv_results_["mean_test_score"], expected, rtol=1e-9
    )


def test_every_refit_loses_a_rank(rng):
    # Square data without intercept, and 4 samples of 3 features with one:
    # leaving any sample out lowers the rank, and the top rank's refit is the
    # rank below it. The lost root is zero only to rounding.
    _check_engine_against_refits(
        rng.standard_normal((30, 30)), rng.standard_normal(30), fit_intercept=False
    )
    X = np.array(
        [
            [1.1332, 1.7690, 2.7161],
            [4.1233, 2.6312, 1.4142],
            [3.2312, 2.1979, 2.1857],
            [3.6371, 2.3975, 1.9670],
        ]
    )
    model = _check_engine_against_refits(X, np.array([0.4085, -1.6341, 0.1003, 0.1486]))
    assert model.best_rank_ == 1


def test_ill_conditioned_wide_data(rng):
    X = rng.standard_normal((30, 100)) @ np.diag(np.logspace(0, -4, 100))
    _check_engine_against_refits(X, rng.standard_normal(30))


def test_rcond_that_cuts_real_directions(rng):
    # The directions below the cut-off still move when a sample leaves.
    X = rng.standard_normal((30, 4)) * [3.0, 2.0, 1.6, 1.0]
    y = X.sum(1) + 0.1 * rng.standard_normal(30)
    _check_engine_against_refits(X, y, rcond=0.5)


@pytest.mark.parametrize("heavy", ["leverage", 1e10, 1e12])
def test_high_leverage_samples_are_refitted(rng, heavy):
    X = rng.standard_normal((50, 5))
    y = X @ np.ones(5) + 0.1 * rng.standard_normal(50)
    w = np.ones(50)
    if heavy == "leverage":
        X[0] *= 1e6
        y[0] = X[0] @ np.ones(5)
    else:
        w[3] = heavy
    _check_engine_against_refits(X, y, w)


@pytest.mark.parametrize("weight", [1e-310, 5e-324, 1e308])
def test_extreme_weights(rng, weight):
    X, y = rng.standard_normal((10, 3)), rng.standard_normal(10)
    _check_engine_against_refits(X, y, np.full(10, weight))


def test_huge_targets_give_no_warning(rng):
    X, y = rng.standard_normal((20, 3)), 1e150 * rng.standard_normal(20)
    for cv in (None, 4):
        model = MinNormLeastSquaresCV(cv=cv).fit(X, y)
        assert np.all(np.isfinite(model.cv_results_["std_test_score"]))


def test_a_test_fold_without_weight_is_an_error(rng):
    w = np.ones(12)
    w[:3] = 0.0
    with pytest.raises(ValueError, match="test fold has sample weights"):
        MinNormLeastSquaresCV(cv=4).fit(
            rng.standard_normal((12, 3)), rng.standard_normal(12), sample_weight=w
        )


def test_nested_candidate_ranks_are_refused(rng):
    with pytest.raises(ValueError, match="max_ranks"):
        MinNormLeastSquaresCV(max_ranks=[[1, 2]]).fit(
            rng.standard_normal((10, 3)), rng.standard_normal(10)
        )


def test_one_hot_design_with_repeated_singular_values(rng, monkeypatch):
    # Balanced groups: every singular value of the centred design but one is
    # repeated. Clusters of equal poles are merged (deflated) instead of going
    # to LAPACK's eigh for every sample.
    groups = np.arange(120) % 6
    X = np.eye(6)[groups]
    y = groups * 0.5 + rng.standard_normal(120)
    import sksvd.linalg._loo as loo

    calls = []
    original = loo._direct_terms

    def counting(d, w2, *args):
        calls.append(w2.shape[0])
        return original(d, w2, *args)

    monkeypatch.setattr(loo, "_direct_terms", counting)
    _check_engine_against_refits(X, y)
    assert sum(calls) < 5
