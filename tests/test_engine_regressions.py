"""Regression tests for six engine defects, each against an independent reference.

Every reference is NumPy's float64 LAPACK or a closed form, never sksvd's own
output: the PCA tail (noise variance, precision, score, partial_fit), the Gram
guard on many rows, implicit centring of sparse data with a large mean, solvers
refused for inputs they cannot take, the reported solver and LSMR's rcond, and
BLAS thread limits under concurrent fits.
"""

from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import ThreadpoolController, threadpool_info

from sksvd import (
    MinNormLeastSquares,
    MinNormLeastSquaresCV,
    PCAViaSVD,
    TruncatedSVDCompressor,
)
from sksvd.exceptions import ConstantFeatureWarning
from sksvd.linalg import choose_solver, lstsq, svd
from tests.hard_matrices import with_spectrum

EPS = np.finfo(np.float64).eps
EPS32 = float(np.finfo(np.float32).eps)
# What a fit may report as solver_: "auto" resolved, and never "dask" on NumPy
# data. A Lanczos solver may be added by the refactor.
FITTED_SOLVERS = {"full", "qr", "gram", "randomized", "arpack", "propack", "lanczos"}


# 1. PCA tail accuracy ----------------------------------------------------------

K = 3


@pytest.fixture(scope="module")
def low_rank():
    """Rank 3 (σ up to 300) plus noise of 1e-9: seven tail values near 7e-8."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5000, 3)) @ rng.standard_normal((3, 10))
    X = X + 1e-9 * rng.standard_normal((5000, 10))
    n = X.shape[0]
    mean = X.mean(axis=0)
    _, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
    lam = s**2 / (n - 1)
    # A backward-stable SVD is exact for X + E with ‖E‖ ≈ eps·σ₁, which moves a
    # tail value by up to eps·σ₁: eps·σ₁/σ_tail ≈ 1e-6 relative here. Variances
    # are σ², which doubles it, and a further 2 covers the modest constant of
    # the backward-error bound.
    tail_rtol = 4 * EPS * s[0] / s[-1]
    # partial_fit chains three backward-stable steps (the first fit's factor, the
    # QR of the stacked rows with the mean-shift row, the SVD of R): 10× the
    # single-step scale, about 1e-5.
    partial_rtol = 10 * EPS * s[0] / s[-1]
    return SimpleNamespace(
        X=X,
        mean=mean,
        Vt=Vt,
        lam=lam,
        noise=float(np.mean(lam[K:])),
        tail_rtol=tail_rtol,
        partial_rtol=partial_rtol,
    )


def test_reference_tail_is_where_the_tolerances_assume(low_rank):
    # The tolerances below scale with σ₁/σ_tail; this pins that scale, so a
    # change to the data cannot silently make them loose.
    assert 5e-7 < low_rank.tail_rtol < 5e-6
    assert 1e-19 < low_rank.noise < 1e-17


@pytest.mark.parametrize("solver", ["auto", "full", "qr"])
def test_noise_variance_resolves_the_tail(low_rank, solver):
    pca = PCAViaSVD(K, solver=solver).fit(low_rank.X)
    # abs=0: approx's default absolute tolerance, 1e-12, dwarfs a noise of 1e-18.
    assert pca.noise_variance_ == pytest.approx(
        low_rank.noise, rel=low_rank.tail_rtol, abs=0
    )


@pytest.mark.parametrize("solver", ["auto", "full", "qr"])
def test_precision_matches_the_closed_form(low_rank, solver):
    p = low_rank.X.shape[1]
    V = low_rank.Vt[:K].T
    noise = low_rank.noise
    expected = (V * (1 / low_rank.lam[:K] - 1 / noise)) @ V.T + np.eye(p) / noise
    precision = PCAViaSVD(K, solver=solver).fit(low_rank.X).get_precision()
    # Entries are about 1/σ² ≈ 1e18; the part along the principal axes (1/λ ≈
    # 0.1) lies below their resolution, so only the relative Frobenius error
    # means anything. It is the relative error of σ² (axis errors of
    # eps·σ₁/gap ≈ 5e-16 add nothing visible): the noise variance's tolerance.
    error = np.linalg.norm(precision - expected) / np.linalg.norm(expected)
    assert error <= low_rank.tail_rtol


def _ppca_score(ref, X):
    """Mean probabilistic-PCA log-likelihood, with the residual formed directly."""
    p = X.shape[1]
    centred = X - ref.mean
    Vk = ref.Vt[:K]
    z = centred @ Vk.T
    r = centred - z @ Vk
    ll = -0.5 * (
        p * np.log(2 * np.pi)
        + np.sum(np.log(ref.lam[:K]))
        + (p - K) * np.log(ref.noise)
        + np.sum(z**2 / ref.lam[:K], axis=1)
        + np.sum(r**2, axis=1) / ref.noise
    )
    return float(np.mean(ll))


def test_reference_score_agrees_with_its_identity(low_rank):
    # At the fitted spectrum Σ zⱼ²/λⱼ and Σ ‖r‖²/σ² over the samples are exactly
    # k(n − 1) and (p − k)(n − 1), so the mean score is also
    # −½[p·log 2π + Σ log λᵢ + (p − k)·log σ² + p(n − 1)/n]. The direct residual
    # carries rounding eps·‖c‖/‖r‖ ≈ 5e-7 per sample, averaging out to about
    # 1e-10 of the score: 1e-8 checks the reference without being flaky.
    n, p = low_rank.X.shape
    identity = -0.5 * (
        p * np.log(2 * np.pi)
        + np.sum(np.log(low_rank.lam[:K]))
        + (p - K) * np.log(low_rank.noise)
        + p * (n - 1) / n
    )
    direct = _ppca_score(low_rank, low_rank.X)
    assert direct == pytest.approx(identity, rel=1e-8)
    assert direct == pytest.approx(127.75, abs=0.01)


@pytest.mark.parametrize("solver", ["auto", "full", "qr"])
def test_score_matches_the_closed_form(low_rank, solver):
    expected = _ppca_score(low_rank, low_rank.X)
    pca = PCAViaSVD(K, solver=solver).fit(low_rank.X)
    # The training data's mean log-likelihood is stationary in the spectrum and
    # the axes (they maximise it), so their errors enter only squared: about
    # 7·tail_rtol² ≈ 1e-10. Left is the rounding of the residual (see the
    # identity test above); 1e-6 relative leaves a wide margin, while a
    # residual taken as cᵀ(precision)c, with entries of 1e18, is off by tens.
    assert pca.score(low_rank.X) == pytest.approx(expected, rel=1e-6)


def test_partial_fit_continues_a_default_fit(low_rank):
    X = low_rank.X
    pca = PCAViaSVD(K).fit(X[:2500]).partial_fit(X[2500:])
    rtol = low_rank.partial_rtol
    np.testing.assert_allclose(pca.explained_variance_, low_rank.lam[:K], rtol=rtol)
    assert pca.noise_variance_ == pytest.approx(low_rank.noise, rel=rtol, abs=0)

    # Every variance, the tail of about 1e-18 included.
    whole = PCAViaSVD().fit(X[:2500]).partial_fit(X[2500:])
    np.testing.assert_allclose(whole.explained_variance_, low_rank.lam, rtol=rtol)


# 2. The Gram guard on many rows -------------------------------------------------


def _mixed(rng, n_rows, scales, dtype):
    """Gaussian columns scaled to ``scales``, mixed by a random rotation.

    The rotation keeps the singular values (the condition number is about
    max/min of the scales) but makes the Gram matrix far from diagonal: the
    eigenvalues of a nearly diagonal Gram matrix are relatively accurate, which
    would hide the eps·κ² loss the guard is about.
    """
    Q, _ = np.linalg.qr(rng.standard_normal((len(scales), len(scales))))
    A = (rng.standard_normal((n_rows, len(scales))) * scales) @ Q
    return A.astype(dtype)


def _relative_error(s, s_ref):
    return float(np.max(np.abs(np.asarray(s, dtype=np.float64) / s_ref - 1)))


def test_float32_gram_on_many_rows_meets_the_guard_bound():
    rng = np.random.default_rng(0)
    A = _mixed(rng, 2_000_000, [12.0, 4.0, 1.0], np.float32)
    A64 = A.astype(np.float64)  # the same numbers, decomposed in float64
    s_ref = np.linalg.svd(A64, compute_uv=False)
    # eps·κ² ≤ eps^(2/3) while κ ≤ eps^(-1/6) ≈ 14.2 in float32: "auto" may keep
    # a Gram result here, which is what this test is about.
    assert 10 < s_ref[0] / s_ref[-1] < EPS32 ** (-1 / 6)
    # The documented guard bound eps^(2/3) = 2.4e-5. The float64 reference is
    # exact to about eps64·κ ≈ 3e-15, and float32 accuracy (a few eps32, 1e-7
    # to 1e-6) is well inside it.
    bound = EPS32 ** (2 / 3)
    assert _relative_error(svd(A, 3, compute_u=False).s, s_ref) <= bound

    centred = A64 - A64.mean(axis=0)
    s_centred = np.linalg.svd(centred, compute_uv=False)
    del centred
    pca = PCAViaSVD(3).fit(A)
    assert _relative_error(pca.singular_values_, s_centred) <= bound


@pytest.mark.slow
def test_float64_gram_on_many_rows_meets_the_guard_bound():
    rng = np.random.default_rng(0)
    A = _mixed(rng, 4_000_000, [360.0, 60.0, 6.0, 1.0], np.float64)
    s_ref = np.linalg.svd(A, compute_uv=False)
    # κ ≤ eps^(-1/6) ≈ 408 lets "auto" keep the Gram result.
    assert 300 < s_ref[0] / s_ref[-1] < EPS ** (-1 / 6)
    # The documented guard bound eps^(2/3) = 3.7e-11; the LAPACK reference is
    # exact to about eps·κ ≈ 1e-13.
    bound = EPS ** (2 / 3)
    assert _relative_error(svd(A, compute_u=False).s, s_ref) <= bound

    s_centred = np.linalg.svd(A - A.mean(axis=0), compute_uv=False)
    pca = PCAViaSVD().fit(A)
    assert _relative_error(pca.singular_values_, s_centred) <= bound


# 3. Sparse data with a large mean ----------------------------------------------


@pytest.fixture(scope="module")
def large_mean():
    """Every entry 1e12 + noise of standard deviation 1, stored in a CSR matrix.

    Stored values near 1e12 have a resolution of 1.2e-4, and a mean rounded to
    that resolution shifts each eigenvalue by (vᵀδ)², about 1e-9 relative (and
    NumPy's pairwise mean, 17 ulps off on such data, by 1e-6). So the noise is
    quantised to quarters and there are 2048 rows: every partial sum of a
    column is then a multiple of 0.25 below 2^51, hence exact, and so is the
    division by 2048. The mean is exact in any summation order, and the test
    measures the centring, not the rounding of the mean.
    """
    rng = np.random.default_rng(0)
    n, p = 2048, 30
    dense = 1e12 + np.round(4 * rng.standard_normal((n, p))) / 4
    # Sterbenz: values within a factor 2 of 1e12 subtract exactly.
    shifted = dense - 1e12
    mean = shifted.mean(axis=0)
    assert np.array_equal(dense.mean(axis=0) - 1e12, mean)  # the mean is exact
    centred = shifted - mean  # exact too: the data exactly centred
    _, s, Vt = np.linalg.svd(centred, full_matrices=False)
    return SimpleNamespace(
        csr=sp.csr_matrix(dense),
        centred=centred,
        Vt=Vt,
        lam=s**2 / (n - 1),
    )


@pytest.mark.parametrize("solver", ["arpack", "auto"])
def test_sparse_data_with_a_large_mean_is_centred_exactly(large_mean, solver):
    k = 5
    assert large_mean.csr.nnz == np.prod(large_mean.csr.shape)  # all stored
    pca = PCAViaSVD(k, solver=solver, random_state=0).fit(large_mean.csr)
    # The exactly centred matrix is well conditioned (λ from 0.9 to 1.25, the
    # fifth 2% from the sixth): a converged solver on it is good to about 1e-14.
    # Forming X·v − 1(μᵀv) on entries of 1e12 loses 1e-4 absolute, 1e-5 relative.
    np.testing.assert_allclose(pca.explained_variance_, large_mean.lam[:k], rtol=1e-9)

    scores = pca.transform(large_mean.csr)
    expected = large_mean.centred @ large_mean.Vt[:k].T
    signs = np.sign(np.sum(scores * expected, axis=0))
    # Scores are O(4); axis errors of eps·‖X‖/gap ≈ 1e-13 give about 1e-12 in
    # them, while the cancellation of X·W − μ·W on entries of 1e12 gives 1e-3.
    np.testing.assert_allclose(
        scores * signs, expected, rtol=0, atol=1e-8 * np.max(np.abs(expected))
    )


# 4. Solvers that cannot run on the input are refused ---------------------------


@pytest.mark.parametrize(
    "fit",
    [
        pytest.param(lambda X: svd(X, 2, solver="dask"), id="svd"),
        pytest.param(lambda X: PCAViaSVD(2, solver="dask").fit(X), id="PCAViaSVD"),
        pytest.param(
            lambda X: TruncatedSVDCompressor(2, solver="dask").fit(X),
            id="TruncatedSVDCompressor",
        ),
    ],
)
def test_dask_solver_refuses_numpy_input(rng, fit):
    with pytest.raises(ValueError, match="dask"):
        fit(rng.standard_normal((200, 10)))


@pytest.mark.parametrize(
    ("estimator", "solver"),
    [
        (PCAViaSVD, "arpack"),
        (TruncatedSVDCompressor, "propack"),
        (TruncatedSVDCompressor, "arpack"),
    ],
)
def test_in_memory_solvers_refuse_dask_arrays(rng, estimator, solver):
    da = pytest.importorskip("dask.array")
    X = da.from_array(rng.standard_normal((200, 10)), chunks=(50, -1))
    with pytest.raises(ValueError, match=solver):
        estimator(2, solver=solver).fit(X)


# 5. The policy stays public and pure, the fitted solver is reported, rcond -----


def test_choose_solver_is_public_and_pure():
    first = choose_solver((5000, 5000), 10)
    # Other calls in between: a policy with hidden state would drift.
    choose_solver((100_000, 50), 10)
    choose_solver((300, 200), 5)
    assert choose_solver((5000, 5000), 10) == first
    assert isinstance(first, str)
    assert first in FITTED_SOLVERS


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("estimator", [TruncatedSVDCompressor, PCAViaSVD])
def test_fitted_solver_is_reported(rng, estimator, sparse):
    X = rng.standard_normal((300, 20))
    X = sp.csr_matrix(X) if sparse else X
    assert estimator(3).fit(X).solver_ in FITTED_SOLVERS


@pytest.fixture
def sparse_problem(rng):
    """A full-rank, well-conditioned 300 × 20 problem with an intercept."""
    X = rng.standard_normal((300, 20))
    y = X @ rng.standard_normal(20) + 0.1 * rng.standard_normal(300) + 3.0
    return X, y


def test_rcond_is_refused_where_lsmr_cannot_apply_it(sparse_problem):
    X, y = sparse_problem
    with pytest.raises(ValueError, match="rcond"):
        MinNormLeastSquares(rcond=1e-3).fit(sp.csr_matrix(X), y)


def test_sparse_least_squares_matches_lapack(sparse_problem):
    X, y = sparse_problem
    fitted = MinNormLeastSquares().fit(sp.csr_matrix(X), y)
    # The intercept is fitted by centring; LAPACK's least squares on the
    # centred problem is the reference.
    x_mean, y_mean = X.mean(axis=0), y.mean()
    centred = X - x_mean
    assert np.linalg.cond(centred) < 10
    coef = np.linalg.lstsq(centred, y - y_mean, rcond=None)[0]
    intercept = y_mean - x_mean @ coef
    # LSMR stops on a normwise backward error of about 100·eps, so the forward
    # error is about κ·100·eps ≈ 1e-13 at κ < 10; 1e-6 is the brief's LSMR
    # tolerance, a margin for looser stopping rules.
    assert np.linalg.norm(fitted.coef_ - coef) <= 1e-6 * np.linalg.norm(coef)
    assert fitted.intercept_ == pytest.approx(intercept, rel=1e-6)


# 6. Concurrent fits leave BLAS thread limits as they were ----------------------


def _thread_counts():
    return {info["filepath"]: info["num_threads"] for info in threadpool_info()}


def _restore(counts):
    controller = ThreadpoolController()
    for filepath, num_threads in counts.items():
        controller.select(filepath=filepath).limit(limits=num_threads)


def test_concurrent_fits_leave_thread_limits_as_they_were(rng):
    # 200 × 20 is far below the work from which BLAS gets more than one thread,
    # so every fit sets and restores a one-thread limit.
    X = rng.standard_normal((200, 20))
    expected = PCAViaSVD(3).fit(X)
    before = _thread_counts()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            fits = list(pool.map(lambda _: PCAViaSVD(3).fit(X), range(200)))
        after = _thread_counts()
    finally:
        _restore(before)  # never leak a limit into the tests that follow
    assert after == before
    for fit in fits:
        for name in ("components_", "explained_variance_", "singular_values_"):
            np.testing.assert_array_equal(getattr(fit, name), getattr(expected, name))
        assert fit.noise_variance_ == expected.noise_variance_


# 7. Structural zeros of the Gram path are exact, and only those -----------------


def test_gram_keeps_a_varying_column_with_a_large_mean(rng):
    # std 1 beside a mean of 1e12: within n·eps·|μ| at 10⁴ rows, yet it varies.
    X = rng.standard_normal((10_000, 4)) * [3.0, 2.0, 1.5, 1.0]
    X[:, 3] += 1e12
    # Centred exactly (rational mean and differences), then rounded: a mean
    # one ulp of 1e12 off (NumPy's X.mean here) would move the last variance
    # by (1.2e-4)² ≈ 2.4e-8 of itself.
    means = [sum(map(Fraction, column)) / len(column) for column in X.T]
    Z = np.array(
        [
            [float(Fraction(x) - m) for x, m in zip(row, means, strict=True)]
            for row in X.tolist()
        ]
    )
    reference = np.linalg.svd(Z, compute_uv=False) ** 2 / 9_999
    pca = PCAViaSVD().fit(X)
    # The data carry 1e12·eps ≈ 1e-4 absolute rounding in column 3 (variance 1),
    # which XᵀX − n·μμᵀ turns into about 1e-9 relative in its variance.
    np.testing.assert_allclose(pca.explained_variance_, reference, rtol=1e-8)


def test_correlation_keeps_a_tiny_but_varying_feature(rng):
    n, mu = 40, 1e6
    X = rng.standard_normal((n, 3))
    c = rng.standard_normal(n)
    spread = np.sqrt(1.01) * n * mu * np.finfo(np.float64).eps
    X[:, 2] = mu + (c - c.mean()) / c.std(ddof=1) * spread
    auto = PCAViaSVD(matrix="correlation").fit(X)
    full = PCAViaSVD(matrix="correlation", solver="full").fit(X)
    # The third feature's standardisation amplifies its rounding (1e-10 of μ
    # against a spread of 1e-8): agreement to 1e-6 is what the data allow.
    np.testing.assert_allclose(
        auto.explained_variance_, full.explained_variance_, rtol=1e-6
    )


@pytest.mark.parametrize("value", [0.0, 5.3])
def test_constant_column_has_an_exactly_zero_singular_value(rng, value):
    X = rng.standard_normal((200, 6))
    X[:, 2] = value
    pca = PCAViaSVD().fit(X)
    assert pca.solver_ == "gram"  # the constant column does not send it to QR
    assert pca.singular_values_[-1] == 0.0
    np.testing.assert_array_equal(np.abs(pca.components_[-1]), np.eye(6)[2])
    reference = np.linalg.svd(X - X.mean(axis=0), compute_uv=False) ** 2 / 199
    np.testing.assert_allclose(pca.explained_variance_[:5], reference[:5], rtol=1e-12)


@pytest.mark.parametrize("factor", [1e100, 1e-100])
def test_precision_of_huge_and_tiny_data(rng, factor):
    X = rng.standard_normal((300, 6)) * np.arange(1, 7) * factor
    pca = PCAViaSVD(3).fit(X)
    precision = pca.get_precision()
    # The covariance and its inverse are representable (entries near 1e±200);
    # their product is the identity to rounding.
    np.testing.assert_allclose(precision @ pca.get_covariance(), np.eye(6), atol=1e-12)


# 8. Least-squares routes honour rcond and max_rank, at any scale ----------------


@pytest.mark.parametrize("rcond", [1.0, 5.0])
def test_rcond_of_one_or_more_keeps_nothing(rng, rcond):
    # LAPACK's gelsd replaces rcond ≥ 1 by eps; every σ ≤ rcond·σ₁ must go.
    X = rng.standard_normal((100, 20))
    y = rng.standard_normal(100)
    model = MinNormLeastSquares(rcond=rcond).fit(X, y)
    assert model.rank_ == 0
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert lstsq(X, y, rcond=rcond)[2] == 0


def test_rcond_zero_keeps_every_positive_singular_value(rng):
    X = rng.standard_normal((20, 20))
    y = rng.standard_normal(20)
    model = MinNormLeastSquares(rcond=0.0).fit(X, y)
    s = np.linalg.svd(X - X.mean(axis=0), compute_uv=False)
    assert model.rank_ == np.count_nonzero(s > 0)
    assert model.rank_ == np.count_nonzero(model.singular_values_ > model.cutoff_)


def test_sparse_max_rank_one_below_the_short_side_truncates(rng):
    X = sp.random(300, 20, density=0.3, random_state=0, format="csr")
    y = rng.standard_normal(300)
    sparse = MinNormLeastSquares(max_rank=19).fit(X, y)
    dense = MinNormLeastSquares(max_rank=19).fit(X.toarray(), y)
    assert sparse.rank_ == dense.rank_ == 19
    # ARPACK's triplets against LAPACK's: agreement to about 1e-10.
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(
    ("x_factor", "w_factor"), [(1e-18, 1.0), (1e150, 1.0), (1.0, 1e-40), (1.0, 1e300)]
)
def test_lsmr_is_scale_free(rng, x_factor, w_factor):
    X = sp.random(400, 15, density=0.3, random_state=3, format="csr")
    y = rng.standard_normal(400)
    w = rng.uniform(0.5, 2, 400)
    reference = MinNormLeastSquares().fit(X.toarray(), y, sample_weight=w)
    model = MinNormLeastSquares().fit(X * x_factor, y, sample_weight=w * w_factor)
    assert model.solver_ == "lsmr"
    # LSMR stops at atol = btol = 100·eps on a condition number near 10.
    np.testing.assert_allclose(model.coef_ * x_factor, reference.coef_, rtol=1e-9)


def test_sparse_rank_zero_and_zero_design(rng):
    X = sp.random(400, 15, density=0.3, random_state=3, format="csr")
    y = rng.standard_normal(400)
    model = MinNormLeastSquares(max_rank=0).fit(X, y)
    np.testing.assert_array_equal(model.coef_, 0.0)
    assert model.intercept_ == pytest.approx(y.mean(), rel=1e-12)
    zero = MinNormLeastSquares(max_rank=1).fit(sp.csr_matrix((50, 3)), np.ones(50))
    np.testing.assert_array_equal(zero.coef_, 0.0)


def test_gram_route_with_huge_targets(rng):
    X = rng.standard_normal((4000, 5))
    y = (X @ np.arange(1.0, 6.0) + 1.0) * 1e305
    model = MinNormLeastSquares().fit(X, y)
    assert model.solver_ == "gram"
    np.testing.assert_allclose(model.coef_ / 1e305, np.arange(1.0, 6.0), rtol=1e-12)
    assert model.intercept_ / 1e305 == pytest.approx(1.0, rel=1e-12)


def test_float32_coefficients_beyond_float32_are_refused(rng):
    X = rng.standard_normal((200, 5)).astype(np.float32)
    y = X.astype(np.float64) @ np.arange(1.0, 6.0) * 1e150
    with pytest.raises(ValueError, match="exceed the range of float32"):
        MinNormLeastSquares().fit(X, y)


# 9. Constant columns are centred exactly; targets keep their own scale ----------


@pytest.mark.parametrize("value", [3.3e15, 12345.678, 7.77e20, 1e150])
@pytest.mark.parametrize("solver", ["auto", "full"])
def test_constant_feature_with_a_large_value(rng, value, solver):
    X = rng.standard_normal((1000, 6))
    X[:, 1] = value
    pca = PCAViaSVD(solver=solver).fit(X)
    free = np.delete(X, 1, axis=1)
    reference = np.linalg.svd(free - free.mean(axis=0), compute_uv=False) ** 2 / 999
    np.testing.assert_allclose(pca.explained_variance_[:5], reference, rtol=1e-12)
    assert pca.explained_variance_[5] <= 1e-28 * reference[0]
    assert pca.mean_[1] == value
    assert pca.explained_variance_ratio_.sum() == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
def test_constant_feature_gets_no_coefficient(rng, sparse):
    X = np.c_[rng.standard_normal((20, 2)), np.full(20, 12345.678)]
    y = X[:, 0] + 0.1 * rng.standard_normal(20)
    model = MinNormLeastSquares().fit(sp.csr_matrix(X) if sparse else X, y)
    assert model.coef_[2] == 0.0
    free = X[:, :2] - X[:, :2].mean(axis=0)
    coef = np.linalg.lstsq(free, y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(model.coef_[:2], coef, rtol=1e-10)


def test_small_target_beside_a_huge_one(rng):
    X = rng.standard_normal((2000, 5))
    y = X @ [1.0, 2.0, 3.0, 4.0, 5.0] + rng.standard_normal(2000)
    both = MinNormLeastSquares().fit(X, np.c_[y, y * 1e200])
    alone = MinNormLeastSquares().fit(X, y)
    assert both.residual_sum_of_squares_[0] == pytest.approx(
        alone.residual_sum_of_squares_, rel=1e-10
    )
    assert both.residual_sum_of_squares_[1] == np.inf  # 2e3·1e400: beyond float64


def test_lsmr_with_a_target_whose_norm_overflows(rng):
    X = sp.random(60, 8, density=0.5, random_state=0, format="csr")
    # Entries near 1e308 with signs in runs of eight: scikit-learn's finiteness
    # check sums them without overflow (eight interleaved accumulators), while
    # ‖y‖ is beyond float64.
    signs = np.tile(np.repeat([1.0, -1.0], 8), 4)[:60]
    y = signs * rng.uniform(0.5, 1.0, 60) * 1e308
    assert np.sqrt(np.sum((y / 1e300) ** 2)) > np.finfo(np.float64).max / 1e300
    sparse = MinNormLeastSquares().fit(X, y)
    dense = MinNormLeastSquares().fit(X.toarray(), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9)


def test_cv_reports_rank_zero_when_nothing_is_kept(rng):
    X = rng.standard_normal((50, 4))
    model = MinNormLeastSquaresCV(rcond=2.0).fit(X, rng.standard_normal(50))
    assert model.best_rank_ == model.rank_ == 0


# 10. Names and dtypes a scikit-learn user expects ---------------------------------


@pytest.mark.parametrize("whiten", [False, True])
@pytest.mark.parametrize("solver", ["auto", "full", "arpack", "randomized"])
def test_float32_stays_float32(rng, whiten, solver):
    X = rng.standard_normal((200, 30)).astype(np.float32)
    pca = PCAViaSVD(10, whiten=whiten, solver=solver, random_state=0).fit(X)
    Z = pca.transform(X)
    assert Z.dtype == np.float32
    assert pca.inverse_transform(Z).dtype == np.float32
    for name in ("explained_variance_", "explained_variance_ratio_", "var_"):
        assert getattr(pca, name).dtype == np.float32, name
    assert pca.get_covariance().dtype == np.float32


@pytest.mark.parametrize("kind", ["dense", "sparse", "dask"])
def test_compressor_explained_variance_is_truncated_svd_s(rng, kind):
    from sklearn.decomposition import TruncatedSVD

    X = rng.standard_normal((300, 20)) @ rng.standard_normal((20, 20)) + 3.0
    reference = TruncatedSVD(5, algorithm="arpack", random_state=0).fit(X)
    data = X
    if kind == "sparse":
        data = sp.csr_matrix(X)
    elif kind == "dask":
        data = pytest.importorskip("dask.array").from_array(X, chunks=(50, -1))
    ours = TruncatedSVDCompressor(5).fit(data)
    # Both are exact to rounding: variances of the same projections.
    np.testing.assert_allclose(
        ours.explained_variance_, reference.explained_variance_, rtol=1e-10
    )
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, reference.explained_variance_ratio_, rtol=1e-10
    )


def test_pca_var_and_samples_seen_match_incremental_pca(rng):
    from sklearn.decomposition import IncrementalPCA

    X = rng.standard_normal((300, 6)) * [1.0, 2.0, 3.0, 4.0, 5.0, 6.0] + 10.0
    reference = IncrementalPCA(3).fit(X)
    for pca in (
        PCAViaSVD(3).fit(X),
        PCAViaSVD(3).partial_fit(X[:100]).partial_fit(X[100:]),
    ):
        np.testing.assert_allclose(pca.var_, reference.var_, rtol=1e-12)
        assert pca.n_samples_seen_ == reference.n_samples_seen_ == 300


def test_propack_that_cannot_converge_falls_back_to_lapack():
    # Uncorrelated columns scaled to unit variance: both singular values equal.
    X = np.array(
        [[a, b] for a in (1.0, 2.0, 3.0) for b in (1.0, 2.0, 3.0, 4.0)], dtype=float
    )
    for _ in range(5):
        pca = PCAViaSVD(2, solver="propack", matrix="correlation", random_state=0)
        pca.fit(X)
        reference = PCAViaSVD(2, matrix="correlation").fit(X)
        np.testing.assert_allclose(
            pca.explained_variance_, reference.explained_variance_, rtol=1e-12
        )
        assert pca.solver_ in ("propack", "full")


def _duplicated_csr(rng, m=200, n=6, stored=800):
    """A CSR matrix that stores some entries twice (SciPy sums them as the entry)."""
    rows, cols = rng.integers(0, m, stored), rng.integers(0, n, stored)
    values = rng.standard_normal(stored)
    order = np.lexsort((cols, rows))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[order], minlength=m))])
    X = sp.csr_matrix((values[order], cols[order], indptr), shape=(m, n))
    assert not X.has_canonical_format
    return X


@pytest.mark.parametrize(
    "make",
    [
        lambda: PCAViaSVD(3),
        lambda: PCAViaSVD(3, matrix="correlation"),
        lambda: TruncatedSVDCompressor(3),
        lambda: TruncatedSVDCompressor(0.5),
    ],
)
def test_sparse_entries_stored_twice_are_summed(rng, make):
    """Variances and norms read the stored values: an entry stored twice was
    counted as two (a² + b² for (a + b)²), so var_, the correlation scaling
    and the energy ratios were off by up to 8e-2, silently."""
    X = _duplicated_csr(rng)
    before = X.copy()
    summed = X.copy()
    summed.sum_duplicates()
    fitted, reference = make().fit(X), make().fit(summed)
    for name in (
        "singular_values_",
        "explained_variance_",
        "explained_variance_ratio_",
        "var_",
        "scale_",
        "explained_energy_ratio_",
    ):
        if hasattr(reference, name):
            np.testing.assert_allclose(
                getattr(fitted, name), getattr(reference, name), rtol=1e-12, atol=0
            )
    assert not X.has_canonical_format  # the input is left as it was
    np.testing.assert_array_equal(X.data, before.data)


def test_frobenius_norm_of_entries_stored_twice(rng):
    from sksvd.linalg._norms import frobenius_norm

    X = _duplicated_csr(rng)
    np.testing.assert_allclose(
        frobenius_norm(X), np.linalg.norm(X.toarray()), rtol=1e-14
    )


# 12. Every solver at the edges of the dtype's range -----------------------------


@pytest.mark.parametrize(
    ("dtype", "scale"),
    [
        (np.float64, 1e-310),
        (np.float64, 1e300),
        (np.float32, 1e-40),
        (np.float32, 1e30),
    ],
)
def test_randomized_sketch_at_extreme_magnitudes_is_as_exact_as_at_unit_scale(
    dtype, scale
):
    # Subnormal data lost digits in every product of the sketch (54 % off in
    # σ at 1e-44 in float32, 19 % at 1e-310 in float64); it is now sketched
    # divided by its largest magnitude, as the Krylov solvers do. A steep
    # spectrum makes the sketch exact to the dtype: the reference is LAPACK on
    # the same (rounded) entries, in float64.
    rng = np.random.default_rng(0)
    s = np.geomspace(1.0, 1e-6, 10)
    X = (with_spectrum(rng, (300, 80), s) * scale).astype(dtype)
    exact = np.linalg.svd(X.astype(np.float64), compute_uv=False)
    # Values returned as subnormal numbers are rounded to a multiple of the
    # smallest one, as LAPACK's would be in that dtype.
    close = {
        "rtol": 1e-9 if dtype == np.float64 else 1e-4,
        "atol": 2 * float(np.finfo(dtype).smallest_subnormal),
    }
    model = TruncatedSVDCompressor(5, solver="randomized", random_state=0).fit(X)
    np.testing.assert_allclose(model.singular_values_, exact[:5], **close)
    energy = TruncatedSVDCompressor(0.999, solver="randomized", random_state=0).fit(X)
    fractions = np.cumsum((exact / exact[0]) ** 2)
    rank = np.searchsorted(fractions / fractions[-1], 0.999) + 1
    assert energy.n_components_ == rank
    np.testing.assert_allclose(energy.singular_values_, exact[:rank], **close)


@pytest.mark.parametrize(
    "solver",
    ["auto", "full", "gram", "qr", "randomized", "lanczos", "arpack", "propack"],
)
@pytest.mark.parametrize("n_components", [5, 0.5])
def test_singular_values_beyond_float32_are_refused_by_every_solver(
    solver, n_components
):
    # σ₁ ≈ 2e37·(√300 + √40) passes float32's 3.4e38: every solver (and the
    # energy search) refuses it with the same message, where some returned inf
    # and a NaN ratio; scikit-learn's own NaN/inf check, whose sum overflows
    # here, gives no warning either (warnings are errors in the tests).
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((300, 40)) * 2e37).astype(np.float32)
    assert np.linalg.svd(X.astype(np.float64), compute_uv=False)[0] > 3.5e38
    model = TruncatedSVDCompressor(n_components, solver=solver, random_state=0)
    with pytest.raises(ValueError, match="exceed the range of float32"):
        model.fit(X)


def test_compressor_variances_keep_their_value_beyond_float32():
    # Variances of float32 data near 1e30 pass float32's range: they are
    # returned in float64 (as PCAViaSVD returns them), not cast to inf with a
    # warning.
    rng = np.random.default_rng(0)
    X = (rng.standard_normal((400, 30)) * 1e30).astype(np.float32)
    model = TruncatedSVDCompressor(3, solver="full").fit(X)
    scores = X.astype(np.float64) @ model.components_.T.astype(np.float64)
    assert model.explained_variance_.dtype == np.float64
    # Components in float32: the projection's variance agrees to float32's eps.
    np.testing.assert_allclose(model.explained_variance_, scores.var(axis=0), rtol=1e-5)
    assert model.explained_variance_ratio_.dtype == np.float32


def test_compressor_variances_beyond_float64_are_their_ieee_rounding(rng):
    # σ²/n of data near 1e300 is past float64: inf, as documented, with the
    # ratios (formed before squaring) exact and no warning.
    X = rng.standard_normal((200, 30))
    huge = TruncatedSVDCompressor(3, solver="full").fit(X * 1e300)
    unit = TruncatedSVDCompressor(3, solver="full").fit(X)
    assert np.all(huge.explained_variance_ == np.inf)
    np.testing.assert_allclose(
        huge.explained_variance_ratio_, unit.explained_variance_ratio_, rtol=1e-12
    )


@pytest.mark.parametrize("scale", [1e-40, 1e-30, 1e20, 1e30])
@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
@pytest.mark.parametrize("solver", ["auto", "lanczos", "arpack", "randomized"])
def test_sparse_float32_pca_at_extreme_magnitudes(scale, matrix, solver):
    # Implicitly centred sparse float32 data outside [1e-10, 1e10]: ARPACK
    # stopped with "starting vector is zero" (1e-30) or "could not build an
    # Arnoldi factorization" (1e20), and block Lanczos returned values 85 % to
    # 100 % off without a word. The operator's data, mean and column divisors
    # are now brought into range first. The reference is LAPACK on the same
    # float32 entries, centred (and scaled) in float64.
    rng = np.random.default_rng(0)
    A = sp.random(2000, 100, density=0.2, random_state=0, format="csr")
    A.data = rng.standard_normal(A.nnz)
    A = sp.csr_matrix(A @ sp.diags(np.geomspace(1, 1e-2, 100)))
    X = (A * scale).astype(np.float32)
    D = X.toarray().astype(np.float64)
    Z = D - D.mean(axis=0)
    if matrix == "correlation":
        Z = Z / np.linalg.norm(Z, axis=0) * np.sqrt(len(Z) - 1)
    exact = np.linalg.svd(Z, compute_uv=False)[:5]
    model = PCAViaSVD(5, matrix=matrix, solver=solver, n_iter=20, random_state=0).fit(X)
    # float32 Krylov solvers agree to about 1e-7 here (ARPACK to 6e-5); the
    # randomized sketch of the flat correlation spectrum to 9e-4, as at unit
    # scale.
    tolerance = 2e-3 if (solver, matrix) == ("randomized", "correlation") else 1e-4
    np.testing.assert_allclose(model.singular_values_, exact, rtol=tolerance)


def _sparse_normal(shape, density, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(*shape, density=density, random_state=seed, format="csr")
    X.data = rng.standard_normal(X.nnz)
    return X.astype(dtype)


@pytest.mark.parametrize("solver", ["auto", "lanczos", "block_krylov", "randomized"])
@pytest.mark.parametrize(("scale", "weight"), [(1e-25, 1e40), (1e30, 1e-44)])
def test_sparse_float32_with_extreme_weights_and_data(solver, scale, weight):
    # Data and √w far outside float32's safe range, with entries of Z = √w·X
    # near 1e-5 or 1e9: both are brought into range, not the data alone.
    X = (_sparse_normal((1000, 40), 0.2) * scale).astype(np.float32)
    w = np.full(1000, weight)
    exact = np.linalg.svd(
        X.toarray().astype(np.float64) * np.sqrt(weight), compute_uv=False
    )[:3]
    model = TruncatedSVDCompressor(3, solver=solver, random_state=0)
    model.fit(X, sample_weight=w)
    tolerance = 1e-2 if solver == "randomized" else 1e-5
    np.testing.assert_allclose(model.singular_values_, exact, rtol=tolerance)


@pytest.mark.parametrize("solver", ["auto", "lanczos", "block_krylov", "arpack"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_correlation_with_a_constant_feature_beside_tiny_ones(solver, dtype):
    # A constant feature's divisor is 1 while the others' are near 1e-29: the
    # divisors are folded into the data, so the 1 does not set their scale.
    D = _sparse_normal((1500, 30), 0.2, seed=1).toarray()
    D[:, 0] = 1.0
    X = sp.csr_matrix((D * 1e-30).astype(dtype))
    Z = D[:, 1:] - D[:, 1:].mean(axis=0)
    Z = Z / np.linalg.norm(Z, axis=0) * np.sqrt(len(Z) - 1)
    exact = np.linalg.svd(Z, compute_uv=False)[:3]
    model = PCAViaSVD(3, matrix="correlation", solver=solver, random_state=0)
    with pytest.warns(ConstantFeatureWarning):
        model.fit(X)
    rtol = 1e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(model.singular_values_, exact, rtol=rtol)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize(
    "solver", ["auto", "full", "qr", "gram", "randomized", "lanczos", "arpack"]
)
def test_correlation_of_a_float32_feature_whose_norm_passes_float32(sparse, solver):
    # The feature's standard deviation (3.4e38) fits float32, its norm over 50
    # rows does not: the divisors are applied in float64 (the exact solvers
    # zeroed the feature, and the iterative ones recursed without end), and
    # scale_ keeps the value in float64.
    rng = np.random.default_rng(0)
    D = rng.standard_normal((50, 6)).astype(np.float32)
    D[:, 0] = np.where(np.arange(50) % 2, 3.4e38, -3.4e38)
    Z = D.astype(np.float64)
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0, ddof=1)
    exact = np.linalg.svd(Z, compute_uv=False)[:2]
    X = sp.csr_matrix(D) if sparse else D
    if sparse and solver in ("qr", "gram", "full"):
        pytest.skip("densified or refused for centred sparse data")
    model = PCAViaSVD(2, matrix="correlation", solver=solver, random_state=0).fit(X)
    np.testing.assert_allclose(model.singular_values_, exact, rtol=1e-5)
    assert np.isfinite(model.scale_).all() and model.scale_.dtype == np.float64


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("solver", ["auto", "lanczos", "randomized", "block_krylov"])
def test_sparse_correlation_pca_leaves_its_input_alone(fmt, dtype, solver):
    X = _sparse_normal((300, 20), 0.3, dtype).asformat(fmt) * 1e-30
    X = X.astype(dtype)
    before = X.copy()
    PCAViaSVD(3, matrix="correlation", solver=solver, random_state=0).fit(X)
    np.testing.assert_array_equal(X.toarray(), before.toarray())


@pytest.mark.parametrize(
    ("dtype", "scale"), [(np.float32, 1e-30), (np.float32, 1e30), (np.float64, 1e-310)]
)
def test_sparse_gram_at_extreme_magnitudes(dtype, scale):
    # The sparse Gram product ran in float32 (zero at 1e-30, a false overflow
    # at 1e30) and divided float64 data by a subnormal unit (NaN at 1e-310).
    A = _sparse_normal((300, 40), 0.3, seed=1)
    X = (A * scale).astype(dtype)
    exact = np.linalg.svd(X.toarray().astype(np.float64), compute_uv=False)[:2]
    np.testing.assert_allclose(svd(X, 2, solver="gram").s, exact, rtol=1e-5)


def test_float64_singular_values_beyond_range_name_the_right_fix():
    X = np.random.default_rng(0).uniform(0.5, 1, (200, 20)) * 1e307
    for solver in ("full", "gram", "qr"):
        with pytest.raises(ValueError, match="float64.*divide X") as error:
            svd(X, 3, solver=solver)
        assert "pass X as float64" not in str(error.value)


def test_duplicates_that_cancel_are_a_zero_matrix():
    # One entry stored twice, as 1 and −1: the matrix is zero.
    indptr = np.zeros(31, dtype=np.int32)
    indptr[1:] = 2
    X = sp.csr_matrix((np.array([1.0, -1.0]), np.array([0, 0]), indptr), (30, 8))
    assert X.nnz == 2
    for solver in ("auto", "arpack", "lanczos"):
        np.testing.assert_array_equal(svd(X, 1, solver=solver).s, [0.0])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [10, 12, 25])
def test_arpack_never_skips_copies_of_a_repeated_value(seed, k):
    # The singular values of I ⊗ B are B's, each repeated 1000 times. ARPACK
    # (the sparse default) returned some copies of σ₁ and then B's σ₂ in their
    # place: 18 % off without a word. A value it returns twice now hands the
    # call to block Lanczos, which finds every copy. The matrix is too large
    # for the dense fallback (80 million entries).
    B = np.random.default_rng(seed).standard_normal((10, 8))
    X = sp.kron(sp.identity(1000), sp.csr_matrix(B)).tocsr()
    top = np.linalg.svd(B, compute_uv=False)[0]
    model = TruncatedSVDCompressor(k, random_state=seed).fit(X)
    np.testing.assert_allclose(model.singular_values_, top, rtol=1e-12)
    np.testing.assert_allclose(
        svd(X, k, solver="arpack", random_state=seed).s, top, rtol=1e-12
    )


def _offset_collinear(seed, offset, dtype=np.float64, n=200):
    """x₀ = offset + a, x₁ = b, x₂ = x₀ + x₁ exactly (integers a, b < 100)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, n)
    b = rng.integers(0, 100, n)
    X = np.c_[offset + a, b, offset + a + b].astype(dtype)
    assert np.all(X[:, 2] == X[:, 0] + X[:, 1])
    # The centred design, exactly: the offset cancels in integers first.
    centred = np.c_[a, b, a + b].astype(np.float64)
    centred -= centred.mean(axis=0)
    y = b + rng.standard_normal(n)
    return X, y, centred


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("solver", ["auto", "full", "qr"])
def test_collinear_features_with_a_large_offset_keep_their_rank(seed, solver):
    # The mean 1e8 + ā rounds to float64 with an error δ up to 7.5e-9: X − μ kept
    # a rank-one term 1δᵀ with σ near 3e-8, far above the cut-off, so the rank
    # came out 3 and the coefficients 900 % off. Centring twice removes it.
    X, y, centred = _offset_collinear(seed, 1e8)
    exact = np.linalg.lstsq(centred, y - y.mean(), rcond=None)[0]
    model = MinNormLeastSquares(solver=solver).fit(X, y)
    assert model.rank_ == 2
    np.testing.assert_allclose(model.coef_, exact, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        model.singular_values_[:2],
        np.linalg.svd(centred, compute_uv=False)[:2],
        rtol=1e-12,
    )


