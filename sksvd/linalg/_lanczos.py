"""Block Golub–Kahan–Lanczos bidiagonalisation for a few singular triplets.

Works on X itself (no squaring), with products by blocks of 2 vectors (larger
where a singular value repeats), full reorthogonalisation of both bases (two
Gram–Schmidt passes, then CholeskyQR2 within the block), and thick restarts
that keep the leading Ritz vectors (Baglama and Reichel, SIAM J. Sci. Comput.
27, 2005, for one vector; Golub, Luk and Overton, ACM TOMS 7, 1981, for the
block recurrence).

With ``Ū`` (m × d) and ``V̄`` (n × d) orthonormal and the next block ``V₊``,
the recurrence keeps

    X V̄ = Ū B,        Xᵀ Ū = V̄ Bᵀ + V₊ C Eᵀ,

where B = ŪᵀXV̄ is a small d × d matrix and E selects the last block. The
Ritz triplets are those of the SVD B = Y Θ Zᵀ: ``u = Ū y``, ``v = V̄ z``, with
``X v = θ u`` exactly and ``‖Xᵀu − θ v‖ = ‖C yₗₐₛₜ‖``, so the residual of every
triplet costs no product with X.
"""

import numpy as np

from sksvd.linalg._result import SVDResult


class LanczosConvergenceError(ValueError):
    """Block Lanczos could not certify the triplets asked for (a ValueError)."""


class _Repeated(Exception):
    """A converged singular value repeats ``count`` times: the block was too small."""

    def __init__(self, count):
        super().__init__(count)
        self.count = count


# Block size: the smallest that can tell a repeated singular value (found
# twice, it reruns with a larger block). A small block keeps the polynomial
# degree of the Krylov space high for its dimension: on a 2000 × 1125
# image-like matrix, blocks of 2 took 18–170 ms for 5–50 triplets, blocks of
# 4 23–177 ms.
BLOCK = 2
# Dense products by BLAS-3 from this block size on, one vector at a time below:
# on 2000 × 1125 (OpenBLAS 0.3.31, 2 cores), ``Vt @ Aᵀ`` took 0.59 ms for 2
# vectors against 0.53 ms one at a time, and 0.75 ms against 1.06 ms for 4;
# ``Ut @ A`` 0.60 ms against 0.69 ms for 2.
GEMM_FROM = 4
GEMM_FROM_BACKWARD = 2
# The largest block tried when a singular value repeats, and the factor on the
# restarts such a rerun is allowed.
MAX_BLOCK = 64
RERUN_RESTARTS = 5
# Every returned triplet has a residual ‖Xᵀu − σv‖ of at most this many
# eps·σ₁ (and X v = σ u to rounding).
ACCURACY = 128
# The basis grows to this many times the triplets kept at a restart, which are
# the k asked for and this many more.
DIM_FACTOR = 2
KEEP_EXTRA = 16
# The small SVD is computed after every block step while CHECK_COST·d³ is at
# most the m·n·b multiply-adds of the step's products; past that, when the
# schedule predicts convergence. On 2000 × 1125 this cut the products for 5
# and 10 triplets by a third (36 and 46 vectors to 24 and 32).
CHECK_COST = 16
# Two orthogonalisation passes against the basis ("twice is enough").
_PASSES = 2
# A new block is orthogonal to the basis once its overlaps are at most this
# many eps (times √d); otherwise it is orthogonalised again.
_ORTHOGONALITY = 4


