"""Every solver of the engine against SciPy's LAPACK SVD and closed forms."""

import tracemalloc

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.utils.extmath import svd_flip

import sksvd.linalg._exact as exact
from sksvd.linalg import choose_solver, svd

SOLVERS = ("auto", "full", "qr", "gram", "randomized", "lanczos", "arpack", "propack")
EXACT = ("full", "qr", "gram")
EPS64 = np.finfo(np.float64).eps


def _reference(X, k):
    """SciPy's LAPACK SVD, signs fixed by scikit-learn's own svd_flip."""
    U, s, Vt = la.svd(np.asarray(X, dtype=np.float64), full_matrices=False)
    U, Vt = svd_flip(U, Vt, u_based_decision=False)
    return U[:, :k], s[:k], Vt[:k]


def _with_spectrum(rng, shape, s):
    """A matrix with singular values ``s`` and random singular vectors."""
    m, n = shape
    U, _ = la.qr(rng.standard_normal((m, len(s))), mode="economic")
    V, _ = la.qr(rng.standard_normal((n, len(s))), mode="economic")
    return (U * s) @ V.T


@pytest.mark.parametrize("shape", [(60, 20), (20, 60), (40, 40), (200, 10)])
@pytest.mark.parametrize(
    "solver", ["full", "qr", "gram", "lanczos", "arpack", "propack", "auto"]
)
def test_leading_triplets_match_lapack(rng, shape, solver):
    # Singular values spread over [1, 10]: well conditioned and well separated, so
    # singular vectors are determined to working precision too.
    k = 5
    s_true = np.linspace(10, 1, min(shape))
    X = _with_spectrum(rng, shape, s_true)
    U, s, Vt = svd(X, k, solver=solver, random_state=0)
    U_ref, s_ref, Vt_ref = _reference(X, k)
    np.testing.assert_allclose(s, s_ref, rtol=1e-10)
    np.testing.assert_allclose(Vt, Vt_ref, atol=1e-8)
    np.testing.assert_allclose(U, U_ref, atol=1e-8)


@pytest.mark.parametrize("solver", EXACT)
@pytest.mark.parametrize("shape", [(60, 20), (20, 60), (30, 30)])
def test_exact_solvers_return_the_whole_spectrum(rng, shape, solver):
    X = _with_spectrum(rng, shape, np.geomspace(10, 1, min(shape)))
    U, s, Vt = svd(X, solver=solver)
    assert s.shape == (min(shape),)
    np.testing.assert_allclose(s, la.svdvals(X), rtol=1e-10)
    np.testing.assert_allclose((U * s) @ Vt, X, atol=1e-12 * s[0])
    np.testing.assert_allclose(U.T @ U, np.eye(s.size), atol=1e-12)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(s.size), atol=1e-12)


@pytest.mark.parametrize(
    "solver", ["full", "qr", "gram", "randomized", "lanczos", "arpack", "propack"]
)
@pytest.mark.parametrize("shape", [(50, 30), (30, 50)])
def test_rank_deficient_input(rng, shape, solver):
    rank = 5
    X = rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, shape[1]))
    k = 8
    U, s, Vt = svd(X, k, solver=solver, random_state=0)
    s_ref = la.svdvals(X)[:k]
    # Backward-stable solvers get every singular value to c·eps·σ₁ in absolute
    # terms (the zero ones included). Gram gets the nonzero ones to relative
    # accuracy, and the zero ones only to √(max(m, n)·eps)·σ₁: forming XᵀX leaves
    # an absolute error of about max(m, n)·eps·σ₁² in its eigenvalues.
    np.testing.assert_allclose(s[:rank], s_ref[:rank], rtol=1e-10)
    gram_floor = np.sqrt(max(shape) * EPS64)
    zero_tol = (gram_floor if solver == "gram" else 100 * EPS64) * s_ref[0]
    assert np.all(s[rank:] <= zero_tol)
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=1e-10)
    np.testing.assert_allclose((U * s) @ Vt, X, atol=1e-6 * s_ref[0])


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("shape", [(60, 20), (20, 60)])
def test_float32_stays_float32_and_matches_float64(rng, shape, solver):
    X = _with_spectrum(rng, shape, np.linspace(10, 1, min(shape)))
    U, s, Vt = svd(X.astype(np.float32), 5, solver=solver, random_state=0, n_iter=10)
    assert U.dtype == s.dtype == Vt.dtype == np.float32
    _, s_ref, Vt_ref = _reference(X, 5)
    # float32 eps is 1.2e-7; Gram squares a condition number of 10.
    np.testing.assert_allclose(s, s_ref, rtol=1e-4)
    np.testing.assert_allclose(Vt, Vt_ref, atol=1e-3)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_matches_dense(rng, solver, fmt):
    dense = sp.random(80, 40, density=0.3, random_state=rng, format="array")
    dense[:, :3] += 5 * rng.standard_normal((80, 1))  # a dominant direction
    X = sp.csr_matrix(dense).asformat(fmt)
    k = 3
    _, s_ref, Vt_ref = _reference(dense, k)
    U, s, Vt = svd(X, k, solver=solver, random_state=0, n_iter=10)
    rtol = 1e-3 if solver == "randomized" else 1e-10
    np.testing.assert_allclose(s, s_ref, rtol=rtol)
    assert isinstance(U, np.ndarray) and isinstance(Vt, np.ndarray)


