"""Block Krylov (``solver="block_krylov"``, ``tol``) against LAPACK: the documented
accuracy contract on steep, flat and rank-deficient spectra, sparse, wide, implicitly
centred and float32 input, and its hand-over when the basis limit is reached."""

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp
from scipy.sparse.linalg import svds
from sklearn.utils._param_validation import InvalidParameterError

import sksvd.linalg._block_krylov as block_module
from sksvd import PCAViaSVD, TruncatedSVDCompressor
from sksvd.linalg import choose_solver, svd
from sksvd.linalg._block_krylov import BlockKrylovConvergenceError, block_krylov_svd
from tests.hard_matrices import with_spectrum

EPS64 = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps


def _check_contract(X, result, k, tol, eps=EPS64):
    """What the docstring promises, checked against LAPACK in float64.

    Each σ̂ᵢ is at most σᵢ (Rayleigh–Ritz; a few eps of rounding allowed) and
    within ``max(tol·σ̂ᵢ, 64·eps·σ̂₁²/σ̂ᵢ)`` of some singular value of X; the
    residual ``‖XᵀXv − σ̂²v‖``, recomputed here, meets the stopping test up to
    the rounding of forming v (a few eps·σ₁²); the factors are orthonormal and
    ``X V = U Σ``.
    """
    U, s, Vt = result
    A = np.asarray(X.toarray() if sp.issparse(X) else X, dtype=np.float64)
    every = la.svdvals(A)
    top = every[0]
    assert s.shape == (k,) and np.all(np.diff(s) <= 0)
    # ‖X v‖ and LAPACK's values each carry a few eps·σ₁ (14 measured).
    assert np.all(s <= every[:k] + 32 * eps * top)
    allowed = np.maximum(tol * s, 64 * eps * top**2 / np.maximum(s, 1e-300))
    nearest = np.min(np.abs(s[:, None] - every[None, :]), axis=1)
    assert np.all(nearest <= 1.01 * allowed + 8 * eps * top)
    V = Vt.T.astype(np.float64)
    residual = np.linalg.norm(A.T @ (A @ V) - V * s.astype(np.float64) ** 2, axis=0)
    target = np.maximum(tol * s.astype(np.float64) ** 2, 64 * eps * top**2)
    assert np.all(residual <= 1.01 * target + 16 * eps * top**2)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(k), atol=100 * eps)
    if U is not None:
        np.testing.assert_allclose(U.T @ U, np.eye(k), atol=100 * eps)
        forward = np.linalg.norm(A @ V - U * s, axis=0)
        # Tall X: U is X V / σ̂ exactly; wide X is factored as Xᵀ, where
        # X v = σ̂ u holds to the stopping test.
        assert np.max(forward) <= max(tol, 64 * eps) * top * 2 + 16 * eps * top


@pytest.mark.parametrize("tol", [1e-1, 1e-2, 1e-4, 1e-8])
@pytest.mark.parametrize("shape", [(3000, 600), (600, 3000)])
def test_flat_sparse_spectrum_meets_the_contract(shape, tol):
    X = sp.random(*shape, density=0.01, format="csr", random_state=0)
    result = svd(X, 10, solver="block_krylov", tol=tol, random_state=0)
    assert result.solver == "block_krylov"
    _check_contract(X, result, 10, tol)


@pytest.mark.parametrize("tol", [1e-2, 1e-6, 0.0])
def test_steep_spectrum_meets_the_contract(rng, tol):
    s_true = np.geomspace(1.0, 1e-6, 300)
    X = with_spectrum(rng, (1200, 300), s_true)
    result = svd(X, 12, solver="block_krylov", tol=tol, random_state=0)
    _check_contract(X, result, 12, tol)


def test_tol_zero_is_as_accurate_as_the_squared_operator_allows(rng):
    # σ₁/σₖ = 100: the squaring's rounding in σₖ is about eps·10⁴ relative.
    s_true = np.linspace(100.0, 1.0, 200)
    X = with_spectrum(rng, (2000, 200), s_true)
    for compute_u in (True, False):
        result = svd(X, 8, solver="block_krylov", compute_u=compute_u, random_state=0)
        reference = la.svdvals(X)[:8]
        bound = 64 * EPS64 * (reference[0] / reference) ** 2 + 8 * EPS64
        assert np.all(np.abs(result.s / reference - 1) <= bound)


def test_error_to_each_singular_value_on_a_flat_spectrum(rng):
    # The documented measurement: on a flat spectrum (a uniform random sparse
    # matrix, whose leading values sit within a few % of each other) the
    # error to σᵢ itself stays within about 1.7·tol.
    X = sp.random(20_000, 4000, density=0.002, format="csr", random_state=1)
    # SciPy's ARPACK, finished by its Rayleigh–Ritz step on X: eps·σ₁-exact.
    reference = np.sort(svds(X, 20, tol=0, random_state=0)[1])[::-1]
    for tol in (1e-1, 3e-2, 1e-2):
        s = svd(X, 20, solver="block_krylov", tol=tol, random_state=0).s
        assert np.max(np.abs(s / reference - 1)) <= 1.7 * tol
        assert np.all(s <= reference + 32 * EPS64 * reference[0])


