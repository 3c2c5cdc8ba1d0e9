"""Block Lanczos (``solver="lanczos"``) against LAPACK on the spectra that break Krylov
solvers: steep, flat, clustered, repeated more often than the block holds, rank
deficient, invariant, and on sparse, implicitly centred and float32 input."""

import numpy as np
import pytest
import scipy.linalg as la
import scipy.sparse as sp

import sksvd.linalg._decompose as decompose_module
import sksvd.linalg._lanczos as lanczos_module
from sksvd import PCAViaSVD, TruncatedSVDCompressor
from sksvd.linalg import svd
from sksvd.linalg._lanczos import LanczosConvergenceError, lanczos_svd
from tests.hard_matrices import with_spectrum

EPS64 = np.finfo(np.float64).eps
EPS32 = np.finfo(np.float32).eps


def _check_triplets(X, result, k, eps=EPS64):
    """Values within the documented 128·eps·σ₁ of LAPACK's (plus LAPACK's own
    few eps), orthonormal factors, and both residuals at the documented level."""
    U, s, Vt = result
    s_ref = la.svdvals(np.asarray(X, dtype=np.float64))[:k]
    top = s_ref[0]
    assert s.shape == (k,) and np.all(np.diff(s) <= 0)
    assert np.max(np.abs(s - s_ref)) <= 160 * eps * top
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=100 * eps)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(k), atol=100 * eps)
    A = np.asarray(X, dtype=np.float64)
    forward = np.linalg.norm(A @ Vt.T.astype(np.float64) - U * s, axis=0)
    backward = np.linalg.norm(A.T @ U.astype(np.float64) - Vt.T * s, axis=0)
    assert np.max(forward) <= 160 * eps * top
    assert np.max(backward) <= 160 * eps * top


def _image_like(rng, shape):
    field = np.cumsum(np.cumsum(rng.standard_normal(shape), axis=0), axis=1)
    return field + 2 * rng.standard_normal(shape)


@pytest.mark.parametrize("k", [1, 5, 20, 50])
@pytest.mark.parametrize("shape", [(600, 400), (400, 600)])
def test_image_like_spectrum_matches_lapack(rng, shape, k):
    # σ₁/σ₅₀ ≈ 1000 and relative gaps near 1e-3 deep in the spectrum.
    X = _image_like(rng, shape)
    result = svd(X, k, solver="lanczos", random_state=0)
    assert result.solver == "lanczos"
    _check_triplets(X, result, k)


@pytest.mark.parametrize("k", [3, 30])
def test_flat_gaussian_spectrum_restarts_and_matches_lapack(rng, k):
    # Marchenko–Pastur: relative gaps of 1e-3 among the leading values, so the
    # basis fills and thick restarts happen before convergence.
    X = rng.standard_normal((700, 500))
    _check_triplets(X, svd(X, k, solver="lanczos", random_state=1), k)


def test_steep_spectrum_far_below_sqrt_eps(rng):
    # Values down to 1e-12·σ₁: Lanczos on XᵀX would lose them, this works on X.
    s_true = np.geomspace(1, 1e-12, 300)
    X = with_spectrum(rng, (400, 300), s_true)
    U, s, Vt = svd(X, 25, solver="lanczos", random_state=0)
    assert np.max(np.abs(s - s_true[:25])) <= 160 * EPS64


@pytest.mark.parametrize("copies", [2, 3, 4, 5, 9, 17])
def test_a_repeated_value_is_never_skipped(rng, copies):
    # A block of b holds at most b copies of a repeated value: with more copies
    # the run is repeated with a larger block (twice the copies found), and
    # every copy is found.
    s_true = np.concatenate([[10.0], np.full(copies, 5.0), np.geomspace(3, 0.01, 200)])
    X = with_spectrum(rng, (500, 300), s_true)
    k = copies + 4
    result = svd(X, k, solver="lanczos", random_state=0)
    assert result.solver in ("lanczos", "full")
    np.testing.assert_allclose(result.s, s_true[:k], rtol=0, atol=200 * EPS64 * 10)
    _check_triplets(X, result, k)