def test_signs_follow_scikit_learn_rule(rng):
    X = rng.standard_normal((30, 12))
    _, _, Vt = svd(X)
    largest = np.abs(Vt).argmax(axis=1)
    assert np.all(Vt[np.arange(Vt.shape[0]), largest] > 0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_compute_u_false_returns_no_u_and_same_factors(rng, solver):
    X = _with_spectrum(rng, (120, 30), np.geomspace(100, 1, 30))
    with_u = svd(X, 4, solver=solver, random_state=0)
    without_u = svd(X, 4, solver=solver, random_state=0, compute_u=False)
    assert without_u.U is None
    np.testing.assert_allclose(without_u.s, with_u.s, rtol=1e-10)
    np.testing.assert_allclose(np.abs(without_u.Vt), np.abs(with_u.Vt), atol=1e-8)


@pytest.mark.parametrize("solver", ["full", "qr", "gram"])
def test_compute_u_false_does_not_form_u(rng, solver):
    X = rng.standard_normal((40_000, 40))

    def peak(compute_u):
        tracemalloc.start()
        svd(X, solver=solver, compute_u=compute_u)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    # U of tall data has the size of X; without it the solvers allocate at most one
    # working copy of X (QR) or n × n matrices (Gram).
    assert peak(False) <= 1.05 * X.nbytes
    assert peak(False) <= peak(True) - 0.9 * X.nbytes


def test_gesdd_failure_falls_back_to_gesvd(rng, monkeypatch):
    original = la.svd
    drivers = []

    def gesdd_fails(a, *args, lapack_driver="gesdd", **kwargs):
        drivers.append(lapack_driver)
        if lapack_driver == "gesdd":
            raise la.LinAlgError("SVD did not converge")
        return original(a, *args, lapack_driver=lapack_driver, **kwargs)

    def numpy_gesdd_fails(*args, **kwargs):
        drivers.append("numpy gesdd")
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(exact.la, "svd", gesdd_fails)
    monkeypatch.setattr(exact.np.linalg, "svd", numpy_gesdd_fails)
    X = rng.standard_normal((20, 10))
    # LAPACK's SVD of the data is SciPy's; that of a small sketch, NumPy's
    # (beside NumPy's products). Either falls back to gesvd.
    _, s, _ = svd(X, solver="full")
    assert drivers == ["gesdd", "gesvd"]
    drivers.clear()
    _, s_r, _ = exact.numpy_svd(X)
    assert drivers == ["numpy gesdd", "gesvd"]
    monkeypatch.undo()
    np.testing.assert_allclose(s, la.svdvals(X), rtol=1e-12)
    np.testing.assert_allclose(s_r, la.svdvals(X), rtol=1e-12)


def test_numpy_svd_refuses_a_matrix_that_overflowed():
    # A sketch of data near float32's top overflows on the way; NumPy's gesdd
    # would return NaN values, and the message says why instead.
    B = np.array([[np.inf, 1.0], [1.0, 2.0]], dtype=np.float32)
    with np.errstate(invalid="ignore"), pytest.raises(ValueError, match="overflowed"):
        exact.numpy_svd(B)


def _lauchli(n, mu, extra_rows):
    """Läuchli's matrix [1ᵀ; μI] padded with zero rows: σ = √(n + μ²), then μ."""
    return np.vstack([np.ones((1, n)), mu * np.eye(n), np.zeros((extra_rows, n))])


def test_auto_refuses_gram_on_lauchli_matrix():
    n, mu = 8, 1e-6
    X = _lauchli(n, mu, extra_rows=4 * n)
    assert choose_solver(X.shape, n) == "gram"  # tall enough to be tempting
    s_true = np.array([np.sqrt(n + mu**2)] + [mu] * (n - 1))
    auto = svd(X, solver="auto")
    assert auto.solver == "qr"  # the guard rejected Gram
    s_auto = auto.s
    _, s_gram, _ = svd(X, solver="gram")
    # QR gets σ = μ to absolute accuracy c·eps·σ₁, i.e. relative 1e-9 here...
    np.testing.assert_allclose(s_auto, s_true, rtol=1e-8)
    # ...while squaring puts μ² = 1e-12 next to 1 + μ² and loses digits.
    assert np.max(np.abs(s_gram[1:] - mu) / mu) > 1e-5


def test_auto_keeps_gram_when_accurate(rng):
    X = _with_spectrum(rng, (400, 20), np.linspace(10, 1, 20))
    result = svd(X, 5)
    assert result.solver == "gram"  # the guard kept it
    np.testing.assert_allclose(result.s, la.svdvals(X)[:5], rtol=1e-10)


@pytest.mark.parametrize("shape", [(300, 200), (200, 300)])
def test_randomized_is_repeatable_and_accurate_on_decaying_spectrum(rng, shape):
    X = _with_spectrum(rng, shape, 0.7 ** np.arange(min(shape)))
    first = svd(X, 10, solver="randomized", random_state=3)
    second = svd(X, 10, solver="randomized", random_state=3)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(first.s, la.svdvals(X)[:10], rtol=1e-8)


def test_randomized_reaches_optimal_frobenius_error(rng):
    # Slowly decaying spectrum (σᵢ = 1/i): the hard case for sketching.
    s_true = 1.0 / np.arange(1, 301)
    X = _with_spectrum(rng, (500, 300), s_true)
    k = 20
    U, s, Vt = svd(X, k, solver="randomized", random_state=0)
    error = np.linalg.norm(X - (U * s) @ Vt)
    optimal = np.linalg.norm(s_true[k:])
    assert optimal <= error <= 1.01 * optimal


def test_krylov_solvers_need_n_components(rng):
    with pytest.raises(ValueError, match="pass an integer n_components"):
        svd(rng.standard_normal((10, 5)), solver="arpack")


@pytest.mark.parametrize(
    ("n_components", "solver", "message"),
    [
        (6, "full", r"n_components=6 must be between 1 and .*=5"),
        (5, "arpack", r"too large for solver='arpack'.* 4 components"),
    ],
)
def test_too_many_components_is_a_clear_error(rng, n_components, solver, message):
    with pytest.raises(ValueError, match=message):
        svd(rng.standard_normal((10, 5)), n_components, solver=solver)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"solver": "lapack"}, "solver"),
        ({"n_components": 0}, "n_components"),
        ({"n_iter": -1}, "n_iter"),
        ({"n_oversamples": 1.5}, "n_oversamples"),
    ],
)
def test_invalid_parameters(rng, kwargs, message):
    with pytest.raises(ValueError, match=message):
        svd(rng.standard_normal((10, 5)), **kwargs)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_is_rejected(bad):
    X = np.ones((5, 3))
    X[1, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        svd(X)


@pytest.mark.parametrize(
    ("shape", "n_components", "sparse", "expected"),
    [
        ((300, 200), 5, True, "arpack"),
        ((300, 200), 200, True, "full"),
        ((3000, 2000), 50, False, "lanczos"),
        ((150, 100), 5, False, "full"),
        ((3000, 2000), 1000, False, "full"),
        ((100_000, 50), 10, False, "gram"),
        ((50, 100_000), None, False, "gram"),
        ((300, 200), 5, False, "lanczos"),
        ((300, 200), 50, False, "full"),
    ],
)
def test_auto_policy_table(shape, n_components, sparse, expected):
    assert choose_solver(shape, n_components, sparse=sparse) == expected


@pytest.mark.parametrize("solver", ["auto", "lanczos", "arpack"])
def test_krylov_solvers_are_accurate_on_a_steep_spectrum(rng, solver):
    # σ₃₀/σ₁ = 1.2e-3: plain ARPACK (Lanczos on XᵀX) would carry eps·(σ₁/σ₃₀)² =
    # 1.5e-10; SciPy's Rayleigh–Ritz step on X brings it to about eps·σ₁, and
    # block Lanczos never squares.
    X = _with_spectrum(rng, (300, 300), np.geomspace(1, 1e-30, 300))
    assert choose_solver(X.shape, 30) == "lanczos"
    U, s, Vt = svd(X, 30, solver=solver)
    assert svd(X, 30, solver=solver).solver == (
        "lanczos" if solver == "auto" else solver
    )
    s_ref = la.svdvals(X)[:30]
    assert np.max(np.abs(s - s_ref)) <= 100 * EPS64 * s_ref[0]
    np.testing.assert_allclose(U.T @ U, np.eye(30), atol=1e-12)
    np.testing.assert_allclose((X @ Vt.T), U * s, atol=1e-12)


def test_auto_policy_for_an_energy_target():
    assert choose_solver((5000, 2000), sparse=True, energy=True) == "randomized"
    assert choose_solver((5000, 2000), energy=True) == "randomized"
    assert choose_solver((500, 20), energy=True) == "full"
    assert choose_solver((500, 20), sparse=True, energy=True) == "full"


@settings(max_examples=60, deadline=None)
@given(
    X=st.integers(1, 12).flatmap(
        lambda m: st.integers(1, 12).flatmap(
            lambda n: arrays(
                np.float64,
                (m, n),
                elements=st.floats(-1e3, 1e3, allow_subnormal=False),
            )
        )
    ),
    solver=st.sampled_from(["full", "qr"]),
)
def test_backward_stable_solvers_reconstruct_any_matrix(X, solver):
    U, s, Vt = svd(X, solver=solver)
    scale = max(np.linalg.norm(X), 1.0)
    k = min(X.shape)
    assert np.all(np.diff(s) <= 0) and np.all(s >= 0)
    np.testing.assert_allclose((U * s) @ Vt, X, atol=1e3 * EPS64 * scale)
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=1e3 * EPS64)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(k), atol=1e3 * EPS64)