@pytest.mark.parametrize("solver", ["auto", "full", "qr", "randomized", "arpack"])
@pytest.mark.parametrize("sparse", [False, True])
def test_pca_of_offset_collinear_features_has_a_zero_variance(solver, sparse):
    X, _, centred = _offset_collinear(1, 1e8)
    exact = np.linalg.svd(centred, compute_uv=False)
    if sparse and solver in ("full", "qr"):
        pytest.skip("densified")
    k = 2 if solver in ("randomized", "arpack") else 3
    data = sp.csr_matrix(X) if sparse else X
    model = PCAViaSVD(k, solver=solver, random_state=0).fit(data)
    np.testing.assert_allclose(model.singular_values_[:2], exact[:2], rtol=1e-9)
    if k == 3:
        # Rounding of the centred data: the third value is zero to ~eps·σ₁.
        assert model.singular_values_[2] <= 1e-13 * exact[0]


def test_float32_offset_collinear_least_squares_keeps_its_rank():
    # In float32 the mean is rounded to float32 for the copy (ulp 1e-3 at 1e4).
    X, y, centred = _offset_collinear(2, 1e4, np.float32)
    model = MinNormLeastSquares().fit(X, y)
    assert model.rank_ == 2
    exact = np.linalg.lstsq(centred, y - y.mean(), rcond=None)[0]
    np.testing.assert_allclose(model.coef_, exact, rtol=1e-4, atol=1e-4)


