"""Randomized SVD (Halko, Martinsson and Tropp) for a rank or an energy target."""

import numpy as np
import scipy.linalg as la

from sksvd.linalg._checks import rank_for_energy
from sksvd.linalg._exact import numpy_svd
from sksvd.linalg._operand import into_range, times_unit
from sksvd.linalg._result import SVDResult

# With ``ns`` (a :class:`~sksvd.linalg._namespace.Namespace`) the same algorithms
# run in an array-API namespace on its device: QR stands in for LU (the standard
# has no LU), which spans the same subspace, and the Gaussian draws come from the
# same random state as for NumPy input.


def resolve_n_iter(n_iter, n_components, shape):
    """Power iterations for ``n_iter="auto"``: scikit-learn's rule.

    Seven when fewer than a tenth of ``min(shape)`` components are asked for (the
    case where the tail of the spectrum dominates the sketch), four otherwise.
    """
    if n_iter != "auto":
        return n_iter
    return 7 if n_components < 0.1 * min(shape) else 4


def _orth(Y, ns=None):
    if ns is not None:
        return ns.xp.linalg.qr(Y)[0]
    # NumPy's QR beside NumPy's products: SciPy's, whose OpenBLAS threads
    # contend with NumPy's, took 14 ms instead of 1 ms after each product
    # (1000 × 16 basis, 2 cores).
    return np.linalg.qr(Y)[0]


def _lu_normalize(Y, ns=None):
    # LU with partial pivoting keeps the columns of a power iterate from collapsing
    # onto the dominant direction at a fraction of the cost of a QR; only the last
    # basis needs to be orthonormal.
    if ns is not None:
        return _orth(Y, ns)
    return la.lu(Y, permute_l=True, check_finite=False)[0]


def _gaussian(random_state, shape, dtype, ns):
    if ns is not None:
        from sksvd.linalg._namespace import standard_normal

        return standard_normal(random_state, shape, dtype, ns)
    return random_state.standard_normal(size=shape).astype(dtype)


def _stack(blocks, axis, ns):
    if ns is not None:
        return ns.xp.concat(blocks, axis=axis)
    return np.concatenate(blocks, axis=axis)


def _tall(X):
    """Return the tall orientation of X and whether it is transposed.

    The sketch then has ``min(m, n)`` rows on its short side, which is what the
    small dense SVD at the end costs.
    """
    transposed = X.shape[0] < X.shape[1]
    return (X.T if transposed else X), transposed


def _svd(B, ns, compute_uv=True):
    if ns is not None:
        if not compute_uv:
            return ns.xp.linalg.svdvals(B)
        return ns.xp.linalg.svd(B, full_matrices=False)
    return numpy_svd(B, compute_uv=compute_uv)


def _assemble(Q, B, n_components, transposed, compute_u, ns=None):
    """SVD of the projected matrix ``B = QᵀA`` lifted back through ``Q``."""
    U_b, s, Vt_b = _svd(B, ns)
    k = n_components
    U_b, s, Vt_b = U_b[:, :k], s[:k], Vt_b[:k, :]
    if ns is not None:
        if transposed:
            return SVDResult(Vt_b.T if compute_u else None, s, (Q @ U_b).T)
        return SVDResult(Q @ U_b if compute_u else None, s, Vt_b)
    if transposed:
        # A = Xᵀ ≈ (Q U_b) Σ Vt_b, so X ≈ Vt_bᵀ Σ (Q U_b)ᵀ.
        U = np.ascontiguousarray(Vt_b.T) if compute_u else None
        return SVDResult(U, s, np.ascontiguousarray((Q @ U_b).T))
    U = Q @ U_b if compute_u else None
    return SVDResult(U, s, np.ascontiguousarray(Vt_b))


def randomized_svd(
    X, n_components, *, n_oversamples, n_iter, compute_u, random_state, ns=None
):
    """Rank-``n_components`` SVD from a randomized range finder.

    Algorithm 4.4 of Halko, Martinsson and Tropp (2011), with LU-normalised power
    iterations as in scikit-learn: ``Q = orth((AAᵀ)^q A Ω)`` for a Gaussian ``Ω``
    with ``k + n_oversamples`` columns, then the exact SVD of ``QᵀA``. Data
    outside its dtype's safe range is sketched divided by its largest
    magnitude (:func:`~sksvd.linalg._operand.into_range`).
    """
    scaled, unit = into_range(X, ns=ns)
    if unit != 1.0:
        U, s, Vt = randomized_svd(
            scaled,
            n_components,
            n_oversamples=n_oversamples,
            n_iter=n_iter,
            compute_u=compute_u,
            random_state=random_state,
            ns=ns,
        )
        return SVDResult(U, times_unit(s, unit), Vt)
    A, transposed = _tall(X)
    n_iter = resolve_n_iter(n_iter, n_components, X.shape)
    size = min(n_components + n_oversamples, min(X.shape))
    Omega = _gaussian(random_state, (A.shape[1], size), X.dtype, ns)
    Y = A @ Omega
    for _ in range(n_iter):
        Y = A @ _lu_normalize(A.T @ _lu_normalize(Y, ns), ns)
    Q = _orth(Y, ns)
    # (AᵀQ)ᵀ rather than QᵀA: the sparse product is then a sparse-times-dense one.
    B = (A.T @ Q).T if ns is not None else np.asarray((A.T @ Q).T)
    return _assemble(Q, B, n_components, transposed, compute_u, ns)


