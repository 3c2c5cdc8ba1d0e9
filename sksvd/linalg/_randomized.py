"""Randomized SVD (Halko, Martinsson and Tropp) for a rank or an energy target."""

import numpy as np
import scipy.linalg as la

from sksvd.linalg._checks import rank_for_energy
from sksvd.linalg._result import SVDResult


def resolve_n_iter(n_iter, n_components, shape):
    """Power iterations for ``n_iter="auto"``: scikit-learn's rule.

    Seven when fewer than a tenth of ``min(shape)`` components are asked for (the
    case where the tail of the spectrum dominates the sketch), four otherwise.
    """
    if n_iter != "auto":
        return n_iter
    return 7 if n_components < 0.1 * min(shape) else 4


def _orth(Y):
    return la.qr(Y, mode="economic", check_finite=False)[0]


def _lu_normalize(Y):
    # LU with partial pivoting keeps the columns of a power iterate from collapsing
    # onto the dominant direction at a fraction of the cost of a QR; only the last
    # basis needs to be orthonormal.
    return la.lu(Y, permute_l=True, check_finite=False)[0]


def _tall(X):
    """Return the tall orientation of X and whether it is transposed.

    The sketch then has ``min(m, n)`` rows on its short side, which is what the
    small dense SVD at the end costs.
    """
    transposed = X.shape[0] < X.shape[1]
    return (X.T if transposed else X), transposed


def _assemble(Q, B, n_components, transposed, compute_u):
    """SVD of the projected matrix ``B = QᵀA`` lifted back through ``Q``."""
    U_b, s, Vt_b = la.svd(B, full_matrices=False, check_finite=False)
    k = n_components
    U_b, s, Vt_b = U_b[:, :k], s[:k], Vt_b[:k]
    if transposed:
        # A = Xᵀ ≈ (Q U_b) Σ Vt_b, so X ≈ Vt_bᵀ Σ (Q U_b)ᵀ.
        U = np.ascontiguousarray(Vt_b.T) if compute_u else None
        return SVDResult(U, s, np.ascontiguousarray((Q @ U_b).T))
    U = Q @ U_b if compute_u else None
    return SVDResult(U, s, np.ascontiguousarray(Vt_b))


def randomized_svd(X, n_components, *, n_oversamples, n_iter, compute_u, random_state):
    """Rank-``n_components`` SVD from a randomized range finder.

    Algorithm 4.4 of Halko, Martinsson and Tropp (2011), with LU-normalised power
    iterations as in scikit-learn: ``Q = orth((AAᵀ)^q A Ω)`` for a Gaussian ``Ω``
    with ``k + n_oversamples`` columns, then the exact SVD of ``QᵀA``.
    """
    A, transposed = _tall(X)
    n_iter = resolve_n_iter(n_iter, n_components, X.shape)
    size = min(n_components + n_oversamples, min(X.shape))
    Omega = random_state.standard_normal(size=(A.shape[1], size)).astype(X.dtype)
    Y = A @ Omega
    for _ in range(n_iter):
        Y = A @ _lu_normalize(A.T @ _lu_normalize(Y))
    Q = _orth(Y)
    # (AᵀQ)ᵀ rather than QᵀA: the sparse product is then a sparse-times-dense one.
    B = np.asarray((A.T @ Q).T)
    return _assemble(Q, B, n_components, transposed, compute_u)


def randomized_svd_by_energy(
    X, energy, norm, *, n_oversamples, n_iter, compute_u, random_state, block_size=16
):
    """Smallest-rank SVD whose projection keeps ``energy`` of ``‖X‖²_F``.

    The basis grows block by block (randQB_EI, Yu, Gu and Li 2018): each new block
    is sketched from the part of ``A`` that the current basis ``Q`` misses, refined
    by power iterations with re-orthogonalisation, and its energy ``‖QᵢᵀA‖²_F`` is
    added. Growth stops once ``‖B‖²_F ≥ energy·‖X‖²_F`` for ``B = QᵀA``; one more
    block of ``n_oversamples`` columns then sharpens the leading factors.

    The rank ``r`` is the smallest with ``Σᵢ≤ᵣ σᵢ(B)² ≥ energy·‖X‖²_F``. Since
    ``σᵢ(B)² `` is exactly the energy the returned ``r`` components keep when X is
    projected onto them, the target is met by the returned factors themselves; as
    ``σᵢ(B) ≤ σᵢ(X)``, ``r`` is never below the optimal rank and rarely above it.
    The block size doubles at each step, so the number of passes over ``X`` grows
    with the logarithm of the rank.
    """
    A, transposed = _tall(X)
    long_side, short_side = A.shape[0], A.shape[1]
    Q = np.empty((long_side, 0), dtype=X.dtype)
    B = np.empty((0, short_side), dtype=X.dtype)
    captured = 0.0
    block = block_size
    n_iter = resolve_n_iter(n_iter, block_size, X.shape)
    # Energies are fractions of ‖X‖²_F, formed before squaring: huge or tiny data
    # neither overflows nor underflows.
    while captured < energy and Q.shape[1] < short_side:
        Q_i, B_i = _grow_basis(A, Q, B, block, n_iter, random_state)
        Q, B = np.hstack([Q, Q_i]), np.vstack([B, B_i])
        captured += float(np.sum((B_i.astype(np.float64) / norm) ** 2))
        block *= 2
    rank = _rank(B, energy, norm)
    missing = rank + n_oversamples - Q.shape[1]
    if missing > 0 and Q.shape[1] < short_side:
        Q_i, B_i = _grow_basis(A, Q, B, missing, n_iter, random_state)
        Q, B = np.hstack([Q, Q_i]), np.vstack([B, B_i])
        rank = _rank(B, energy, norm)
    return _assemble(Q, B, rank, transposed, compute_u)


def _rank(B, energy, norm):
    s = la.svd(B, compute_uv=False, check_finite=False)
    rank = rank_for_energy(s, energy, norm)
    # Rounding can leave the total a hair below an energy that exact arithmetic
    # reaches (everything kept); every computed component is then needed.
    return s.size if rank is None else rank


def _grow_basis(A, Q, B, size, n_iter, random_state):
    """One block of randQB_EI: new orthonormal columns and their rows of ``QᵀA``."""
    size = min(size, A.shape[1] - Q.shape[1])
    Omega = random_state.standard_normal(size=(A.shape[1], size)).astype(A.dtype)
    Q_i = _orth(A @ Omega - Q @ (B @ Omega))
    for _ in range(n_iter):
        # Aᵀ(I − QQᵀ)Qᵢ and then (I − QQᵀ)A Z, without forming the deflated matrix.
        Z = _orth(A.T @ Q_i - B.T @ (Q.T @ Q_i))
        Q_i = _orth(A @ Z - Q @ (B @ Z))
    Q_i = _orth(Q_i - Q @ (Q.T @ Q_i))
    B_i = np.asarray((A.T @ Q_i).T)
    return Q_i, B_i