def test_weighted_offset_collinear_least_squares_keeps_its_rank():
    X, y, centred = _offset_collinear(3, 1e8)
    w = np.random.default_rng(3).integers(1, 4, len(y)).astype(float)
    model = MinNormLeastSquares().fit(X, y, sample_weight=w)
    assert model.rank_ == 2
    raw = X - 1e8 * np.array([1.0, 0.0, 1.0])  # exact: integers
    mean = np.average(raw, axis=0, weights=w)
    root = np.sqrt(w)[:, None]
    exact = np.linalg.lstsq(
        (raw - mean) * root, (y - np.average(y, weights=w)) * root[:, 0], rcond=None
    )[0]
    np.testing.assert_allclose(model.coef_, exact, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_offset_collinear_least_squares_at_a_hundred_thousand_rows(weighted):
    # The weighted mean (least squares always passes weights) was one BLAS
    # product over every row: 35 to 97 ulps off near 1e8, beyond what the second
    # centring accepted as rounding, so the spurious rank stayed.
    rng = np.random.default_rng(1)
    n = 100_000
    a = rng.integers(0, 100 * 1024, n) / 1024.0
    b = rng.integers(0, 100, n).astype(float)
    X = np.c_[1e8 + a, b, 1e8 + a + b]
    y = b + rng.standard_normal(n)
    w = rng.integers(1, 4, n).astype(float) if weighted else np.ones(n)
    raw = np.c_[a, b, a + b]
    centred = raw - np.average(raw, axis=0, weights=w)
    root = np.sqrt(w)
    exact = np.linalg.lstsq(
        centred * root[:, None], (y - np.average(y, weights=w)) * root, rcond=None
    )[0]
    model = MinNormLeastSquares().fit(X, y, sample_weight=w if weighted else None)
    assert model.rank_ == 2
    np.testing.assert_allclose(model.coef_, exact, rtol=1e-8, atol=1e-8)
    pca = PCAViaSVD(3, solver="full").fit(X, sample_weight=w if weighted else None)
    assert pca.singular_values_[2] <= 1e-13 * pca.singular_values_[0]


@pytest.mark.parametrize("k", [90, 94, 97, 99])
def test_arpack_values_stand_where_block_lanczos_has_no_room(k):
    # A value found three times with k near min(m, n): block Lanczos cannot
    # take a block as large as the repetition there (or k at all), and
    # ARPACK's correct values were refused with an error.
    d = np.sort(np.random.default_rng(0).uniform(1, 2, 100))[::-1].copy()
    d[:3] = 3.0
    X = sp.csr_matrix((d, (np.arange(100), np.arange(100))), shape=(200_000, 100))
    np.testing.assert_allclose(svd(X, k, random_state=0).s, d[:k], rtol=1e-13)
