"""Accuracy on hard matrices against 50-digit references (mpmath).

The LAPACK and QR paths are backward stable: each singular value is within
c·eps·σ₁ of the exact one, ‖A − UΣVᵀ‖ ≤ c·eps·‖A‖ and the factors are orthonormal
to c·eps, with c a modest multiple of the dimension. The Gram path's error in σᵢ
is about eps·σ₁²/σᵢ (eigenvalues of AᵀA carry eps·σ₁²), which is what "auto"
guards against.
"""

import numpy as np
import pytest

from sksvd.linalg import svd
from tests.hard_matrices import HARD_MATRICES, reference_singular_values

pytestmark = pytest.mark.slow

EPS = np.finfo(np.float64).eps
C = 100  # a modest multiple of the dimension (≤ 12 here)


@pytest.fixture(scope="module", params=list(HARD_MATRICES))
def hard(request):
    A = HARD_MATRICES[request.param]()
    return request.param, A, reference_singular_values(A)


@pytest.mark.parametrize("solver", ["full", "qr", "auto"])
def test_backward_stable_paths(hard, solver):
    name, A, s_ref = hard
    U, s, Vt = svd(A, solver=solver)
    norm = np.linalg.norm(A, 2)
    assert np.max(np.abs(s - s_ref)) <= C * EPS * s_ref[0], name
    assert np.linalg.norm(A - (U * s) @ Vt, 2) <= C * EPS * norm, name
    k = s.size
    assert np.max(np.abs(U.T @ U - np.eye(k))) <= C * EPS, name
    assert np.max(np.abs(Vt @ Vt.T - np.eye(k))) <= C * EPS, name


def test_gram_path_meets_its_documented_bound(hard):
    name, A, s_ref = hard
    _, s, Vt = svd(A, solver="gram", compute_u=False)
    # |σᵢ − σᵢ*| ≲ eps·σ₁²/σᵢ, and never worse than √(eps)·σ₁ (the error of a
    # zero eigenvalue's square root).
    bound = C * EPS * s_ref[0] ** 2 / np.maximum(s_ref, 1e-300)
    bound = np.minimum(bound, C * np.sqrt(EPS) * s_ref[0])
    assert np.all(np.abs(s - s_ref) <= bound), name
    assert np.max(np.abs(Vt @ Vt.T - np.eye(s.size))) <= C * EPS, name


@pytest.mark.parametrize("solver", ["randomized", "arpack", "propack"])
def test_leading_values_of_truncated_solvers(hard, solver):
    name, A, s_ref = hard
    k = 3
    _, s, _ = svd(A, k, solver=solver, random_state=0, n_iter=10)
    # A sketch of k + 10 columns covers these small matrices entirely, and the
    # Krylov methods converge on the leading values: c·eps·σ₁ in all cases.
    assert np.max(np.abs(s - s_ref[:k])) <= 1e4 * EPS * s_ref[0], name


def test_lauchli_values_from_the_closed_form():
    n, mu = 9, 1e-7
    s_ref = reference_singular_values(HARD_MATRICES["Lauchli 10x9"]())
    np.testing.assert_allclose(s_ref[0], np.sqrt(n + mu**2), rtol=1e-15)
    np.testing.assert_allclose(s_ref[1:], mu, rtol=1e-15)
