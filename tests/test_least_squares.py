"""MinNormLeastSquares(CV) against NumPy, scikit-learn and brute-force loops."""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV, KFold

from sksvd import MinNormLeastSquares, MinNormLeastSquaresCV
from sksvd.linalg import lstsq


@pytest.fixture
def collinear(rng):
    """150 samples, 12 features driven by 4 latent factors (rank 4 + noise)."""
    latent = rng.standard_normal((150, 4))
    X = latent @ rng.standard_normal((4, 12)) + 0.05 * rng.standard_normal((150, 12))
    y = latent @ np.array([2.0, -1.0, 0.5, 1.5]) + 0.1 * rng.standard_normal(150)
    return X + 3.0, y


@pytest.mark.parametrize("solver", ["auto", "full", "qr"])
def test_full_rank_matches_linear_regression(collinear, solver):
    X, y = collinear
    ours = MinNormLeastSquares(solver=solver).fit(X, y)
    theirs = LinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=1e-8)
    assert ours.intercept_ == pytest.approx(theirs.intercept_, rel=1e-9)
    assert ours.rank_ == 12
    rss = np.sum((y - ours.predict(X)) ** 2)
    assert ours.residual_sum_of_squares_ == pytest.approx(rss, rel=1e-8)


def test_without_intercept_equals_lstsq(collinear, rng):
    X, y = collinear
    Y = np.column_stack([y, rng.standard_normal(y.size)])
    model = MinNormLeastSquares(fit_intercept=False).fit(X, Y)
    x_ref, *_ = np.linalg.lstsq(X, Y, rcond=None)
    np.testing.assert_allclose(model.coef_, x_ref.T, rtol=1e-8)
    np.testing.assert_array_equal(model.intercept_, [0.0, 0.0])


def test_wide_data_gives_the_centred_minimum_norm_solution(rng):
    # 10 samples, 30 features: infinitely many interpolating solutions. Centring
    # leaves the intercept out of the minimised norm, unlike lstsq on [1, X].
    X = rng.standard_normal((10, 30)) + 5.0
    y = rng.standard_normal(10)
    model = MinNormLeastSquares().fit(X, y)
    np.testing.assert_allclose(model.predict(X), y, atol=1e-10)
    x_c, *_ = np.linalg.lstsq(X - X.mean(0), y - y.mean(), rcond=None)
    np.testing.assert_allclose(model.coef_, x_c, atol=1e-10)
    augmented, *_ = lstsq(np.column_stack([np.ones(10), X]), y)
    assert not np.allclose(augmented[1:], model.coef_, atol=1e-3)


def test_rank_deficient_design_shares_weight_among_copies(rng):
    X = rng.standard_normal((50, 3))
    X = np.column_stack([X, X[:, 0]])  # the fourth column repeats the first
    y = X[:, 0] * 2.0 + X[:, 1]
    model = MinNormLeastSquares().fit(X, y)
    assert model.rank_ == 3
    np.testing.assert_allclose(model.coef_, [1.0, 1.0, 0.0, 1.0], atol=1e-10)
    assert model.cutoff_ == pytest.approx(
        model.singular_values_[0] * 50 * np.finfo(float).eps
    )


def test_sample_weight_equals_repetition(collinear):
    X, y = collinear
    weights = np.arange(X.shape[0]) % 3
    weighted = MinNormLeastSquares().fit(X, y, sample_weight=weights)
    repeated = MinNormLeastSquares().fit(
        np.repeat(X, weights, axis=0), np.repeat(y, weights)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-9)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, rel=1e-9)


def test_max_rank_equals_principal_component_regression(collinear):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    X, y = collinear
    ours = MinNormLeastSquares(max_rank=3).fit(X, y)
    pcr = make_pipeline(PCA(3, svd_solver="full"), LinearRegression()).fit(X, y)
    np.testing.assert_allclose(ours.predict(X), pcr.predict(X), rtol=1e-9)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_sparse_lsmr_matches_dense(rng, fit_intercept):
    X = sp.random(200, 30, density=0.2, random_state=rng, format="csr")
    y = X @ rng.standard_normal(30) + 0.01 * rng.standard_normal(200)
    sparse_fit = MinNormLeastSquares(fit_intercept=fit_intercept).fit(X, y)
    dense_fit = MinNormLeastSquares(fit_intercept=fit_intercept).fit(X.toarray(), y)
    np.testing.assert_allclose(sparse_fit.coef_, dense_fit.coef_, atol=1e-8)
    assert sparse_fit.intercept_ == pytest.approx(dense_fit.intercept_, abs=1e-8)
    assert sparse_fit.rank_ is None
    assert sparse_fit.residual_sum_of_squares_ == pytest.approx(
        dense_fit.residual_sum_of_squares_, rel=1e-6
    )


