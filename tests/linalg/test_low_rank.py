"""Eckart–Young helpers against closed forms and directly computed norms."""

import numpy as np
import pytest
import scipy.linalg as la

from sksvd.linalg import eckart_young_error, energy_ratio, low_rank_approximation


@pytest.mark.parametrize("solver", ["auto", "full", "qr", "gram", "arpack", "propack"])
@pytest.mark.parametrize("rank", [1, 3, 6])
def test_low_rank_approximation_is_optimal(rng, solver, rank):
    # Well-separated singular values (σᵢ = 0.7ⁱ): every solver, PROPACK included,
    # converges to working precision. On Gaussian data, whose singular values
    # cluster, SciPy's PROPACK can stop early (see the svd docstring).
    U, _ = np.linalg.qr(rng.standard_normal((40, 15)))
    V, _ = np.linalg.qr(rng.standard_normal((15, 15)))
    X = (U * 0.7 ** np.arange(15)) @ V.T
    s = la.svdvals(X)
    X_k = low_rank_approximation(X, rank, solver=solver, random_state=0)
    assert np.linalg.matrix_rank(X_k) == rank
    rtol = 1e-9
    np.testing.assert_allclose(np.linalg.norm(X - X_k, 2), s[rank], rtol=rtol)
    np.testing.assert_allclose(
        np.linalg.norm(X - X_k, "fro"), np.sqrt(np.sum(s[rank:] ** 2)), rtol=rtol
    )


def test_low_rank_approximation_rejects_too_large_rank(rng):
    with pytest.raises(ValueError, match="rank=7 must be between 1 and"):
        low_rank_approximation(rng.standard_normal((6, 9)), 7)


def test_energy_ratio_closed_form():
    np.testing.assert_allclose(
        energy_ratio([3.0, 2.0, 1.0, 1.0]), np.array([9, 4, 1, 1]) / 15.0
    )


def test_energy_ratio_of_huge_values_does_not_overflow():
    np.testing.assert_allclose(energy_ratio([3e200, 4e200]), [9 / 25, 16 / 25])


def test_energy_ratio_of_zeros_is_zero():
    np.testing.assert_array_equal(energy_ratio([0.0, 0.0]), [0.0, 0.0])


def test_energy_ratio_rejects_negative_values():
    with pytest.raises(ValueError, match="non-negative"):
        energy_ratio([1.0, -1.0])


def test_eckart_young_error_matches_the_truncation(rng):
    X = rng.standard_normal((30, 12))
    U, s, Vt = la.svd(X, full_matrices=False)
    for rank in range(0, 13):
        residual = X - (U[:, :rank] * s[:rank]) @ Vt[:rank]
        np.testing.assert_allclose(
            eckart_young_error(s, rank), np.linalg.norm(residual), atol=1e-12
        )
        np.testing.assert_allclose(
            eckart_young_error(s, rank, norm=2), np.linalg.norm(residual, 2), atol=1e-12
        )


def test_eckart_young_error_of_huge_spectrum():
    # √(4² + 3²)·1e200: the squares alone would overflow.
    assert eckart_young_error([6e200, 4e200, 3e200], 1) == pytest.approx(5e200)


@pytest.mark.parametrize(
    ("s", "rank", "norm", "message"),
    [
        ([3.0, 1.0], 3, "fro", "rank=3 must be between 0 and len"),
        ([1.0, 3.0], 1, "fro", "descending"),
        ([3.0, 1.0], 1, 1, "norm"),
        ([[3.0, 1.0]], 1, "fro", "1-D"),
    ],
)
def test_eckart_young_error_rejects_bad_input(s, rank, norm, message):
    with pytest.raises(ValueError, match=message):
        eckart_young_error(s, rank, norm=norm)
