"""pinv, lstsq, null_space and null_vector against NumPy, SciPy and Penrose."""

import numpy as np
import pytest
import scipy.linalg as la

from sksvd.linalg import default_rcond, lstsq, null_space, null_vector, pinv


def _rank_deficient(rng, shape, rank):
    return rng.standard_normal((shape[0], rank)) @ rng.standard_normal((rank, shape[1]))


CASES = {
    "full-rank tall": lambda rng: rng.standard_normal((40, 8)),
    "full-rank wide": lambda rng: rng.standard_normal((8, 40)),
    "rank-deficient tall": lambda rng: _rank_deficient(rng, (40, 12), 5),
    "rank-deficient wide": lambda rng: _rank_deficient(rng, (12, 40), 5),
    "square singular": lambda rng: _rank_deficient(rng, (15, 15), 9),
}


@pytest.mark.parametrize("case", CASES)
def test_pinv_matches_numpy_and_satisfies_penrose(rng, case):
    A = CASES[case](rng)
    P = pinv(A)
    np.testing.assert_allclose(P, np.linalg.pinv(A, rcond=1e-10), atol=1e-10)
    # The four Penrose conditions.
    np.testing.assert_allclose(A @ P @ A, A, atol=1e-10)
    np.testing.assert_allclose(P @ A @ P, P, atol=1e-10)
    np.testing.assert_allclose((A @ P).T, A @ P, atol=1e-10)
    np.testing.assert_allclose((P @ A).T, P @ A, atol=1e-10)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("n_targets", [None, 3])
def test_lstsq_matches_numpy(rng, case, n_targets):
    A = CASES[case](rng)
    b = rng.standard_normal(
        A.shape[0] if n_targets is None else (A.shape[0], n_targets)
    )
    x, residues, rank, s = lstsq(A, b)
    x_ref, _, rank_ref, s_ref = np.linalg.lstsq(A, b, rcond=None)
    np.testing.assert_allclose(x, x_ref, atol=1e-9)
    assert rank == rank_ref
    # Zero singular values come out as rounding noise: compare them absolutely.
    np.testing.assert_allclose(s, s_ref, rtol=1e-12, atol=1e-13 * s_ref[0])
    direct = np.atleast_1d(np.sum((b - A @ x) ** 2, axis=0))
    np.testing.assert_allclose(residues, direct, atol=1e-9 * np.sum(b**2))


@pytest.mark.parametrize("case", ["rank-deficient tall", "rank-deficient wide"])
def test_solution_is_orthogonal_to_the_null_space(rng, case):
    A = CASES[case](rng)
    b = rng.standard_normal(A.shape[0])
    x, *_ = lstsq(A, b)
    N = null_space(A)
    np.testing.assert_allclose(N.T @ x, 0.0, atol=1e-10)
    # Any other least-squares solution x + N z is longer.
    z = rng.standard_normal(N.shape[1])
    assert np.linalg.norm(x + N @ z) > np.linalg.norm(x)
    np.testing.assert_allclose(A @ (x + N @ z), A @ x, atol=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_null_space_matches_scipy(rng, case):
    A = CASES[case](rng)
    N = null_space(A)
    N_ref = la.null_space(A)
    assert N.shape == N_ref.shape
    # Same subspace: the projectors agree.
    np.testing.assert_allclose(N @ N.T, N_ref @ N_ref.T, atol=1e-10)
    np.testing.assert_allclose(N.T @ N, np.eye(N.shape[1]), atol=1e-12)


def test_null_vector_of_the_seeds_rank_one_matrix():
    # A = [[1, 3], [2, 6]] has rank 1; its null vector is (-3, 1)/√10.
    x = null_vector([[1.0, 3.0], [2.0, 6.0]])
    np.testing.assert_allclose(np.abs(x), np.array([3.0, 1.0]) / np.sqrt(10))
    np.testing.assert_allclose(np.array([[1.0, 3.0], [2.0, 6.0]]) @ x, 0, atol=1e-15)


def test_null_vector_minimises_the_residual(rng):
    A = rng.standard_normal((500, 6))
    x = null_vector(A)
    assert np.linalg.norm(x) == pytest.approx(1.0)
    assert np.linalg.norm(A @ x) == pytest.approx(la.svdvals(A)[-1], rel=1e-10)


def test_max_rank_clamps_the_smallest_singular_values(rng):
    A = rng.standard_normal((30, 10))
    U, s, Vt = la.svd(A, full_matrices=False)
    P = pinv(A, max_rank=4)
    np.testing.assert_allclose(P, (Vt[:4].T / s[:4]) @ U[:, :4].T, atol=1e-12)
    _, _, rank, _ = lstsq(A, rng.standard_normal(30), max_rank=4)
    assert rank == 4


def test_float32_low_rank_matrix_keeps_its_rank(rng):
    # NumPy's default (float64 eps for float32 data) calls this rank 50.
    A = _rank_deficient(rng, (50, 50), 5).astype(np.float32)
    _, _, rank, _ = lstsq(A, rng.standard_normal(50))
    assert rank == 5
    _, _, numpy_rank, _ = np.linalg.lstsq(A, rng.standard_normal(50), rcond=None)
    assert numpy_rank > 5


def test_float32_tall_data_keeps_real_directions(rng):
    # scikit-learn #33032: max(m, n)·eps₃₂ drops directions with σ < 0.06·σ₁ once
    # m passes 500,000. The threshold does not depend on m here, so a smaller m
    # shows the same: with m = 600,000 that rule would drop σ = 0.01·σ₁.
    m = 600_000
    assert max(m, 4) * np.finfo(np.float32).eps > 0.01
    assert default_rcond((m, 4), np.float32) < 0.01
    A = rng.standard_normal((20_000, 4)) * np.array([1.0, 0.3, 0.05, 0.01])
    A = A.astype(np.float32)
    x_true = np.array([1.0, -2.0, 3.0, 4.0])
    x, _, rank, _ = lstsq(A, A.astype(np.float64) @ x_true)
    assert rank == 4
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, x_true, rtol=1e-4)