def test_float32_in_float32_out(collinear):
    X, y = collinear
    model = MinNormLeastSquares().fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    assert model.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(
        model.coef_, MinNormLeastSquares().fit(X, y).coef_, rtol=1e-3, atol=1e-4
    )


def test_zero_total_weight_is_an_error(collinear):
    X, y = collinear
    with pytest.raises(ValueError, match="sums to zero|non-zero"):
        MinNormLeastSquares().fit(X, y, sample_weight=np.zeros(len(y)))


@pytest.mark.parametrize("scoring", [None, "r2", "neg_mean_absolute_error"])
def test_k_fold_equals_grid_search(collinear, scoring):
    X, y = collinear
    ranks = [1, 2, 3, 4, 6, 9, 12]
    folds = KFold(5, shuffle=True, random_state=0)
    model = MinNormLeastSquaresCV(max_ranks=ranks, cv=folds, scoring=scoring)
    model.fit(X, y)
    search = GridSearchCV(
        MinNormLeastSquares(),
        {"max_rank": ranks},
        cv=folds,
        scoring=scoring or "neg_mean_squared_error",
    ).fit(X, y)
    assert model.best_rank_ == search.best_params_["max_rank"]
    np.testing.assert_allclose(
        model.cv_results_["mean_test_score"],
        search.cv_results_["mean_test_score"],
        rtol=1e-9,
    )
    for split in range(5):
        np.testing.assert_allclose(
            model.cv_results_[f"split{split}_test_score"],
            search.cv_results_[f"split{split}_test_score"],
            rtol=1e-9,
        )


def test_refit_and_cv_results_frame(collinear):
    X, y = collinear
    model = MinNormLeastSquaresCV(cv=3).fit(X, y)
    frame = pd.DataFrame(model.cv_results_)
    assert list(frame["rank"]) == list(range(1, 13))
    reference = MinNormLeastSquares(max_rank=model.best_rank_).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_)
    np.testing.assert_allclose(model.predict(X), reference.predict(X))


def test_multi_target_cv(collinear, rng):
    X, y = collinear
    Y = np.column_stack([y, 2 * y + 0.1 * rng.standard_normal(y.size)])
    model = MinNormLeastSquaresCV().fit(X, Y)
    assert model.coef_.shape == (2, X.shape[1])
    assert model.predict(X).shape == Y.shape


@pytest.mark.parametrize("max_ranks", [[0, 2], [13], [], [1.5]])
def test_invalid_candidate_ranks(collinear, max_ranks):
    X, y = collinear
    with pytest.raises(ValueError, match="max_ranks"):
        MinNormLeastSquaresCV(max_ranks=max_ranks).fit(X, y)


def test_lsmr_that_does_not_converge_warns(rng):
    from sklearn.exceptions import ConvergenceWarning

    X = sp.csr_matrix(
        sp.random(500, 50, density=0.2, random_state=1)
        @ sp.diags(np.logspace(-4, 4, 50))
    )
    y = X @ rng.standard_normal(50)
    with pytest.warns(ConvergenceWarning, match="LSMR stopped"):
        MinNormLeastSquares().fit(X, y)


def test_sparse_max_rank_matches_dense(rng):
    X = rng.standard_normal((80, 10)) @ np.diag(np.linspace(3, 0.5, 10))
    y = X @ rng.standard_normal(10)
    dense = MinNormLeastSquares(max_rank=3).fit(X, y)
    sparse = MinNormLeastSquares(max_rank=3).fit(sp.csr_matrix(X), y)
    assert sparse.rank_ == dense.rank_ == 3
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8)
    assert sparse.intercept_ == pytest.approx(dense.intercept_, abs=1e-10)


def test_leave_one_out_without_intercept_on_a_zero_design(rng):
    y = rng.standard_normal(10)
    model = MinNormLeastSquaresCV(fit_intercept=False).fit(np.zeros((10, 3)), y)
    # Rank 0 with no intercept predicts 0 for every held-out sample.
    assert model.cv_results_["mean_test_score"][0] == pytest.approx(-np.mean(y**2))