def test_rank_deficient_and_zero_matrices(rng):
    X = sp.csr_matrix(with_spectrum(rng, (500, 300), [5.0, 4.0, 3.0]))
    result = svd(X, 6, solver="block_krylov", tol=1e-6, random_state=0)
    np.testing.assert_allclose(result.s[:3], [5.0, 4.0, 3.0], rtol=1e-12)
    assert np.all(result.s[3:] <= 1e-6)
    np.testing.assert_allclose(result.U.T @ result.U, np.eye(6), atol=1e-12)
    np.testing.assert_allclose(result.Vt @ result.Vt.T, np.eye(6), atol=1e-12)
    zero = svd(sp.csr_matrix((400, 200)), 5, solver="block_krylov", tol=1e-2)
    assert np.all(zero.s == 0)
    # An invariant subspace: the Krylov space of a diagonal matrix with three
    # distinct values closes after one block and is continued with fresh
    # directions.
    D = sp.diags(np.repeat([3.0, 2.0, 1.0], 100)).tocsr()
    result = svd(D, 5, solver="block_krylov", tol=1e-10, random_state=0)
    np.testing.assert_allclose(result.s, [3.0] * 5, rtol=1e-12)


def test_float32_stays_float32_and_meets_its_own_rounding(rng):
    X = sp.random(2000, 500, density=0.02, format="csr", random_state=3)
    X32 = X.astype(np.float32)
    result = svd(X32, 5, solver="block_krylov", tol=1e-3, random_state=0)
    assert result.s.dtype == np.float32 and result.Vt.dtype == np.float32
    assert result.U.dtype == np.float32
    _check_contract(X32, result, 5, 1e-3, eps=EPS32)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_extreme_magnitudes_are_rescaled(scale):
    X = sp.random(1000, 300, density=0.02, format="csr", random_state=4)
    base = svd(X, 5, solver="block_krylov", tol=1e-8, random_state=0).s
    scaled = svd(X * scale, 5, solver="block_krylov", tol=1e-8, random_state=0).s
    assert np.all(np.isfinite(scaled))
    np.testing.assert_allclose(scaled / scale, base, rtol=1e-12)


def test_input_is_not_modified():
    X = sp.random(800, 300, density=0.02, format="csr", random_state=5)
    copy = X.copy()
    svd(X, 5, solver="block_krylov", tol=1e-2, random_state=0)
    assert (X != copy).nnz == 0


def test_implicitly_centred_sparse_pca_matches_dense_pca():
    X = sp.random(3000, 400, density=0.02, format="csr", random_state=6)
    pca = PCAViaSVD(5, solver="block_krylov", random_state=0).fit(X)
    reference = PCAViaSVD(5, solver="full").fit(X.toarray())
    assert pca.solver_ == "block_krylov"
    # tol = 0 for PCA: σᵢ to about 64·eps·(σ₁/σᵢ)²; the variances square it.
    np.testing.assert_allclose(
        pca.explained_variance_, reference.explained_variance_, rtol=1e-10
    )
    overlap = np.abs(np.sum(pca.components_ * reference.components_, axis=1))
    np.testing.assert_allclose(overlap, 1.0, atol=1e-6)


def test_basis_limit_hands_over_to_arpack(monkeypatch):
    X = sp.random(6000, 3000, density=0.003, format="csr", random_state=7)
    monkeypatch.setattr(block_module, "DIM_FACTOR", 2)
    monkeypatch.setattr(block_module, "MIN_BLOCKS", 2)
    with pytest.raises(BlockKrylovConvergenceError, match="solver='arpack'"):
        block_krylov_svd(
            X, 10, tol=1e-8, compute_u=False, random_state=np.random.RandomState(0)
        )
    result = svd(X, 10, tol=1e-8, random_state=0)
    assert result.solver == "arpack"
    reference = np.sort(svds(X, 10, tol=0, random_state=1)[1])[::-1]
    np.testing.assert_allclose(result.s, reference, rtol=1e-8)
    small = svd(X[:300, :200], 10, solver="block_krylov", tol=1e-8, random_state=0)
    assert small.solver == "full"


def test_too_many_components_are_refused():
    X = sp.random(100, 40, density=0.2, format="csr", random_state=8)
    with pytest.raises(ValueError, match="n_components"):
        svd(X, 40, solver="block_krylov", tol=1e-2)


@pytest.mark.parametrize("tol", [-0.1, 1.0, 2.0])
def test_bad_tol_is_refused(tol):
    X = sp.random(100, 40, density=0.2, format="csr", random_state=8)
    with pytest.raises(InvalidParameterError, match="tol"):
        svd(X, 3, tol=tol)
    with pytest.raises(InvalidParameterError, match="tol"):
        TruncatedSVDCompressor(3, tol=tol).fit(X)