def test_default_rcond_for_float64_is_numpy_rule():
    assert default_rcond((7, 3), np.float64) == 7 * np.finfo(np.float64).eps


@pytest.mark.parametrize(
    ("function", "kwargs", "message"),
    [
        (pinv, {"rcond": -1.0}, "rcond"),
        (pinv, {"max_rank": -2}, "max_rank"),
        (lstsq, {"b": np.ones(3)}, r"b must have shape \(4,\)"),
        (null_space, {"rcond": "tiny"}, "rcond"),
    ],
)
def test_invalid_input(function, kwargs, message):
    with pytest.raises(ValueError, match=message):
        function(np.ones((4, 2)), **kwargs)


def test_residues_of_huge_data_match_numpy(rng):
    # ‖b‖² overflows (about 1e311) while the residual's square does not (1e299).
    A = rng.standard_normal((30, 4)) * 1e155
    b = A @ np.ones(4) + 1e149 * rng.standard_normal(30)
    _, residues, _, _ = lstsq(A, b)
    _, reference, _, _ = np.linalg.lstsq(A, b, rcond=None)
    # The residual is 1e-6 of b, so any method loses about eps·‖b‖/‖r‖ = 1e-10.
    np.testing.assert_allclose(residues, reference, rtol=1e-8)


def test_tiny_residues_are_computed_directly(rng):
    A = rng.standard_normal((40, 5))
    noise = 1e-9 * rng.standard_normal(40)
    b = A @ np.ones(5) + noise
    x, residues, _, _ = lstsq(A, b)
    direct = np.sum((b - A @ x) ** 2)
    np.testing.assert_allclose(residues, [direct], rtol=1e-6)


def test_null_vector_follows_the_sign_rule_for_wide_matrices(rng):
    for _ in range(20):
        x = null_vector(rng.standard_normal((2, 3)))
        assert x[np.argmax(np.abs(x))] > 0


def test_residues_beyond_float64_are_inf_without_a_warning(rng):
    # A residual of 1e200·1e-8 per entry squares to about 1e386: not representable.
    A = rng.standard_normal((300, 5)) * 1e200
    b = A @ rng.standard_normal(5) + 1e192 * rng.standard_normal(300)
    x, residues, rank, _ = lstsq(A, b)
    assert rank == 5
    assert residues[0] == np.inf
    x_reference = la.lstsq(A / 1e200, b / 1e200)[0]
    np.testing.assert_allclose(x, x_reference, rtol=1e-10)


@pytest.mark.parametrize("max_rank", [None, 1])
def test_residues_when_the_norm_of_b_itself_overflows(max_rank):
    # ‖b‖ = 2e308 is beyond float64 and b is orthogonal to A: the residual is b.
    A = np.array([[1.0], [-1.0], [1.0], [-1.0]])
    b = np.full(4, 1e308)
    x, residues, _, _ = lstsq(A, b, max_rank=max_rank)
    np.testing.assert_allclose(x, 0.0, atol=1e-300)
    assert residues[0] == np.inf