def test_leave_one_out_uses_one_svd(collinear, monkeypatch):
    import sksvd._least_squares as module

    calls = []
    original = module.least_squares

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, "least_squares", counting)
    MinNormLeastSquaresCV().fit(*collinear)
    assert len(calls) == 1
    calls.clear()
    MinNormLeastSquaresCV(cv=4).fit(*collinear)
    assert len(calls) == 5  # all the data, then one per fold


def _ill_conditioned_design(rng, condition, fit_intercept, m=4000, n=40, offset=3.0):
    s_true = np.logspace(0, -np.log10(condition), n)
    U = np.linalg.qr(rng.standard_normal((m, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    X = (U * s_true) @ V.T * 100 + (offset if fit_intercept else 0.0)
    y = X @ rng.standard_normal(n) + 0.01 * rng.standard_normal(m)
    return X, y


@pytest.mark.parametrize("condition", [1e1, 1e3, 1e5, 1e6, 6e6])
@pytest.mark.parametrize(
    "fit_intercept, offset", [(False, 0.0), (True, 3.0), (True, 1e4)]
)
def test_refined_normal_equations_match_gelsd(rng, condition, fit_intercept, offset):
    """Tall full-rank designs: the normal equations, refined, as exact as gelsd.

    Coefficients within κ·eps of LAPACK's gelsd (its forward error is of that
    order too), the residual sum of squares to 1e-9, full rank, the design not
    modified; the singular values, from the Gram matrix, within its documented
    relative error ``2·eps·(1 + log₂ B)·(σ₁/σ_min)²`` (one block of rows here),
    times the rounding factor of uncentred products.
    """
    import scipy.linalg as la

    X, y = _ill_conditioned_design(rng, condition, fit_intercept)
    before = X.copy()
    model = MinNormLeastSquares(fit_intercept=fit_intercept).fit(X, y)
    assert model.solver_ == "gram"
    A = X - X.mean(axis=0) if fit_intercept else X
    b = y - y.mean() if fit_intercept else y
    coef, _, rank, s = la.lstsq(A, b, lapack_driver="gelsd")
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(
        model.coef_, coef, rtol=0, atol=10 * condition * eps * np.abs(coef).max()
    )
    # Uncentred products (means small beside the spread) round like centred
    # data scaled by 1 + n·μ²/C.
    spread = np.sum(A**2, axis=0)
    ratio = np.max(X.shape[0] * X.mean(axis=0) ** 2 / spread)
    # The documented factor, 2(1 + n·μ²/C); 1 when centred before the Gram
    # matrix (means large beside the spread).
    cancellation = 2 * (1 + ratio) if fit_intercept and ratio <= 100 else 1.0
    bound = 2 * eps * cancellation * (s[0] / s[-1]) ** 2 * s
    assert np.all(np.abs(model.singular_values_ - s) <= bound)
    assert model.rank_ == rank == X.shape[1]
    residual = np.sum((b - A @ coef) ** 2)
    np.testing.assert_allclose(model.residual_sum_of_squares_, residual, rtol=1e-9)
    np.testing.assert_array_equal(X, before)


def test_refined_normal_equations_not_certified_fall_back(rng, monkeypatch):
    """One correction cannot reach the accuracy at κ = 6e6 (ρ ≈ 1e-2): the
    a-posteriori check refuses it and CholeskyQR2 gives the exact solution."""
    import scipy.linalg as la

    from sksvd.linalg import _lstsq

    X, y = _ill_conditioned_design(rng, 6e6, True)
    monkeypatch.setattr(_lstsq, "LSTSQ_REFINEMENT_STEPS", 1)
    model = MinNormLeastSquares().fit(X, y)
    assert model.solver_ == "qr"
    A, b = X - X.mean(axis=0), y - y.mean()
    coef, _, _, s = la.lstsq(A, b, lapack_driver="gelsd")
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(
        model.coef_, coef, rtol=0, atol=10 * 6e6 * eps * np.abs(coef).max()
    )
    np.testing.assert_allclose(model.singular_values_, s, rtol=0, atol=20 * eps * s[0])


@pytest.mark.parametrize("condition", [1e3, 1e5, 1e6])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_cholesky_qr_route_matches_truncated_svd(rng, condition, fit_intercept):
    """A truncating ``max_rank`` needs the SVD factors: CholeskyQR2 from the Gram.

    The Gram factors are refused (estimated error above 1e-12) and CholeskyQR2
    from the same Gram matrix runs: the rank-(n − 1) solution within κ·eps of
    the one from LAPACK's SVD, singular values to c·eps·σ₁ (exact, unlike the
    refined normal equations' ones), and the design is not modified.
    """
    import scipy.linalg as la

    X, y = _ill_conditioned_design(rng, condition, fit_intercept)
    n = X.shape[1]
    before = X.copy()
    model = MinNormLeastSquares(fit_intercept=fit_intercept, max_rank=n - 1).fit(X, y)
    assert model.solver_ == "qr"
    A = X - X.mean(axis=0) if fit_intercept else X
    b = y - y.mean() if fit_intercept else y
    U, s, Vt = la.svd(A, full_matrices=False)
    coef = Vt[: n - 1].T @ ((U[:, : n - 1].T @ b) / s[: n - 1])
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(
        model.coef_, coef, rtol=0, atol=10 * condition * eps * np.abs(coef).max()
    )
    np.testing.assert_allclose(model.singular_values_, s, rtol=0, atol=20 * eps * s[0])
    assert model.rank_ == n - 1
    residual = np.sum((b - A @ coef) ** 2)
    np.testing.assert_allclose(model.residual_sum_of_squares_, residual, rtol=1e-9)
    np.testing.assert_array_equal(X, before)


def test_cholesky_qr_route_residual_is_measured_directly(rng):
    # b = A·1 + c·u with u orthogonal to range(A): the residual sum is c².
    from sksvd.linalg import lstsq

    m, n = 40000, 10
    U = np.linalg.qr(rng.standard_normal((m, n + 1)))[0]
    A = U[:, :n] * np.logspace(0, -5, n)
    for c in (1e-3, 1e-2):
        b = U[:, :n] @ np.ones(n) + c * U[:, n]
        _, residues, _, _ = lstsq(A, b)
        np.testing.assert_allclose(residues, c**2, rtol=1e-10)


def test_cholesky_qr_route_keeps_a_tiny_target_beside_a_huge_one(rng):
    import scipy.linalg as la

    from sksvd.linalg import lstsq

    A = rng.standard_normal((20000, 5)) * np.logspace(0, -4, 5)
    b = A @ np.ones(5) + 1e-3 * rng.standard_normal(20000)
    B = np.column_stack([b * 1e150, b * 1e-170])
    x, _, _, _ = lstsq(A, B)
    expected = la.lstsq(A, b, lapack_driver="gelsd")[0]
    np.testing.assert_allclose(x[:, 1] / 1e-170, expected, rtol=1e-9)
    np.testing.assert_allclose(x[:, 0] / 1e150, expected, rtol=1e-9)


def test_subnormal_tall_data_still_factors(rng):
    import scipy.linalg as la

    from sksvd import TruncatedSVDCompressor
    from sksvd.linalg import lstsq, svd

    X = rng.standard_normal((20000, 4)) * [1, 1, 1, 1e-4] * 1e-310
    y = rng.standard_normal(20000) * 1e-300
    expected = la.svdvals(X)
    np.testing.assert_allclose(svd(X).s, expected, rtol=1e-6)
    np.testing.assert_allclose(
        TruncatedSVDCompressor(4).fit(X).singular_values_, expected, rtol=1e-6
    )
    x, _, _, _ = lstsq(X, y)
    assert np.all(np.isfinite(x))
    np.testing.assert_allclose(x, la.lstsq(X, y, lapack_driver="gelsd")[0], rtol=1e-6)


def test_lstsq_singular_values_stay_exact_on_the_gram_route(rng):
    """The function, a drop-in for NumPy's, never takes the refined normal
    equations' Gram singular values: at κ = 1e5 they would be 4e-8 off."""
    import scipy.linalg as la

    from sksvd.linalg import lstsq

    X, y = _ill_conditioned_design(rng, 1e5, False)
    x, _, rank, s = lstsq(X, y)
    reference, _, _, s_lapack = la.lstsq(X, y, lapack_driver="gelsd")
    eps = np.finfo(np.float64).eps
    np.testing.assert_allclose(s, s_lapack, rtol=0, atol=20 * eps * s_lapack[0])
    np.testing.assert_allclose(
        x, reference, rtol=0, atol=10 * 1e5 * eps * np.abs(reference).max()
    )
    assert rank == X.shape[1]


def test_means_that_only_cancel_are_centred_not_sent_to_gelsd(rng):
    """Means of 4 standard deviations subtracted in the Gram matrix multiply its
    error by 1 + n·μ²/C ≈ 17: at κ = 2.5e6 that alone would refuse the route.
    The data are then centred (one copy) and the refined route runs."""
    import scipy.linalg as la

    X, y = _ill_conditioned_design(rng, 2.5e6, False)
    X = X + 4 * X.std(axis=0)
    model = MinNormLeastSquares().fit(X, y)
    assert model.solver_ == "gram"
    A, b = X - X.mean(axis=0), y - y.mean()
    coef = la.lstsq(A, b, lapack_driver="gelsd")[0]
    r = b - A @ coef
    s = la.svdvals(A)
    eps = np.finfo(np.float64).eps
    kappa = s[0] / s[-1]
    norm = np.linalg.norm(coef)
    bound = eps * (kappa + kappa**2 * np.linalg.norm(r) / (s[0] * norm)) * norm
    assert np.linalg.norm(model.coef_ - coef) <= 10 * bound


@pytest.mark.parametrize("weighted", [False, True])
def test_fallback_holds_one_copy_of_the_design(rng, weighted):
    """A rank-deficient design with large means (or weights) leaves the Gram
    route for gelsd: the centred copy the Gram route made is released first,
    so the fit holds one copy of X at a time, not two."""
    import tracemalloc

    m, n = 40_000, 50
    X = rng.standard_normal((m, n)) + 1e4
    X[:, 5] = X[:, 3]
    y = rng.standard_normal(m)
    weights = rng.uniform(0.5, 2, m) if weighted else None
    MinNormLeastSquares().fit(X, y, sample_weight=weights)  # warm
    tracemalloc.start()
    try:
        model = MinNormLeastSquares().fit(X, y, sample_weight=weights)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert model.solver_ == "gelsd" and model.rank_ == n - 1
    assert peak < 1.5 * X.nbytes


@pytest.mark.parametrize("scale", [1e307, 1.5e308])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_targets_near_the_top_of_float64(rng, scale, fit_intercept):
    """A target whose norm overflows is divided by its largest entry, not left
    as it is: coefficients of 2.5e306 were refused as out of range at 1e307,
    and NaN came back at 1.5e308."""
    X = rng.standard_normal((20000, 10))
    y = X @ rng.standard_normal(10) + rng.standard_normal(20000)
    y /= np.abs(y).max()
    reference = MinNormLeastSquares(fit_intercept=fit_intercept).fit(X, y)
    with warnings.catch_warnings():
        # scikit-learn's finiteness check sums y, which overflows.
        warnings.filterwarnings("ignore", "invalid value", RuntimeWarning)
        model = MinNormLeastSquares(fit_intercept=fit_intercept).fit(X, y * scale)
    np.testing.assert_allclose(model.coef_ / scale, reference.coef_, rtol=1e-12)
    assert model.residual_sum_of_squares_ == np.inf  # beyond float64, as documented


@pytest.mark.parametrize("solver", ["qr", "full"])
def test_a_solution_that_overflows_is_an_error_not_nan(rng, solver):
    X = rng.standard_normal((300, 200))
    y = X @ rng.standard_normal(200)
    y /= np.abs(y).max()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "invalid value", RuntimeWarning)
        with pytest.raises(ValueError, match="exceed the range"):
            MinNormLeastSquares(solver=solver).fit(X, y * 1.5e308)


def test_lstsq_refines_a_consistent_well_conditioned_system(rng):
    """y exactly in the range of a κ ≈ 35 design: the Gram route's coefficients,
    unrefined, were 80–190 times a backward-stable solver's error bound
    (eps·κ·‖x‖ for a zero residual); refined, they are within it."""
    import scipy.linalg as la

    from sksvd.linalg import lstsq

    m, n = 10000, 34
    U = np.linalg.qr(rng.standard_normal((m, n)))[0]
    V = np.linalg.qr(rng.standard_normal((n, n)))[0]
    s = np.where(np.arange(n) < n // 2, 1.0, 1 / 35)
    A = (U * s) @ V.T * np.sqrt(rng.uniform(0.1, 10, m))[:, np.newaxis]
    truth = rng.standard_normal(n)
    b = A @ truth
    x = lstsq(A, b)[0]
    # The exact solution of the rounded b: gelsd, then corrections with the
    # residual in extended precision.
    reference = la.lstsq(A, b, lapack_driver="gelsd")[0].astype(np.longdouble)
    for _ in range(3):
        r = b.astype(np.longdouble) - A.astype(np.longdouble) @ reference
        reference += la.lstsq(A, r.astype(np.float64), lapack_driver="gelsd")[0]
    reference = reference.astype(np.float64)
    sv = np.linalg.svd(A, compute_uv=False)
    bound = np.finfo(np.float64).eps * sv[0] / sv[-1] * np.linalg.norm(reference)
    assert np.linalg.norm(x - reference) <= 10 * bound
