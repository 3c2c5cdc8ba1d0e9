"""Classic hard matrices for SVD accuracy tests, with 50-digit references.

Shared by tests/test_accuracy.py and benchmarks/accuracy_table.py.
"""

import mpmath
import numpy as np
import scipy.linalg as la


def with_spectrum(rng, shape, s):
    """A matrix of this shape with singular values s and random singular vectors."""
    m, n = shape
    U, _ = la.qr(rng.standard_normal((m, len(s))), mode="economic")
    V, _ = la.qr(rng.standard_normal((n, len(s))), mode="economic")
    return (U * s) @ V.T


def hilbert(m=10, n=8):
    """Rows of the Hilbert matrix: condition number about 1e10."""
    return la.hilbert(max(m, n))[:m, :n]


def kahan(n=10, theta=1.2):
    """Kahan's upper-triangular matrix: tiny last singular value, no tiny pivot."""
    c, s = np.cos(theta), np.sin(theta)
    upper = np.eye(n) - c * np.triu(np.ones((n, n)), 1)
    return np.diag(s ** np.arange(n)) @ upper


def lauchli(n=9, mu=1e-7):
    """Läuchli's matrix [1ᵀ; μI]: σ = √(n + μ²), μ, …, μ; μ² is below eps."""
    return np.vstack([np.ones((1, n)), mu * np.eye(n)])


def graded(n=8, seed=0):
    """Rows and columns graded over ten orders of magnitude."""
    rng = np.random.default_rng(seed)
    scales = np.logspace(0, -10, n)
    return scales[:, None] * rng.standard_normal((n, n)) * scales


def rank_deficient_noisy(m=12, n=8, rank=4, seed=0):
    """Rank 4 plus 1e-14 noise: four singular values of order one, four tiny."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n))
    return A + 1e-14 * rng.standard_normal((m, n))


def clustered(m=10, n=8, seed=0):
    """Singular values 1 (three times exactly), 1 ± 1e-12, then 1e-3 and below."""
    rng = np.random.default_rng(seed)
    s = np.array([1, 1, 1, 1 + 1e-12, 1 - 1e-12, 1e-3, 1e-6, 1e-9])[:n]
    U, _ = np.linalg.qr(rng.standard_normal((m, n)))
    V, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (U * s) @ V.T


HARD_MATRICES = {
    "Hilbert 10x8": hilbert,
    "Kahan 10x10": kahan,
    "Lauchli 10x9": lauchli,
    "graded 8x8": graded,
    "rank 4 + 1e-14 noise": rank_deficient_noisy,
    "clustered": clustered,
}


def reference_singular_values(A, digits=50):
    """Singular values of the float64 matrix A, to ``digits`` digits (mpmath)."""
    with mpmath.workdps(digits):
        s = mpmath.mp.svd_r(mpmath.mp.matrix(A.tolist()), compute_uv=False)
        return np.array(sorted((float(value) for value in s), reverse=True))