def randomized_svd_by_energy(
    X,
    energy,
    norm,
    *,
    n_oversamples,
    n_iter,
    compute_u,
    random_state,
    block_size=16,
    max_width=None,
    ns=None,
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

    Returns None, having stopped early, when the basis would grow past
    ``max_width`` columns (the caller then runs an exact SVD). Data outside
    its dtype's safe range is sketched as :func:`randomized_svd` sketches it.
    """
    scaled, unit = into_range(X, ns=ns)
    if unit != 1.0:
        result = randomized_svd_by_energy(
            scaled,
            energy,
            norm / unit,
            n_oversamples=n_oversamples,
            n_iter=n_iter,
            compute_u=compute_u,
            random_state=random_state,
            block_size=block_size,
            max_width=max_width,
            ns=ns,
        )
        if result is None:
            return None
        return SVDResult(result.U, times_unit(result.s, unit), result.Vt)
    A, transposed = _tall(X)
    long_side, short_side = A.shape[0], A.shape[1]
    if ns is None:
        Q = np.empty((long_side, 0), dtype=X.dtype)
        B = np.empty((0, short_side), dtype=X.dtype)
    else:
        Q = ns.xp.zeros((long_side, 0), dtype=X.dtype, device=ns.device)
        B = ns.xp.zeros((0, short_side), dtype=X.dtype, device=ns.device)
    captured = 0.0
    block = block_size
    n_iter = resolve_n_iter(n_iter, block_size, X.shape)
    # Energies are fractions of ‖X‖²_F, formed before squaring: huge or tiny data
    # neither overflows nor underflows.
    while captured < energy and Q.shape[1] < short_side:
        if max_width is not None and Q.shape[1] + block > max_width:
            return None
        Q_i, B_i = _grow_basis(A, Q, B, block, n_iter, random_state, ns)
        Q, B = _stack([Q, Q_i], 1, ns), _stack([B, B_i], 0, ns)
        captured += _energy(B_i, norm, ns)
        block *= 2
    rank = _rank(B, energy, norm, ns)
    missing = rank + n_oversamples - Q.shape[1]
    if missing > 0 and Q.shape[1] < short_side:
        Q_i, B_i = _grow_basis(A, Q, B, missing, n_iter, random_state, ns)
        Q, B = _stack([Q, Q_i], 1, ns), _stack([B, B_i], 0, ns)
        rank = _rank(B, energy, norm, ns)
    return _assemble(Q, B, rank, transposed, compute_u, ns)


def _energy(B_i, norm, ns):
    """``‖Bᵢ/‖X‖_F‖²_F``, in float64 (the device's widest float for ``ns``)."""
    if ns is not None:
        scaled = ns.float64(B_i) / norm
        return float(ns.xp.sum(scaled * scaled))
    return float(np.sum((B_i.astype(np.float64) / norm) ** 2))


def _rank(B, energy, norm, ns=None):
    s = _svd(B, ns, compute_uv=False)
    if ns is not None:
        s = ns.numpy(s)
    rank = rank_for_energy(s, energy, norm)
    # Rounding can leave the total a hair below an energy that exact arithmetic
    # reaches (everything kept); every computed component is then needed.
    return s.size if rank is None else rank


def _grow_basis(A, Q, B, size, n_iter, random_state, ns=None):
    """One block of randQB_EI: new orthonormal columns and their rows of ``QᵀA``."""
    size = min(size, A.shape[1] - Q.shape[1])
    Omega = _gaussian(random_state, (A.shape[1], size), A.dtype, ns)
    Q_i = _orth(A @ Omega - Q @ (B @ Omega), ns)
    for _ in range(n_iter):
        # Aᵀ(I − QQᵀ)Qᵢ and then (I − QQᵀ)A Z, without forming the deflated matrix.
        Z = _orth(A.T @ Q_i - B.T @ (Q.T @ Q_i), ns)
        Q_i = _orth(A @ Z - Q @ (B @ Z), ns)
    Q_i = _orth(Q_i - Q @ (Q.T @ Q_i), ns)
    B_i = (A.T @ Q_i).T if ns is not None else np.asarray((A.T @ Q_i).T)
    return Q_i, B_i