def test_a_repeated_value_reruns_with_a_larger_block(rng, monkeypatch):
    s_true = np.concatenate([np.full(6, 2.0), np.geomspace(1, 0.01, 200)])
    X = with_spectrum(rng, (400, 300), s_true)
    blocks = []
    run = lanczos_module._run

    def recording(X, k, b, *args):
        blocks.append(b)
        return run(X, k, b, *args)

    monkeypatch.setattr(lanczos_module, "_run", recording)
    result = lanczos_svd(X, 8, compute_u=True, random_state=np.random.RandomState(0))
    assert blocks[0] == lanczos_module.BLOCK and blocks[-1] > 6
    np.testing.assert_allclose(result.s, s_true[:8], atol=200 * EPS64 * 2)


def test_duplicated_blocks_give_every_value_twice(rng):
    A = _image_like(rng, (200, 150))
    X = la.block_diag(A, A)
    result = svd(X, 10, solver="lanczos", random_state=0)
    s_ref = la.svdvals(X)[:10]
    np.testing.assert_allclose(result.s, s_ref, atol=200 * EPS64 * s_ref[0])
    assert np.allclose(result.s[0::2], result.s[1::2], rtol=1e-12)


def test_a_clustered_top_matches_lapack(rng):
    # Ten values within 1e-10 of each other: not repeated, but closer than the
    # test for repetitions can tell apart.
    s_true = np.concatenate(
        [1 + 1e-10 * np.arange(10)[::-1], np.geomspace(0.5, 1e-3, 250)]
    )
    X = with_spectrum(rng, (400, 300), s_true)
    result = svd(X, 12, random_state=0)
    np.testing.assert_allclose(result.s, s_true[:12], atol=200 * EPS64)


def test_identity_and_an_invariant_start(rng):
    # Every vector is a singular vector: each block is an invariant subspace.
    X = np.eye(300)
    result = svd(X, 10, solver="lanczos", random_state=0)
    np.testing.assert_allclose(result.s, 1.0, rtol=1e-14)
    np.testing.assert_allclose(result.Vt @ result.Vt.T, np.eye(10), atol=1e-13)


@pytest.mark.parametrize("rank", [1, 3, 7])
def test_rank_deficient_matrix_returns_zeros_past_the_rank(rng, rank):
    # The Krylov space is exhausted after the rank: the process continues with
    # fresh random directions, whose values are zero.
    s_true = np.geomspace(5, 1, rank)
    X = with_spectrum(rng, (300, 250), s_true)
    result = svd(X, 10, solver="lanczos", random_state=0)
    np.testing.assert_allclose(result.s[:rank], s_true, rtol=1e-13)
    assert np.all(result.s[rank:] <= 100 * EPS64 * s_true[0])
    np.testing.assert_allclose(result.U.T @ result.U, np.eye(10), atol=1e-12)
    np.testing.assert_allclose(result.Vt @ result.Vt.T, np.eye(10), atol=1e-12)


def test_float32_is_as_accurate_as_single_precision_lapack(rng):
    X = _image_like(rng, (500, 300)).astype(np.float32)
    result = svd(X, 10, solver="lanczos", random_state=0)
    assert result.s.dtype == np.float32 and result.Vt.dtype == np.float32
    _check_triplets(X, result, 10, eps=EPS32)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_matches_dense(rng, fmt):
    X = sp.random(800, 500, density=0.02, format=fmt, random_state=3)
    result = svd(X, 8, solver="lanczos", random_state=0)
    _check_triplets(X.toarray(), result, 8)


def test_implicitly_centred_sparse_pca_matches_dense(rng):
    X = sp.random(600, 300, density=0.05, format="csr", random_state=4)
    sparse = PCAViaSVD(6, solver="lanczos", random_state=0).fit(X)
    dense = PCAViaSVD(6, solver="full").fit(X.toarray())
    np.testing.assert_allclose(
        sparse.singular_values_, dense.singular_values_, rtol=1e-12
    )
    np.testing.assert_allclose(
        np.abs(sparse.components_ @ dense.components_.T), np.eye(6), atol=1e-9
    )


def test_huge_and_tiny_magnitudes_are_rescaled(rng):
    X = _image_like(rng, (300, 250))
    s_ref = la.svdvals(X)[:5]
    for magnitude in (1e-250, 1e250):
        _, s, _ = svd(X * magnitude, 5, solver="lanczos", random_state=0)
        np.testing.assert_allclose(s / magnitude, s_ref, rtol=1e-12)


