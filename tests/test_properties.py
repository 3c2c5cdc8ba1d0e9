"""Invariants that must hold for any input, checked with hypothesis."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sksvd import PCAViaSVD, TruncatedSVDCompressor
from sksvd.linalg import low_rank_approximation, pinv, svd

EPS = np.finfo(np.float64).eps


def matrices(min_side=1, max_side=10, bound=1e3):
    shapes = st.tuples(st.integers(min_side, max_side), st.integers(min_side, max_side))
    elements = st.floats(-bound, bound, allow_nan=False, allow_subnormal=False)
    return shapes.flatmap(lambda shape: arrays(np.float64, shape, elements=elements))


# The number of examples and their draw come from the profile loaded in conftest.
SETTINGS = settings()


@SETTINGS
@given(X=matrices(), solver=st.sampled_from(["full", "qr", "gram"]))
def test_factors_are_orthonormal(X, solver):
    U, s, Vt = svd(X, solver=solver)
    k = s.size
    u_tolerance = v_tolerance = 1e3 * EPS
    if solver == "gram" and s[-1] > 0:
        # Documented: the factor derived from the eigenvectors (U = X V Σ⁻¹ for tall
        # X, V = Xᵀ U Σ⁻¹ for wide X) loses orthogonality by about eps·(σ₁/σₖ)², and
        # is re-orthonormalised when that could pass √eps.
        condition = min(s[0] / s[-1], 1e100)  # squared below, so kept finite
        derived = max(1e3 * EPS, min(10 * EPS * condition**2, 10 * EPS**0.5))
        if X.shape[0] < X.shape[1]:
            v_tolerance = derived
        else:
            u_tolerance = derived
    np.testing.assert_allclose(U.T @ U, np.eye(k), atol=u_tolerance)
    np.testing.assert_allclose(Vt @ Vt.T, np.eye(k), atol=v_tolerance)


@SETTINGS
@given(
    X=matrices(min_side=2),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_no_random_rank_k_matrix_approximates_better(X, seed, data):
    rank = data.draw(st.integers(1, min(X.shape)))
    best = np.linalg.norm(X - low_rank_approximation(X, rank))
    rng = np.random.default_rng(seed)
    for _ in range(5):
        # The best rank-k fit in the span of random factors is no better.
        Q, _ = np.linalg.qr(rng.standard_normal((X.shape[0], rank)))
        candidate = Q @ (Q.T @ X)  # rank ≤ k
        assert best <= np.linalg.norm(X - candidate) * (1 + 1e-9) + 1e-9


@SETTINGS
@given(X=matrices())
def test_penrose_conditions(X):
    P = pinv(X)
    scale = max(np.abs(X).max(), 1.0)
    inverse_scale = max(np.abs(P).max(), 1.0)
    # The conditions hold to about eps·κ, κ = σ₁/σ_r of the singular values kept.
    s = np.linalg.svd(X, compute_uv=False)
    kept = s[s > max(X.shape) * EPS * s[0]] if s[0] > 0 else s[:1]
    condition = kept[0] / kept[-1] if kept.size and kept[-1] > 0 else 1.0
    tolerance = 1e3 * EPS * max(X.shape) * condition
    np.testing.assert_allclose(X @ P @ X, X, atol=tolerance * scale)
    np.testing.assert_allclose(P @ X @ P, P, atol=tolerance * inverse_scale)
    np.testing.assert_allclose((X @ P).T, X @ P, atol=tolerance)
    np.testing.assert_allclose((P @ X).T, P @ X, atol=tolerance)


def _well_posed(X, *, standardized=False):
    # Distinct, non-negligible variances so that principal axes are determined;
    # correlation PCA needs that of the standardised data.
    centred = X - X.mean(axis=0)
    if standardized:
        centred = centred / centred.std(axis=0)
    s = np.linalg.svd(centred, compute_uv=False)
    return s.size > 1 and s[-1] > 1e-3 * s[0] and np.min(np.diff(-s) / s[0]) > 1e-3


@SETTINGS
@given(X=matrices(min_side=3), seed=st.integers(0, 2**32 - 1))
def test_pca_is_invariant_to_row_order(X, seed):
    if not _well_posed(X):
        return
    order = np.random.default_rng(seed).permutation(X.shape[0])
    original = PCAViaSVD().fit(X)
    permuted = PCAViaSVD().fit(X[order])
    np.testing.assert_allclose(
        permuted.explained_variance_,
        original.explained_variance_,
        rtol=1e-8,
        atol=1e-10 * original.explained_variance_[0],
    )
    np.testing.assert_allclose(
        np.abs(permuted.components_), np.abs(original.components_), atol=1e-6
    )


@SETTINGS
@given(
    X=matrices(min_side=3),
    scales=arrays(np.float64, 10, elements=st.floats(1e-3, 1e3)),
)
def test_correlation_pca_ignores_positive_feature_scaling(X, scales):
    if np.any(X.std(axis=0) <= 1e-6 * np.abs(X).max()) or not _well_posed(
        X, standardized=True
    ):
        return
    scaled = X * scales[: X.shape[1]]
    original = PCAViaSVD(matrix="correlation").fit(X)
    rescaled = PCAViaSVD(matrix="correlation").fit(scaled)
    np.testing.assert_allclose(
        rescaled.explained_variance_, original.explained_variance_, atol=1e-7
    )
    # Compare up to each component's sign: scikit-learn's rule takes it from the
    # largest |loading|, and with tied loadings rounding alone decides the tie.
    expected = original.transform(X)
    actual = rescaled.transform(scaled)
    signs = np.where(np.sum(actual * expected, axis=0) < 0, -1.0, 1.0)
    np.testing.assert_allclose(actual * signs, expected, atol=1e-6)


@SETTINGS
@given(X=matrices(min_side=2), data=st.data())
@pytest.mark.parametrize("estimator", ["compressor", "pca"])
def test_transform_then_inverse_is_a_projection(estimator, X, data):
    k = data.draw(st.integers(1, min(X.shape)))
    # PCA refuses variances that underflow float64, by design (a clear error).
    assume(not 0 < np.abs(X - X.mean(axis=0)).max() < 1e-100)
    if estimator == "pca":
        if X.shape[0] < 2:
            return
        model = PCAViaSVD(k).fit(X)
    else:
        model = TruncatedSVDCompressor(k).fit(X)
    once = model.inverse_transform(model.transform(X))
    twice = model.inverse_transform(model.transform(once))
    scale = max(np.abs(X).max(), 1.0)
    np.testing.assert_allclose(twice, once, atol=1e4 * EPS * scale)
