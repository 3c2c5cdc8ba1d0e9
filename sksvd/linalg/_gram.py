"""The Gram solver: ``XᵀX`` of (centred, weighted) data in float64, and its eigenpairs.

Squaring doubles the condition number's exponent, so this solver is fast but
inexact for small singular values; :func:`sksvd.linalg._policy.gram_error_estimate`
says by how much, and the engine's guard refuses it when that is too much.
"""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from sksvd.linalg._norms import canonical, largest_magnitude
from sksvd.linalg._policy import GRAM_BLOCK_ROWS

# A block converted to float64 (float32 data, centred or weighted blocks) takes
# at most about this many bytes.
_BLOCK_BYTES = 32 * 2**20
# Largest mean²/variance of a feature for which XᵀX − n·μμᵀ is used: its rounding
# error relative to the centred sums of squares is about eps·(1 + nμ²/C).
SHIFT_RATIO = 100.0
# Up to this order the whole eigendecomposition by NumPy costs little; beyond,
# SciPy's syevr computes only the k leading pairs.
NUMPY_EIGH_MAX = 1000


def gram_matrix(X, mean=None, weights=None, raw=None):
    """``Zᵀ Z / unit²`` for ``Z = diag(√w)(X − 1μᵀ)``, in float64.

    The product is accumulated over blocks of :func:`row_block_size` rows (at most
    ``GRAM_BLOCK_ROWS``, fewer when a float64 block would exceed 32 MiB) and the
    block products are summed pairwise, so the rounding error grows with the
    logarithm of the row count, not with the row count (measured: at most
    0.45·eps·κ² relative in the singular values from 10⁴ to 4·10⁶ rows, where one
    BLAS product over all the rows reached 1.1·eps·κ²). Float32 data is converted
    block by block, so its Gram matrix carries float64's error, not float32's.

    When ``mean`` is given and every feature's mean is small next to its spread
    (``nμ² ≤ 100·C``), the cheaper ``XᵀX − n·μμᵀ`` is used (no centred copy of a
    block); otherwise each block is centred before it is multiplied. Data whose
    squares would leave float64's range is divided by its largest (centred)
    magnitude ``unit`` first.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    mean : ndarray of shape (n_features,), default=None
    weights : ndarray of shape (n_samples,), default=None
        Row weights ``w`` (the rows are multiplied by ``√w``).
    raw : ndarray of shape (n_features, n_features), default=None
        ``XᵀX`` of float64 X as :func:`gram_and_sums` formed it, when the caller
        has it already (unweighted X only): the shifted formula starts from it
        instead of a second pass.

    Returns
    -------
    G : ndarray of shape (n_features, n_features)
    unit : float
    cancellation : float
        ``1 + max nμⱼ²/Cⱼⱼ`` when the shifted formula was used, 1 otherwise: the
        factor by which its rounding error exceeds that of centred data.
    """
    n_samples, n_features = X.shape
    if sp.issparse(X):
        if mean is not None or weights is not None:
            raise ValueError("the Gram solver takes dense data when centring")
        X = canonical(X)  # its stored values are its entries
        unit = _unit(float(largest_magnitude(X.data)), X.shape)
        # In float64, as dense blocks are: float32's products lose digits, and
        # over- or underflow outside 1e±19.
        A = X.astype(np.float64)
        if unit != 1.0:
            A.data /= unit
        G = (A.T @ A).toarray()
        return G, unit, 1.0
    root = None if weights is None else np.sqrt(np.asarray(weights, np.float64))
    if mean is None:
        if root is None:
            G = _unscaled(X)
            if G is not None:
                return G, 1.0, 1.0
        unit = _unit(
            largest_magnitude(X) * (1.0 if root is None else root.max()), X.shape
        )
        return _blocked(X, None, root, unit), unit, 1.0
    mean = np.asarray(mean, dtype=np.float64)
    if root is None:
        shifted = _shifted(X, mean, raw)
        if shifted is not None:
            centred = np.maximum(np.diag(shifted), np.finfo(np.float64).tiny)
            return shifted, 1.0, 1.0 + float(np.max(n_samples * mean**2 / centred))
    G = _unscaled(X, mean=mean, root=root)
    if G is not None:
        return G, 1.0, 1.0
    # The largest centred magnitude, from column extremes (no temporary array).
    spread = np.maximum(X.max(axis=0) - mean, mean - X.min(axis=0))
    largest = float(spread.max()) if spread.size else 0.0
    if root is not None:
        largest *= float(root.max())
    unit = _unit(largest, X.shape)
    return _blocked(X, mean, root, unit), unit, 1.0