def test_results_repeat_for_a_random_state(rng):
    X = _image_like(rng, (400, 300))
    first = svd(X, 7, solver="lanczos", random_state=5)
    again = svd(X, 7, solver="lanczos", random_state=5)
    other = svd(X, 7, solver="lanczos", random_state=6)
    np.testing.assert_array_equal(first.Vt, again.Vt)
    np.testing.assert_allclose(first.s, other.s, rtol=1e-13)


def test_input_is_not_modified(rng):
    X = _image_like(rng, (300, 250))
    copy = X.copy()
    svd(X, 5, solver="lanczos", random_state=0)
    np.testing.assert_array_equal(X, copy)


def test_too_many_components_is_a_clear_error(rng):
    with pytest.raises(ValueError, match="too large for solver='lanczos'"):
        svd(rng.standard_normal((30, 20)), 17, solver="lanczos")


def test_non_convergence_raises():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 300))
    with pytest.raises(LanczosConvergenceError, match="did not converge"):
        lanczos_svd(
            X, 20, compute_u=True, random_state=np.random.RandomState(0), max_restarts=0
        )


def test_auto_falls_back_when_lanczos_cannot_converge(rng, monkeypatch):
    # Small enough to densify: LAPACK; larger: ARPACK. solver_ says which.
    def failing(*args, **kwargs):
        raise LanczosConvergenceError("did not converge")

    monkeypatch.setattr("sksvd.linalg._krylov.lanczos_svd", failing)
    X = _image_like(rng, (400, 300))
    s_ref = la.svdvals(X)[:5]
    model = TruncatedSVDCompressor(5, random_state=0).fit(X)
    assert model.solver_ == "full"
    np.testing.assert_allclose(model.singular_values_, s_ref, rtol=1e-13)
    monkeypatch.setattr(decompose_module, "KRYLOV_FALLBACK_ENTRIES", 1000)
    model = TruncatedSVDCompressor(5, random_state=0).fit(X)
    assert model.solver_ == "arpack"
    np.testing.assert_allclose(model.singular_values_, s_ref, rtol=1e-12)


def test_auto_takes_lanczos_for_a_few_dense_components(rng):
    X = _image_like(rng, (500, 400))
    model = TruncatedSVDCompressor(10, random_state=0).fit(X)
    assert model.solver_ == "lanczos"
    pca = PCAViaSVD(10, random_state=0).fit(X)
    assert pca.solver_ == "lanczos"
    reference = PCAViaSVD(10, solver="full").fit(X)
    np.testing.assert_allclose(
        pca.explained_variance_, reference.explained_variance_, rtol=1e-12
    )
    np.testing.assert_allclose(pca.components_, reference.components_, atol=1e-9)


def test_energy_target_with_lanczos(rng):
    X = _image_like(rng, (400, 300))
    model = TruncatedSVDCompressor(0.999, solver="lanczos", random_state=0).fit(X)
    reference = TruncatedSVDCompressor(0.999, solver="full").fit(X)
    assert model.n_components_ == reference.n_components_
    np.testing.assert_allclose(
        model.singular_values_, reference.singular_values_, rtol=1e-12
    )


@pytest.mark.parametrize("seed", range(5))
def test_low_rank_plus_rounding_noise_keeps_the_bases_orthogonal(seed):
    # Rank 31 plus noise at 1e-13: the Krylov space runs out after the rank,
    # and a block direction barely above the noise, once normalised, would
    # carry the basis's rounding 1e13 times larger into the recurrence. The
    # extra orthogonalisation pass keeps the documented residuals.
    rng = np.random.default_rng(seed)
    r, k = 31, 7
    P, _ = la.qr(rng.standard_normal((400, r)), mode="economic")
    Q, _ = la.qr(rng.standard_normal((300, r)), mode="economic")
    X = (P * np.linspace(2, 1, r)) @ Q.T + 1e-13 * rng.standard_normal((400, 300))
    result = svd(X, k, random_state=0)
    assert result.solver == "lanczos"
    _check_triplets(X, result, k)


def test_many_copies_straddling_the_request_are_all_found():
    # 119 copies of 5 below one 8, 98 triplets asked for: every returned value
    # is right, by block Lanczos or by LAPACK behind it.
    rng = np.random.default_rng(0)
    s_true = np.concatenate(
        [[8.0], np.full(119, 5.0), np.sort(rng.uniform(0, 4.9, 180))[::-1]]
    )
    X = with_spectrum(rng, (400, 300), s_true)
    result = svd(X, 98, solver="lanczos", random_state=0)
    np.testing.assert_allclose(result.s, s_true[:98], atol=200 * EPS64 * 8)


