"""Block Lanczos on the Gram operator, to a requested accuracy, for a few triplets.

For the largest singular values of a large sparse matrix to a stated relative
accuracy (``tol``), faster than a randomized subspace iteration reaches the
same accuracy: the Krylov space of ``XᵀX`` (never formed) is grown in small
blocks, so its polynomial degree is high for its dimension (Musco and Musco,
NeurIPS 2015, for the gain of block Krylov over subspace iteration; Golub and
Underwood, 1977, for block Lanczos). The basis lives in the short side's space
and is fully reorthogonalised; no restarts.

With ``A = XᵀX`` (X tall; a wide X is factored as Xᵀ) and the orthonormal
basis V = [V₀, …, Vⱼ] of blocks of b vectors, the recurrence keeps

    A V = V T + Vⱼ₊₁ Rⱼ₊₁ Eⱼᵀ,

with T = VᵀAV block tridiagonal (bandwidth b) and Eⱼ selecting the last block.
The Ritz pairs (θ, s) of T give ``v = V s``, ``σ̂ = √θ`` and the residual
``‖A v − θ v‖ = ‖Rⱼ₊₁ sⱼ‖`` without a product with X. Rayleigh–Ritz values
never exceed the true ones: ``σ̂ᵢ ≤ σᵢ``.
"""

import numpy as np
from scipy.linalg import eig_banded

from sksvd.linalg._lanczos import (
    _orthonormalise,
    _products,
    _Repeated,
    _Schedule,
    _start,
)
from sksvd.linalg._policy import gram_tolerance
from sksvd.linalg._result import SVDResult


class BlockKrylovConvergenceError(ValueError):
    """The basis limit was reached before the accuracy asked for (a ValueError)."""


# Block size. On a 100000 × 20000 sparse matrix with 2e6 stored entries
# (SciPy 1.17, 2 cores), the two products cost 2–3 ms per vector for blocks of
# 8 to 110, and 6.7 ms one vector at a time; for 100 values to 6 % (about the
# accuracy of scikit-learn's randomized TruncatedSVD with its defaults) blocks
# of 8 took 1.7 s, blocks of 16 2.1 s, blocks of 50 2.1 s and blocks of 110
# 2.8 s: a small block buys polynomial degree.
BLOCK = 8
# The basis grows to at most this many times the triplets asked for (and at
# least a few dozen blocks), and never past the short side.
DIM_FACTOR = 10
MIN_BLOCKS = 40
# The recurrence's residuals stop meaning anything below rounding in A = XᵀX,
# about eps·σ₁² times a small factor: the test takes at least this many eps·θ₁.
FLOOR = 64
# A block of b vectors holds at most b copies of a repeated value: b Ritz
# values that agree far more closely than they stand from the next one below
# (SEPARATION times) rerun it with a block twice as large, up to MAX_BLOCK.
# Converged copies of a value need not agree to rounding at a loose tol (8
# copies of √150 spread over 2e-7 relative were measured at tol = 0.1), but
# their spread stays far below the gap; on a flat or a geometric spectrum b
# consecutive values spread over about b gaps.
SEPARATION = 16
MAX_BLOCK = 64
# T's eigenpairs at a check: LAPACK's dense eigh up to this dimension (42 ms
# at d = 700, against 76–94 ms for the banded solver asked for k pairs), the
# banded solver beyond (its memory is the band).
DENSE_EIGH = 4096
# At least d/SPACING vectors between checks: on a flat spectrum the residuals
# fall like a power of d, slower than the schedule's geometric guess.
SPACING = 8