@pytest.mark.parametrize("magnitude", [1e160, 1e-160, 1e-200, 1e200])
@pytest.mark.parametrize("solver", ["auto", "gram", "full", "qr"])
def test_huge_and_tiny_magnitudes(rng, magnitude, solver):
    # Squaring 1e160 overflows and 1e-160 underflows: the Gram path rescales.
    X = rng.standard_normal((200, 10))
    _, s, _ = svd(X * magnitude, 3, solver=solver)
    np.testing.assert_allclose(s / magnitude, la.svdvals(X)[:3], rtol=1e-12)


def test_float32_gram_does_not_overflow(rng):
    X = rng.standard_normal((200, 10))
    _, s, _ = svd((X * 1e20).astype(np.float32), 3, solver="gram")
    np.testing.assert_allclose(s / 1e20, la.svdvals(X)[:3], rtol=1e-5)


@pytest.mark.parametrize("solver", ["gram", "auto"])
def test_gram_guard_on_a_condition_number_whose_square_overflows(solver):
    # κ = 1.8e154: the guard's estimate eps·κ² is infinite, not an overflow warning,
    # and "auto" falls back to an exact solver.
    X = np.array([[18.0, 1e-153], [1e-153, 1e-153]])
    _, s, _ = svd(X, solver=solver)
    np.testing.assert_allclose(s[0], la.svdvals(X)[0], rtol=1e-15)
    if solver == "auto":
        np.testing.assert_allclose(s, la.svdvals(X), rtol=1e-12)