@pytest.mark.parametrize("n", [256, 1024])
def test_copies_that_fill_the_request_need_no_rerun(n):
    # A Hadamard matrix: every singular value is √n. Any k orthonormal vectors
    # are singular vectors, so the copies found need no larger block.
    H = la.hadamard(n).astype(np.float64)
    result = svd(H, 10, random_state=0)
    assert result.solver == "lanczos"
    np.testing.assert_allclose(result.s, np.sqrt(n), rtol=1e-14)
    np.testing.assert_allclose(H @ result.Vt.T, result.U * result.s, atol=1e-12 * n)


@pytest.mark.parametrize("shape", [(14, 300), (20, 300), (300, 14)])
def test_short_sides_near_the_request_converge(rng, shape):
    X = rng.standard_normal(shape)
    result = lanczos_svd(X, 8, compute_u=True, random_state=np.random.RandomState(0))
    _check_triplets(X, result, 8)


def test_too_many_components_names_the_limit(rng):
    with pytest.raises(ValueError, match=r"min\(n_samples, n_features\) - 4 = 10"):
        svd(rng.standard_normal((300, 14)), 11, solver="lanczos")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_distinct_value_just_below_copies_does_not_hide_a_missing_copy(dtype):
    # Three copies of 5, then a distinct value 486·eps·σ₁ below them: inside
    # the window that counts copies, but not a copy. A block of 2 finds two
    # copies of 5; the third must come back, not the value below.
    eps = np.finfo(dtype).eps
    gap = 0.95 * 512 * eps * 10
    s_true = np.r_[10, 5, 5, 5, 5 - gap, 5 - gap, np.linspace(3, 0.1, 300)]
    rng = np.random.default_rng(2)
    X = with_spectrum(rng, (600, 500), s_true).astype(dtype)
    result = svd(X, 4, solver="lanczos", random_state=0)
    assert abs(float(result.s[3]) - 5) <= 300 * eps * 10
    U0, _, Vt0 = np.linalg.svd(X.astype(np.float64), full_matrices=False)
    copies = Vt0[1:4]  # the copies of 5 (LAPACK orders equal values arbitrarily)
    inside = np.linalg.norm(copies @ result.Vt[3].astype(np.float64))
    assert inside > 0.99


def test_a_rerun_on_a_structured_sparse_matrix_finds_every_copy():
    # Twenty exact copies of 5 on a diagonal, a flat spectrum below: the block
    # of 2 finds some copies, and the rerun with a larger block (given more
    # restarts) finds them all.
    n, k = 1500, 40
    s = np.r_[np.linspace(10, 6, 5), [5.0] * 20, np.linspace(4.99, 0.1, n - 25)]
    X = sp.csr_matrix((s, (np.arange(n), np.arange(n))), shape=(n + 300, n))
    result = svd(X, k, solver="lanczos", random_state=0)
    np.testing.assert_allclose(result.s, np.sort(s)[::-1][:k], atol=300 * EPS64 * 10)


@pytest.mark.parametrize("scale", [1e-25, 1e-12, 1e12, 1e19, 1e30])
@pytest.mark.parametrize("solver", ["lanczos", "arpack", "propack"])
@pytest.mark.parametrize("sparse", [False, True])
def test_float32_at_any_magnitude(rng, scale, solver, sparse):
    """Float32 data whose squares leave float32's range is divided by its
    largest entry first (float64's safe range is no guide there): at 1e-25
    the Lanczos values came out 17 % low, at 1e19 95 % low with overflow
    warnings. The factors stay float32."""
    import scipy.sparse as sp_

    from sksvd.linalg import svd

    X = (rng.standard_normal((600, 300)) * scale).astype(np.float32)
    reference = np.linalg.svd(X.astype(np.float64), compute_uv=False)[:3]
    data = sp_.csr_matrix(X) if sparse else X
    U, s, Vt = svd(data, 3, solver=solver, random_state=0)
    assert s.dtype == U.dtype == Vt.dtype == np.float32
    eps = np.finfo(np.float32).eps
    np.testing.assert_allclose(s, reference, rtol=0, atol=200 * eps * reference[0])