def test_policy_row():
    assert choose_solver((100_000, 20_000), 100, sparse=True, tol=1e-2) == (
        "block_krylov"
    )
    assert choose_solver((100_000, 20_000), 100, sparse=True) == "arpack"
    # Dense data keeps its exact solvers whatever tol says.
    assert choose_solver((2000, 1125), 10, tol=1e-2) == "lanczos"


@pytest.mark.parametrize("shape", [(3000, 500), (500, 3000)])
def test_compressor_with_tol(shape):
    X = sp.random(*shape, density=0.02, format="csr", random_state=9)
    model = TruncatedSVDCompressor(8, tol=1e-2, random_state=0)
    scores = model.fit_transform(X)
    assert model.solver_ == "block_krylov"
    reference = la.svdvals(X.toarray())[:8]
    assert np.all(model.singular_values_ <= reference * (1 + 1e-12))
    assert np.max(np.abs(model.singular_values_ / reference - 1)) <= 1.7e-2
    # fit_transform agrees with transform (U Σ = X V on tall data, X V otherwise).
    np.testing.assert_allclose(scores, model.transform(X), atol=1e-12)
    again = TruncatedSVDCompressor(8, tol=1e-2, random_state=0).fit(X)
    np.testing.assert_array_equal(again.components_, model.components_)


def test_banded_eigensolver_agrees_with_the_dense_one(monkeypatch):
    # Past DENSE_EIGH basis vectors T's eigenpairs come from its band.
    X = sp.random(3000, 600, density=0.01, format="csr", random_state=10)
    dense = svd(X, 10, solver="block_krylov", tol=1e-6, random_state=0)
    monkeypatch.setattr(block_module, "DENSE_EIGH", 0)
    banded = svd(X, 10, solver="block_krylov", tol=1e-6, random_state=0)
    np.testing.assert_allclose(banded.s, dense.s, rtol=1e-12)
    _check_contract(X, banded, 10, 1e-6)


def test_more_copies_than_the_block_are_all_found():
    # Twenty copies of √150 (a one-hot block) beside a random sparse block:
    # blocks of 8 see 8 copies; the run is repeated with larger blocks.
    rng = np.random.default_rng(0)
    category = rng.permutation(np.repeat(np.arange(20), 150))
    onehot = sp.csr_matrix(
        (np.ones(3000), (np.arange(3000), category)), shape=(3000, 20)
    )
    X = sp.block_diag(
        [onehot, sp.random(2000, 400, density=0.02, random_state=0)]
    ).tocsr()
    model = TruncatedSVDCompressor(12, tol=0.1, random_state=0).fit(X)
    assert model.solver_ == "block_krylov"
    # Within the tol asked for; a skipped copy would leave 9.98 (the next value).
    np.testing.assert_allclose(model.singular_values_, np.sqrt(150.0), rtol=0.1)
    # 24 copies of 10 above a ramp from 5 down: all 24, then the ramp's top.
    D = sp.diags(np.r_[np.full(24, 10.0), np.linspace(5, 1, 400)]).tocsr()
    for tol in (0.1, 1e-2):
        s = svd(D, 28, solver="block_krylov", tol=tol, random_state=0).s
        np.testing.assert_allclose(s[:24], 10.0, rtol=tol)
        assert np.all(s[24:] <= 5.0 * (1 + 1e-12)) and np.all(s[24:] >= 4.5)


def test_squaring_beyond_tol_hands_over():
    # σ₁/σ₂ ≈ 1e8: the squared operator's rounding (64·eps·σ₁²) swamps every
    # other value, so block Krylov refuses and the engine hands over.
    X = sp.random(3000, 500, density=0.01, format="lil", random_state=0)
    X[:, 0] = 1e7
    X = X.tocsr()
    with pytest.raises(BlockKrylovConvergenceError, match="squared operator"):
        block_krylov_svd(
            X, 6, tol=1e-2, compute_u=True, random_state=np.random.RandomState(0)
        )
    result = svd(X, 6, solver="block_krylov", tol=1e-2, random_state=0)
    assert result.solver == "full"  # 1.5e6 entries: LAPACK
    np.testing.assert_allclose(result.s, la.svdvals(X.toarray())[:6], rtol=1e-12)
    np.testing.assert_allclose(result.U.T @ result.U, np.eye(6), atol=1e-12)
    # tol = 0 (as PCAViaSVD runs it) accepts the squaring only to eps^(2/3).
    s_true = np.geomspace(1.0, 1e-3, 300)
    steep = sp.csr_matrix(with_spectrum(np.random.default_rng(1), (1500, 300), s_true))
    result = svd(steep, 250, solver="block_krylov", random_state=0)
    assert result.solver != "block_krylov"
    np.testing.assert_allclose(result.s, s_true[:250], rtol=1e-11)