def row_block_size(n_features):
    """Rows per block: 16 per feature, at least 1024, at most ``GRAM_BLOCK_ROWS``.

    Fewer where a float64 block would exceed 32 MiB (beyond 4096 features).
    Sixteen rows per feature keep the block product at BLAS-3 speed (fewer slow
    it down on wide blocks: 1024 rows of 500 features took 560 ms where 8192
    took 480 ms on 200000 rows), and the column sums read right after the
    product then cost less than a pass of their own: on 10⁶ × 50, 9 ms after
    blocks of 1024 rows (which stay in cache) against 30 ms after blocks of
    16384 and 31 ms for ``X.mean``; on 200000 × 500, about 30 ms after blocks
    of 8000 rows against 58 ms for ``X.mean``.
    """
    width = max(n_features, 1)
    rows = min(GRAM_BLOCK_ROWS, max(1024, 16 * width), _BLOCK_BYTES // (8 * width))
    return int(max(1, rows))


def gram_and_sums(X):
    """``XᵀX`` and the column sums of float64 X, from one pass over its rows.

    Both are summed pairwise over the blocks of :func:`row_block_size`; the
    sums are formed as :func:`column_sums` forms them (BLAS products, whose
    last bits may depend on the number of BLAS threads). The product is not
    checked (see :func:`gram_matrix`, which takes it as ``raw``); a non-finite
    sum means a non-finite entry or an overflow.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _blocked(X, None, None, 1.0, sums=True)


def column_sums(X, weights=None):
    """Column sums of dense X (weighted by ``weights``), in float64.

    As :func:`gram_and_sums` forms them: a product with each block of rows
    (converted to float64 first), summed pairwise over the blocks.
    """
    rows = row_block_size(X.shape[1])
    ones = np.ones(min(rows, X.shape[0]))

    def terms():
        for start in range(0, X.shape[0], rows):
            block = X[start : start + rows]
            if block.dtype != np.float64:
                block = block.astype(np.float64)
            w = ones if weights is None else weights[start : start + rows]
            yield w[: block.shape[0]] @ block

    with np.errstate(over="ignore", invalid="ignore"):
        total = pairwise_sum(terms())
    return np.zeros(X.shape[1]) if total is None else total


def residual_mean(Z, weights=None):
    """The (weighted) column means of centred ``Z = X − 1μᵀ``, in float64.

    A mean rounded to float64 (or to float32) misses X's by ``δ``, up to half
    an ulp of μ: ``X − 1μᵀ`` keeps ``1δᵀ``, a rank-one term of norm about
    ``√n·eps·|μ|``. Where a feature's spread is far below its mean (a
    timestamp near 1.7e9 beside a duration) that is a spurious singular value,
    and a spurious rank for collinear features. The mean of the centred
    columns is ``δ`` to the rounding of the small centred values, so
    subtracting it removes the term (a second centring pass).
    """
    w = None if weights is None else np.asarray(weights, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        return column_sums(Z, w) / (Z.shape[0] if w is None else w.sum())


def rounding_only(delta, mean, eps, n_samples):
    """``delta`` where it can be the rounding of ``mean``, else 0.

    That is at most ``16·√n·eps·|μ|``: half an ulp, and the error of summing n
    values to form μ (a relative 1e-13 of μ at a million rows). A centre
    further from X's (weighted) mean is the caller's choice, and is kept.
    """
    bound = 16 * np.sqrt(max(n_samples, 1)) * eps
    with np.errstate(over="ignore", invalid="ignore"):
        small = np.abs(delta) <= bound * np.abs(np.asarray(mean, np.float64))
    return np.where(small & np.isfinite(delta), delta, 0.0)


def pairwise_sum(terms):
    """Pairwise sum of the arrays ``terms`` yields, in order; None for none.

    The partial sums sit on a stack: the binary counter of the pairwise
    summation, so the rounding grows with the logarithm of the count.
    """
    stack = []
    for count, term in enumerate(terms, start=1):
        while count % 2 == 0:
            term = stack.pop() + term
            count //= 2
        stack.append(term)
    if not stack:
        return None
    total = stack.pop()
    while stack:
        total = stack.pop() + total
    return total


def _blocked(X, mean, root, unit, sums=False):
    """Pairwise sum of the block products ``BᵀB``, B the prepared rows of X.

    With ``sums`` (plain float64 X only), also the pairwise sum of the
    blocks' column sums: ``(G, sums)``.
    """
    rows = row_block_size(X.shape[1])
    plain = mean is None and root is None and unit == 1.0 and X.dtype == np.float64
    if sums and not plain:
        raise ValueError("column sums come with the Gram matrix of plain float64 X")
    ones = np.ones(min(rows, X.shape[0]))
    # Centred blocks also give the (weighted) sums of the centred values: what
    # the rounded mean left (see residual_mean), removed from G at the end.
    with_sums = sums or mean is not None

    def products():
        for start in range(0, X.shape[0], rows):
            block = X[start : start + rows]
            if not plain:
                block = np.array(block, dtype=np.float64)
                if mean is not None:
                    block -= mean
                if root is not None:
                    block *= root[start : start + rows, np.newaxis]
                if unit != 1.0:
                    block /= unit
            if not with_sums:
                yield block.T @ block
                continue
            product = np.empty((X.shape[1] + 1, X.shape[1]))
            np.matmul(block.T, block, out=product[:-1])
            # Read while the block is still in cache: no pass of its own.
            w = ones if root is None else root[start : start + rows]
            np.matmul(w[: block.shape[0]], block, out=product[-1])
            yield product

    total = pairwise_sum(products())
    if total is None:
        total = np.zeros((X.shape[1] + with_sums, X.shape[1]))
    if sums:
        return np.ascontiguousarray(total[:-1]), total[-1].copy()
    if mean is not None:
        # Σ w(x − μ − δ)(x − μ − δ)ᵀ = G − t tᵀ/Σw, t = Σ w(x − μ) (scaled).
        weight = X.shape[0] if root is None else float(np.sum(root**2))
        G = np.ascontiguousarray(total[:-1])
        if weight > 0:
            eps = float(np.finfo(np.float64).eps)
            t = total[-1] / weight
            t = rounding_only(t, mean / unit, eps, X.shape[0]) * weight
            G -= np.outer(t, t) / weight
        return G
    return total


def _unscaled(X, raw=None, mean=None, root=None):
    """The Gram matrix of X's (centred, weighted) blocks unscaled, checked; else None.

    ``XᵀX`` (``raw`` when given) without ``mean``; float64 X only there, as
    the shifted formula needs. Saves the passes over X for its largest
    (centred) magnitude: the product is finite with a trace inside float64's
    range, and no column is small enough for its squares to lose digits
    (columns that are zero, or constant once centred, are exact as they are).
    """
    if mean is None and X.dtype != np.float64:
        return None
    info = np.finfo(np.float64)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        G = _blocked(X, mean, root, 1.0) if raw is None else raw
        squares = np.diag(G)
        if not (np.all(np.isfinite(G)) and np.sum(squares) < info.max / 4):
            return None
    small = np.flatnonzero(squares < info.tiny / info.eps)
    centre = 0.0 if mean is None else mean[small]
    if small.size and np.any(X[:, small] != centre):
        return None
    return G


def _shifted(X, mean, raw=None):
    """``XᵀX − n·μμᵀ`` when that is accurate, else None.

    ``XᵀX`` as :func:`_unscaled` forms (or takes) and checks it (float64 only:
    float32 squares would lose what the centred path keeps); refused as well
    for large means (or constant features), which are centred exactly instead.
    """
    raw = _unscaled(X, raw)
    if raw is None:
        return None
    C = raw - X.shape[0] * np.outer(mean, mean)
    with np.errstate(over="ignore"):
        if np.any(X.shape[0] * mean**2 > SHIFT_RATIO * np.maximum(np.diag(C), 0)):
            return None
    return C


def _unit(largest, shape):
    """1, or ``largest`` when squares of such entries would leave the normal range.

    Eigenvalues are bounded by the trace, at most ``m·n·largest²``; an entry of
    relative size eps stays a normal number when squared while
    ``eps·largest² > tiny``.
    """
    info = np.finfo(np.float64)
    if largest == 0.0:
        return 1.0
    fits = largest < np.sqrt(info.max / (4 * max(shape[0] * shape[1], 1)))
    normal = largest > np.sqrt(info.tiny / info.eps)
    return 1.0 if fits and normal else largest


def zero_columns(G, unit, n_samples, data, centred):
    """Columns of ``data`` that are exactly zero (``centred``: exactly constant).

    Their centred values are zero in exact arithmetic, so their singular values
    are exactly zero and their rows and columns of the Gram matrix ``G`` (of the
    data divided by ``unit``) are rounding only. Candidates are the columns
    whose diagonal entry is within the rounding of the mean
    (``n·(n·eps·|μ|)²``, or zero without centring); each is then confirmed on
    the data itself (``max = min``, or no non-zero entry), so a column that
    varies, however little, is never taken for a constant one.
    """
    diagonal = np.diag(G)
    if centred is None:
        candidates = np.flatnonzero(diagonal == 0)
    else:
        eps = np.finfo(np.float64).eps
        with np.errstate(over="ignore", under="ignore"):
            spread = n_samples * eps * np.abs(np.asarray(centred, np.float64)) / unit
            candidates = np.flatnonzero(diagonal <= n_samples * spread**2)
    if candidates.size == 0:
        return candidates
    part = data[:, candidates]
    if sp.issparse(part):
        part = part.toarray()
    if centred is None:
        exact = ~np.any(part, axis=0)
    else:
        exact = np.ptp(part, axis=0) == 0
    return candidates[exact]


def deflated_eigh(G, zeros, n_components, n_vectors=None):
    """:func:`gram_eigh` with the exactly zero ``zeros`` rows and columns removed.

    The remaining block is decomposed on its own; each removed column gives an
    exactly zero eigenvalue with its unit vector, appended after the others.
    """
    if zeros.size == 0:
        return gram_eigh(G, n_components, n_vectors)
    q = G.shape[0]
    n_vectors = n_components if n_vectors is None else n_vectors
    keep = np.setdiff1d(np.arange(q), zeros)
    r = min(n_components, keep.size)
    s_kept, V_kept = gram_eigh(G[np.ix_(keep, keep)], r, min(n_vectors, r))
    s = np.concatenate([s_kept, np.zeros(n_components - r)])
    V = np.zeros((q, n_vectors))
    V[keep, : V_kept.shape[1]] = V_kept
    extra = n_vectors - V_kept.shape[1]
    V[zeros[:extra], V_kept.shape[1] + np.arange(extra)] = 1.0
    return s, V


def gram_eigh(G, n_components, n_vectors=None):
    """Leading singular values and right vectors from a Gram matrix ``G = AᵀA``.

    Returns ``s`` (float64, descending) of length ``k = n_components`` and ``V``
    of shape (q, n_vectors), ``n_vectors ≤ k`` (default k). ``G`` is
    overwritten. Only the ``k`` largest eigenpairs are computed (``syevr`` on
    an index range) when ``q`` is large.
    """
    q, k = G.shape[0], n_components
    n_vectors = k if n_vectors is None else n_vectors
    if q <= NUMPY_EIGH_MAX:
        # NumPy's LAPACK, like the NumPy product that formed G: alternating
        # between NumPy's and SciPy's OpenBLAS builds makes their idle threads
        # contend (the pair ran 2× slower than either alone on 2 cores).
        w, V = np.linalg.eigh(G)
        w, V = w[::-1][:k], V[:, ::-1][:, :k]
    else:
        w, V = la.eigh(
            G, subset_by_index=[q - k, q - 1], check_finite=False, overwrite_a=True
        )
        w, V = w[::-1], V[:, ::-1]
    # Eigenvectors inside tight eigenvalue clusters can lose some orthogonality
    # (350·eps seen at a relative gap of 1e-12); a QR of the q × k V restores it
    # at a cost of q·k², negligible beside forming the Gram matrix.
    V, R = np.linalg.qr(V[:, :n_vectors])
    V *= np.where(np.diag(R) < 0, -1.0, 1.0)
    # Rounding can leave eigenvalues of a positive semidefinite matrix slightly
    # negative; those are zero singular values.
    return np.sqrt(np.clip(w, 0, None)), V


def long_factor(Y, s):
    """The orthonormal long factor ``X V Σ⁻¹`` from ``Y = X V``.

    When the columns of ``Y/s`` could lose orthogonality beyond ``√eps``
    (``σₖ < eps^(1/4)·σ₁``) they come from a QR decomposition of ``Y`` instead:
    for a well-separated spectrum ``Y = U Σ`` has a diagonal triangular factor,
    so this keeps the recoverable columns and completes the numerically zero
    ones to an orthonormal set.
    """
    eps = float(np.finfo(Y.dtype).eps)
    if s.size == 0 or (s[-1] > 0 and s[-1] >= eps**0.25 * s[0]):
        return Y / s
    Q, R = la.qr(Y, mode="economic", check_finite=False, overwrite_a=True)
    signs = np.sign(np.diag(R))
    signs[signs == 0] = 1
    return Q * signs