def lanczos_svd(X, n_components, *, compute_u, random_state, max_restarts=30):
    """The ``n_components`` largest singular triplets of X by block Lanczos.

    Parameters
    ----------
    X : ndarray, sparse matrix or LinearOperator
        Float32 or float64; only products ``X @ W`` and ``Xᵀ @ W`` are used.
    n_components : int
        Triplets asked for, ``1 ≤ k ≤ min(m, n) − 4``.
    compute_u : bool
        Whether U is formed.
    random_state : numpy.random.RandomState
        Draws the starting block (and the fresh directions an exhausted
        Krylov space is continued with).
    max_restarts : int, default=30
        Thick restarts allowed before giving up.

    Returns
    -------
    SVDResult
        Descending values. Each triplet has ``X v = σ u`` to rounding and a
        residual r = ``‖Xᵀu − σv‖`` that the recurrence puts at most at
        ``128·eps·σ₁`` (forming u and v adds rounding: up to about
        ``250·eps·σ₁`` was measured inside tight clusters). σ is within r of a
        singular value of X (within ``r²/gap`` where it is separated by gap
        from the rest of the spectrum), and u, v within about ``r/gap`` of its
        singular vectors, as LAPACK's are within a small multiple of
        ``eps·σ₁/gap``.

    Raises
    ------
    LanczosConvergenceError
        When the restarts run out, when ``min(m, n) < k + 4``, or when a
        singular value repeats at least 64 times.

    Notes
    -----
    A block Krylov space of block size b holds at most b copies of a
    repeated singular value: a value found b times may have more copies that
    were skipped. Unless its copies already fill the k asked for, the run is
    then repeated with a block larger than the repetition (up to 64), so that
    no requested triplet is skipped. Wide X is factored as Xᵀ, so that the
    basis grows in the short side's space.
    """
    if X.shape[0] < X.shape[1]:
        # The right factor from the short side: a start block in the long space
        # would spend the basis on directions X annihilates.
        U, s, Vt = lanczos_svd(
            X.T,
            n_components,
            compute_u=True,
            random_state=random_state,
            max_restarts=max_restarts,
        )
        return SVDResult(
            np.ascontiguousarray(Vt.T) if compute_u else None,
            s,
            np.ascontiguousarray(U.T),
        )
    k = n_components
    b = BLOCK
    while True:
        b = min(b, (min(X.shape) - k) // 2)
        if b < 2:
            raise LanczosConvergenceError(
                f"block Lanczos needs min(n_samples, n_features) >= n_components "
                f"+ 4, got {n_components} components of a matrix whose short side "
                f"is {min(X.shape)}; use solver='full'."
            )
        try:
            return _run(X, k, b, compute_u, random_state, max_restarts)
        except _Repeated as repeated:
            if b >= MAX_BLOCK or b >= (min(X.shape) - k) // 2:
                raise LanczosConvergenceError(
                    f"a singular value repeats {repeated.count} times or more; "
                    "block Lanczos cannot separate so many copies here. Use "
                    "solver='full'."
                ) from None
            b = min(MAX_BLOCK, 2 * repeated.count)
            # A larger block converges in fewer steps per vector but fewer of
            # them fit a restart cycle: it gets five times the restarts.
            max_restarts *= RERUN_RESTARTS


def _run(X, k, b, compute_u, random_state, max_restarts):
    """One block Lanczos run with block size b (see :func:`lanczos_svd`)."""
    m, n = X.shape
    dtype = np.dtype(X.dtype)
    work = np.float64 if dtype == np.float64 else np.float32
    eps = float(np.finfo(work).eps)
    # The basis holds the k wanted triplets, those kept at a restart and a few
    # blocks beyond them, and leaves a block of room in the whole space
    # (k + 2b ≤ min(m, n), so at least one block beyond those kept).
    # A restart cycle has room for eight blocks at least, whatever the block.
    max_dim = min(
        min(m, n) - b, max(DIM_FACTOR * (k + KEEP_EXTRA), k + KEEP_EXTRA + 8 * b)
    )
    keep = min(k + KEEP_EXTRA, max_dim - b)
    forward, backward = _products(X, work)
    Ubuf = np.empty((max_dim + b, m), dtype=work)
    Vbuf = np.empty((max_dim + b, n), dtype=work)
    Vbuf[:b] = _start(random_state, b, n, work)
    B = np.zeros((max_dim + b, max_dim + b), dtype=work)
    d = 0  # rows of Ū (and of V̄ that X has been applied to)
    norm_estimate = 0.0
    restarts = 0
    schedule = _Schedule(b)
    while True:
        # Forward: X v for the new block, orthogonalised against Ū.
        W = forward(Vbuf[d : d + b])
        # ‖Xv‖ ≤ σ₁ for a unit v: a lower bound until the first small SVD.
        norm_estimate = max(norm_estimate, _largest_row(W))
        H = _orthogonalise(W, Ubuf[:d])
        tiny = 16 * eps * norm_estimate
        Ubuf[d : d + b], R = _orthonormalise(W, Ubuf[:d], tiny, random_state)
        B[:d, d : d + b] = H.T
        B[d : d + b, d : d + b] = R
        # Backward: Xᵀ u for the new block, orthogonalised against V̄.
        Z = backward(Ubuf[d : d + b])
        d += b
        _orthogonalise(Z, Vbuf[:d])
        full = d + b > max_dim
        # The small SVD every step while it costs little beside a block's
        # products (d³ against m·n·b): a check one step late costs a block.
        cheap = CHECK_COST * d**3 <= m * n * b
        if not (d > k and (cheap or schedule.due() or full)):
            Vbuf[d : d + b], _ = _orthonormalise(
                Z, Vbuf[:d], 16 * eps * norm_estimate, random_state
            )
            continue
        Yb, theta, Zbt = np.linalg.svd(B[:d, :d])
        norm_estimate = max(norm_estimate, float(theta[0]))
        Vbuf[d : d + b], C = _orthonormalise(
            Z, Vbuf[:d], 16 * eps * norm_estimate, random_state
        )
        residual = np.linalg.norm(C @ Yb[d - b : d, :k], axis=0)
        excess = _excess(theta, residual, eps)
        if excess <= 1.0:
            count = _repetition(theta, k, eps)
            if count >= b:
                raise _Repeated(count)
            return _ritz(Ubuf[:d], Vbuf[:d], Yb, theta, Zbt, k, dtype, compute_u)
        schedule.record(d, excess)
        if not full:
            continue
        if restarts == max_restarts:
            raise LanczosConvergenceError(
                f"block Lanczos did not converge to {k} singular triplets in "
                f"{max_restarts} restarts; use solver='arpack' or solver='full'."
            )
        restarts += 1
        # Thick restart: keep the leading Ritz triplets and continue from V₊.
        # Their coupling to V₊ (C y) comes back in the next forward step.
        Ubuf[:keep] = Yb[:, :keep].T @ Ubuf[:d]
        kept = Zbt[:keep] @ Vbuf[:d]
        Vbuf[keep : keep + b] = Vbuf[d : d + b]
        Vbuf[:keep] = kept
        B[:] = 0
        B[:keep, :keep] = np.diag(theta[:keep])
        d = keep
        schedule.restart()


class _Schedule:
    """When to compute the small SVD: predicted from how fast residuals fall.

    Each check costs an SVD of the d × d matrix B; between checks the largest
    ratio of a residual to its target is assumed to fall geometrically per
    block step, and the next check comes when it should reach the target
    (at most sixteen steps later).
    """

    def __init__(self, block):
        self.block = block
        self.wait = 0
        self.last = None

    def due(self):
        if self.wait > 0:
            self.wait -= 1
            return False
        return True

    def record(self, d, excess):
        steps = 1
        if self.last is not None and self.last[1] > excess and d > self.last[0]:
            drop = np.log(self.last[1] / excess) / (d - self.last[0])
            steps = int(np.clip(np.log(excess) / drop // self.block, 1, 16))
        self.last = (d, excess)
        self.wait = steps - 1

    def restart(self):
        self.last = None


def _products(X, work):
    """Row-block products: ``forward(Vt) = (X V)ᵀ`` and ``backward(Ut) = (XᵀU)ᵀ``.

    On a dense matrix ``Vt @ Xᵀ`` and ``Ut @ X`` are OpenBLAS's fastest forms
    of the two products for a block (from ``GEMM_FROM`` and
    ``GEMM_FROM_BACKWARD`` vectors); below that, one matrix-vector product per
    vector.
    """
    if isinstance(X, np.ndarray):
        A = X if X.dtype == work else X.astype(work)

        def forward(Vt):
            if len(Vt) >= GEMM_FROM:
                return Vt @ A.T
            return np.stack([A @ v for v in Vt])

        def backward(Ut):
            if len(Ut) >= GEMM_FROM_BACKWARD:
                return Ut @ A
            return np.stack([u @ A for u in Ut])

        return forward, backward

    def forward(Vt):
        return np.asarray(X @ Vt.T, dtype=work).T

    def backward(Ut):
        return np.asarray(X.T @ Ut.T, dtype=work).T

    return forward, backward


def _start(random_state, b, n, work):
    Q, _ = np.linalg.qr(random_state.standard_normal((n, b)))
    return np.ascontiguousarray(Q.T, dtype=work)


def _largest_row(W):
    return float(np.max(np.linalg.norm(W, axis=1), initial=0.0))


def _orthogonalise(W, basis):
    """Remove from the rows of W (in place) their components along ``basis``.

    Two classical Gram–Schmidt passes; returns the coefficients ``W basisᵀ``.
    """
    H = np.zeros((W.shape[0], basis.shape[0]), dtype=W.dtype)
    if basis.shape[0] == 0:
        return H
    for _ in range(_PASSES):
        step = W @ basis.T
        W -= step @ basis
        H += step
    return H


def _orthonormalise(W, basis, tiny, random_state):
    """Orthonormal rows Qt spanning W (already ⟂ basis), and R with W = Rᵀ Qt.

    CholeskyQR2 (two Cholesky factorisations of the b × b Gram matrix, BLAS-3)
    when W is well enough conditioned for it to be exact (Yamamoto et al.,
    ETNA 44, 2015); Householder QR otherwise. Directions of W below ``tiny``
    carry no information (an invariant Krylov space, a rank-deficient X): they
    are replaced by fresh random directions orthogonal to the basis, so that
    the process continues into the rest of the space.
    """
    Qt, R = _normalised(W, basis, tiny, random_state)
    # W's components along the basis are rounding (eps·‖W‖ before the last
    # pass), but normalising a direction of W far smaller than ‖W‖ enlarges
    # them by as much: measured, and removed by one more pass while they show.
    for _ in range(_PASSES):
        overlap = Qt @ basis.T
        if np.max(np.abs(overlap), initial=0.0) <= _ORTHOGONALITY * np.finfo(
            W.dtype
        ).eps * np.sqrt(max(basis.shape[0], 1)):
            break
        Qt = Qt - overlap @ basis
        Qt, R2 = _normalised(Qt, basis, 0.5, random_state)
        R = R2 @ R
    return Qt, R


def _normalised(W, basis, tiny, random_state):
    """``(Qt, R)`` with ``W = Rᵀ Qt`` and orthonormal rows (see _orthonormalise)."""
    factors = _cholesky_qr2(W)
    if factors is not None:
        Qt, R = factors
        if np.min(np.abs(np.diag(R)), initial=np.inf) > tiny:
            return Qt, R
    Q, R = np.linalg.qr(W.T)
    P, s, Qh = np.linalg.svd(R)
    good = np.flatnonzero(s > tiny)
    Qt = (Q @ P[:, good]).T
    R = np.zeros((W.shape[0], W.shape[0]), dtype=W.dtype)
    R[: len(good)] = s[good, np.newaxis] * Qh[good]
    missing = W.shape[0] - len(good)
    if missing:
        fresh = random_state.standard_normal((missing, W.shape[1])).astype(W.dtype)
        _orthogonalise(fresh, np.concatenate([basis, Qt]))
        F, _ = np.linalg.qr(fresh.T)
        Qt = np.concatenate([Qt, F.T])
    return np.ascontiguousarray(Qt), R


def _cholesky_qr2(W):
    """``(Qt, R)`` with ``W = Rᵀ Qt`` by CholeskyQR2; None if W is ill-conditioned.

    The first pass leaves ``‖Q₁Q₁ᵀ − I‖ ≈ eps·κ(W)²``; when that is below 0.1
    the second pass makes the rows orthonormal to working precision. The
    triangular solves are products with the b × b inverses: NumPy only, since
    SciPy's BLAS threads would spin against NumPy's between the calls.
    """
    try:
        L1 = np.linalg.cholesky(W @ W.T)
        Q = np.linalg.inv(L1) @ W
        G = Q @ Q.T
        if np.max(np.abs(G - np.eye(len(G), dtype=G.dtype))) > 0.1:
            return None
        L2 = np.linalg.cholesky(G)
    except np.linalg.LinAlgError:
        return None
    return np.linalg.inv(L2) @ Q, (L1 @ L2).T


def _excess(theta, residual, eps):
    """The largest ratio of a residual to its target ``128·eps·θ₁`` (≤ 1: done).

    A triplet with residual r has a singular value within r of θ (within
    ``r²/gap`` where the gap to the rest of the spectrum is wide), and vectors
    within about ``r/gap`` of X's, as LAPACK's are within a small multiple of
    ``eps·σ₁/gap``.
    """
    top = float(theta[0])
    if top == 0.0:
        return 0.0
    return float(np.max(residual)) / (ACCURACY * eps * top)


def _repetition(theta, k, eps):
    """The most copies found of a leading value that a missing copy would matter for.

    Copies are the Ritz values within ``512·eps·θ₁`` of it: converged copies of
    one value agree to twice the accuracy of each (``2·128·eps·σ₁``), and the
    window is twice that. A block of b vectors finds at most b copies of a
    repeated singular value, so a count of b or more means copies may be
    missing. They matter unless the k-th returned value is itself a copy, to
    the accuracy of two converged values (``256·eps·θ₁``): a missing copy
    would otherwise have displaced a smaller value. Values whose copies reach
    the k-th count for nothing (0); a narrower test only costs a rerun.
    """
    window = 4 * ACCURACY * eps * float(theta[0])
    same = 2 * ACCURACY * eps * float(theta[0])
    counts = [
        np.count_nonzero(np.abs(theta - value) <= window)
        for value in theta[:k]
        if theta[k - 1] < value - same
    ]
    return int(max(counts, default=0))


def _ritz(Ut, Vt, Yb, theta, Zbt, k, dtype, compute_u):
    U = (Yb[:, :k].T @ Ut).T.astype(dtype) if compute_u else None
    V = (Zbt[:k] @ Vt).astype(dtype)
    return SVDResult(
        None if U is None else np.ascontiguousarray(U),
        theta[:k].astype(dtype),
        np.ascontiguousarray(V),
    )