def block_krylov_svd(X, n_components, *, tol, compute_u, random_state):
    """The ``n_components`` largest singular triplets of X, to relative accuracy tol.

    Parameters
    ----------
    X : ndarray, sparse matrix or LinearOperator
        Float32 or float64, with ``k < min(m, n)``; only products ``X @ W``
        and ``Xᵀ @ W`` are used.
    n_components : int
        Triplets asked for.
    tol : float
        Stop once every returned pair has ``‖XᵀX v − σ̂² v‖ ≤ tol·σ̂²``, or
        the rounding level ``64·eps·σ̂₁²`` of the squared operator where that
        is larger (so 0 asks for as much as the squaring allows).
    compute_u : bool
        Whether U is formed (one more product with X, for k vectors).
    random_state : numpy.random.RandomState
        Draws the starting block.

    Returns
    -------
    SVDResult
        Descending values. Each ``σ̂ᵢ`` is at most ``σᵢ`` (Rayleigh–Ritz) and
        within ``tol·σ̂ᵢ`` (or the rounding level above) of a singular value of
        X: ``|σ² − σ̂²| ≤ r`` gives ``|σ − σ̂| ≤ r/σ̂``. Where the spectrum is
        dense near ``σᵢ`` that singular value need not be ``σᵢ``; on a flat
        spectrum the error to ``σᵢ`` was measured at up to 1.7·tol for
        tol ≤ 0.1 (1.9·tol at tol = 0.3). With ``compute_u`` the values are
        the norms ``‖X vᵢ‖`` (no squaring) and ``uᵢ = X vᵢ/σ̂ᵢ``; otherwise
        ``σ̂ᵢ = √θᵢ``, whose relative rounding is about ``64·eps·(σ₁/σᵢ)²``.
        V is orthonormal to rounding; U to about ``64·eps·σ₁²/(σᵢσⱼ)``, which
        the hand-over below keeps within ``max(tol, eps^(2/3))``.

    Raises
    ------
    BlockKrylovConvergenceError
        When the basis reaches ``max(10·k, k + 320)`` vectors (or the short
        side) first; when the squaring's rounding ``64·eps·θ₁/θᵢ`` of any
        returned value exceeds both tol and ``eps^(2/3)`` (σ₁/σᵢ beyond about
        50 at tol = 0, 8e5 at tol = 1e-2 in float64; a zero value included);
        or when a value repeats 64 times or more. The engine then hands over
        to ARPACK, or to LAPACK on a small matrix.

    Notes
    -----
    A block of b vectors finds at most b copies of a repeated singular value;
    when b Ritz values agree far more closely than they stand from the next
    (within 1/16 of that gap, or to rounding) and the k-th returned value is
    not one of them, the run is repeated with a block twice as large (up to
    64), so that no copy of a separated value is skipped, as
    :func:`~sksvd.linalg._lanczos.lanczos_svd` does. Copies inside a dense
    part of the spectrum cannot be told from distinct values to tol; there
    the error to σᵢ is that of the flat spectrum above.
    """
    if X.shape[0] < X.shape[1]:
        # The basis in the short side's space: for wide X, XXᵀ.
        U, s, Vt = block_krylov_svd(
            X.T, n_components, tol=tol, compute_u=True, random_state=random_state
        )
        return SVDResult(
            np.ascontiguousarray(Vt.T) if compute_u else None,
            s,
            np.ascontiguousarray(U.T),
        )
    k, n = n_components, X.shape[1]
    b = BLOCK
    while True:
        b = max(1, min(b, (n - k) // 2))
        try:
            return _run(X, k, b, tol, compute_u, random_state)
        except _Repeated as repeated:
            if b >= MAX_BLOCK or b >= (n - k) // 2:
                raise BlockKrylovConvergenceError(
                    f"a singular value repeats {repeated.count} times or more; "
                    "block Krylov cannot separate so many copies here. Use "
                    "solver='full'."
                ) from None
            b = min(MAX_BLOCK, 2 * repeated.count)


def _run(X, k, b, tol, compute_u, random_state):
    """One block Krylov run with block size b (see :func:`block_krylov_svd`)."""
    m, n = X.shape
    dtype = np.dtype(X.dtype)
    work = np.float64 if dtype == np.float64 else np.float32
    eps = float(np.finfo(work).eps)
    max_dim = min(n - b, max(DIM_FACTOR * k, k + MIN_BLOCKS * b))
    if max_dim < k:
        raise BlockKrylovConvergenceError(
            f"block Krylov needs n_components < min(n_samples, n_features), got "
            f"{k} components of a matrix whose short side is {n}; use "
            "solver='full'."
        )
    forward, backward = _products(X, work)
    Vt = np.empty((max_dim + b, n), dtype=work)
    Vt[:b] = _start(random_state, b, n, work)
    # T's lower band (band[i − j, j] = T[i, j]): a diagonal block and the
    # block below it reach 2b − 1 below the diagonal.
    band = np.zeros((2 * b, max_dim + b), dtype=work)
    p, q = np.indices((b, b))
    lower = p >= q
    d = 0  # basis rows that A has been applied to
    top = 0.0  # a lower bound on θ₁ = σ₁²
    schedule = _Schedule(b)
    width = 0  # T's lower bandwidth so far
    next_check = 0
    while d + b <= max_dim:
        block = Vt[d : d + b]
        Wt = backward(forward(block))
        # Three-term recurrence: the previous block and this one...
        low = max(0, d - b)
        near = Vt[low : d + b]
        H = Wt @ near.T
        Wt -= H @ near
        # ... then one pass against the whole basis for the rounding that
        # breaks the recurrence's orthogonality (two passes in all).
        basis = Vt[: d + b]
        H2 = Wt @ basis.T
        Wt -= H2 @ basis
        diagonal = H[:, d - low :] + H2[:, d:]
        band[(p - q)[lower], d + q[lower]] = ((diagonal + diagonal.T) / 2)[lower]
        top = max(top, float(np.max(np.diag(diagonal))))
        tiny = 16 * eps * top
        Vt[d + b : d + 2 * b], R = _orthonormalise(Wt, basis, tiny, random_state)
        # Wᵀ = Rᵀ Qᵗ: A's block on the new directions is R, upper triangular
        # from CholeskyQR2 (bandwidth b), full where directions were replaced
        # (up to 2b − 1).
        band[b + p - q, d + q] = R
        rows, columns = np.nonzero(R)
        width = max(width, b - 1, b + int(np.max(rows - columns, initial=0)))
        d += b
        # The eigenpairs of T cost about as much as a block's step at d = 600:
        # checked when the residuals' fall so far predicts convergence.
        if d < k or not (schedule.due() and d >= next_check or d + b > max_dim):
            continue
        next_check = d + d // SPACING
        theta, S = _leading(band, d, width, k)
        top = max(top, float(theta[0]))
        residual = np.linalg.norm(R @ S[d - b : d], axis=0)
        if top == 0.0:  # X V = 0 on the whole basis: X is zero
            return _ritz(Vt[:d], theta, S, dtype, forward, compute_u, random_state)
        floor = FLOOR * eps * top
        excess = np.max(residual / np.maximum(tol * theta, floor))
        if excess > 1.0:
            schedule.record(d, excess)
            continue
        if _repeated(theta, k, b, floor):
            raise _Repeated(b)
        if np.any(floor > max(tol, gram_tolerance(work)) * theta):
            relative = floor / theta[-1] if theta[-1] > 0 else np.inf
            raise BlockKrylovConvergenceError(
                f"the squared operator's rounding ({relative:.1e} relative in "
                f"the smallest value) exceeds tol={tol:g}: "
                "sigma_1/sigma_k is too large for block Krylov; use "
                "solver='arpack'."
            )
        return _ritz(Vt[:d], theta, S, dtype, forward, compute_u, random_state)
    raise BlockKrylovConvergenceError(
        f"block Krylov did not reach tol={tol:g} for {k} singular values within "
        f"a basis of {max_dim} vectors; use solver='arpack'."
    )


def _repeated(theta, k, b, floor):
    """Whether b of the k values may be copies of one with more copies unseen.

    True when b consecutive Ritz values agree within ``4·floor`` or within
    1/16 of their distance to the next value, and that next value is among
    the k returned (a group reaching the k-th value could only miss copies
    that would displace other copies).
    """
    if k <= b:
        return False
    spread = theta[: k - b] - theta[b - 1 : k - 1]
    below = theta[b - 1 : k - 1] - theta[b:k]
    return bool(np.any(spread <= np.maximum(4 * floor, below / SEPARATION)))


def _leading(band, d, width, k):
    """The k largest eigenpairs of T's leading d × d block, of bandwidth ``width``."""
    width = min(width, d - 1)
    leading = band[: width + 1, :d].copy()
    for offset in range(1, width + 1):
        leading[offset, d - offset :] = 0.0  # entries below row d
    if d <= DENSE_EIGH:
        T = np.zeros((d, d), dtype=band.dtype)
        for offset in range(width + 1):
            rows = np.arange(offset, d)
            T[rows, rows - offset] = leading[offset, : d - offset]
        theta, S = np.linalg.eigh(T)  # the lower triangle is read
        return np.maximum(theta[::-1][:k], 0.0), S[:, ::-1][:, :k]
    theta, S = eig_banded(
        leading, lower=True, select="i", select_range=(d - k, d - 1), check_finite=False
    )
    return np.maximum(theta[::-1], 0.0), S[:, ::-1]


def _ritz(basis, theta, S, dtype, forward, compute_u, random_state):
    """Triplets from the Ritz pairs; with U, values as the norms ‖X v‖."""
    Vk = np.ascontiguousarray(S.T @ basis)
    if not compute_u:
        return SVDResult(None, np.sqrt(theta).astype(dtype), Vk.astype(dtype))
    Ut = forward(Vk)
    s = np.linalg.norm(Ut, axis=1)
    order = np.argsort(s)[::-1]
    s, Ut, Vk = s[order], Ut[order], Vk[order]
    # X v is zero to rounding for a null direction of X: its u is any unit
    # vector orthogonal to the others.
    good = s > FLOOR * np.finfo(Ut.dtype).eps * s[0]
    Ut[good] /= s[good, np.newaxis]
    s[~good] = 0.0
    missing = np.count_nonzero(~good)
    if missing:
        fresh = random_state.standard_normal((missing, Ut.shape[1])).astype(Ut.dtype)
        kept = Ut[good]
        for _ in range(2):
            fresh -= (fresh @ kept.T) @ kept
        Ut[~good] = np.linalg.qr(fresh.T)[0].T
    return SVDResult(
        np.ascontiguousarray(Ut.T, dtype=dtype),
        s.astype(dtype),
        np.ascontiguousarray(Vk, dtype=dtype),
    )