@pytest.mark.parametrize("magnitude", [1e-200, 1e-160, 1e200])
@pytest.mark.parametrize("solver", ["auto", "lanczos", "arpack"])
def test_krylov_path_on_huge_and_tiny_data(rng, magnitude, solver):
    X = rng.standard_normal((300, 250))
    assert choose_solver(X.shape, 5) == "lanczos"
    _, s, _ = svd(X * magnitude, 5, solver=solver, random_state=0)
    np.testing.assert_allclose(s / magnitude, la.svdvals(X)[:5], rtol=1e-12)


@pytest.mark.parametrize("solver", ["auto", "lanczos", "arpack", "propack"])
def test_krylov_path_on_a_zero_matrix(solver):
    U, s, Vt = svd(np.zeros((300, 250)), 3, solver=solver, random_state=0)
    np.testing.assert_array_equal(s, 0.0)
    np.testing.assert_allclose(U.T @ U, np.eye(3))
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(3))


@pytest.mark.parametrize("condition", [1e3, 1e4, 1e6, 1e9])
@pytest.mark.parametrize("compute_u", [False, True])
def test_cholesky_qr_after_a_rejected_gram_is_as_exact_as_householder(
    rng, condition, compute_u, monkeypatch
):
    """Tall data the Gram guard rejects: CholeskyQR2 from the same Gram matrix.

    Singular values to ``c·eps·σ₁`` absolute and factors orthonormal to working
    precision, as LAPACK's; with κ = 1e9 the Gram matrix's error estimate is
    beyond CHOLESKY_QR_TOLERANCE and Householder QR runs instead.
    """
    calls = []

    def spy(original):
        def spied(*args):
            result = original(*args)
            calls.append(result is not None)
            return result

        return spied

    # With U: from a copy of the data; without: by blocks of rows, no copy.
    for name in ("cholesky_qr_svd", "cholesky_qr_values"):
        spied = spy(getattr(exact, name))
        monkeypatch.setattr(f"sksvd.linalg._decompose.{name}", spied)
    s_true = np.logspace(0, -np.log10(condition), 12) * 1e3
    X = _with_spectrum(rng, (5000, 12), s_true) + 7.0  # a shift: means to remove
    before = X.copy()
    mean = X.mean(axis=0)
    result = svd(X - mean, 12, compute_u=compute_u)
    assert result.solver == "qr"  # the guard rejected Gram
    assert calls == ([] if condition > 1e6 else [True])
    _, s_ref, Vt_ref = _reference(X - mean, 12)
    np.testing.assert_allclose(result.s, s_ref, rtol=0, atol=20 * EPS64 * s_ref[0])
    # Right vectors of well-separated values: angles of eps·σ₁/gap.
    gaps = np.minimum(
        np.abs(np.diff(s_ref, prepend=np.inf)), np.abs(np.diff(s_ref, append=0))
    )
    angle = np.abs(np.abs(np.sum(result.Vt * Vt_ref, axis=1)) - 1)
    assert np.all(angle <= 100 * EPS64 * s_ref[0] / gaps)
    if compute_u:
        U = result.U
        np.testing.assert_allclose(U.T @ U, np.eye(12), atol=50 * EPS64)
        residual = (X - mean) - (U * result.s) @ result.Vt
        assert np.linalg.norm(residual) <= 50 * EPS64 * s_ref[0]
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("matrix", ["covariance", "correlation"])
def test_pca_of_correlated_tall_data_takes_cholesky_qr(
    rng, monkeypatch, matrix, weighted
):
    import tracemalloc

    import sksvd.linalg._gram as gram_module
    from sksvd import PCAViaSVD

    # Blocks of 1000 rows: the blocked CholeskyQR2 sums 20 of them pairwise.
    monkeypatch.setattr(gram_module, "GRAM_BLOCK_ROWS", 1000)
    mixing = np.linalg.qr(rng.standard_normal((30, 30)))[0]
    X = rng.standard_normal((20000, 30)) * np.logspace(0, -3, 30) @ mixing + 5
    before = X.copy()
    weights = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    tracemalloc.start()
    try:
        pca = PCAViaSVD(matrix=matrix).fit(X, sample_weight=weights)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert pca.solver_ == "qr"
    # No copy of X: Q₁ is formed block by block (one block is 240 kB).
    assert peak < X.nbytes / 4
    np.testing.assert_array_equal(X, before)
    w = np.ones(X.shape[0]) if weights is None else weights
    mean = np.average(X, axis=0, weights=w)
    Z = (X - mean) * np.sqrt(w)[:, None]
    if matrix == "correlation":
        Z = Z / np.sqrt(np.sum(Z**2, axis=0) / (w.sum() - 1))
    _, s, Vt = la.svd(Z, full_matrices=False)
    np.testing.assert_allclose(pca.singular_values_, s, rtol=0, atol=20 * EPS64 * s[0])
    # Right vectors of well-separated values: angles of eps·σ₁/gap.
    gaps = np.minimum(np.abs(np.diff(s, prepend=np.inf)), np.abs(np.diff(s, append=0)))
    angle = np.abs(np.abs(np.sum(pca.components_ * Vt, axis=1)) - 1)
    assert np.all(angle <= 100 * EPS64 * s[0] / gaps)


def test_float32_singular_values_beyond_range_are_refused_on_the_gram_route(rng):
    from sksvd import PCAViaSVD, TruncatedSVDCompressor

    X = rng.standard_normal((2000, 10)).astype(np.float32)
    one_heavy = np.ones(2000)
    one_heavy[0] = 1e80  # √w·x beyond float32's largest number
    all_heavy = np.full(2000, 1e80)  # the weighted σ too (PCA's variances fit)
    for estimator, weights in (
        (TruncatedSVDCompressor(3, solver="gram"), one_heavy),
        (PCAViaSVD(3), all_heavy),
    ):
        with pytest.raises(ValueError, match="exceed the range of float32"):
            estimator.fit(X, sample_weight=weights)
