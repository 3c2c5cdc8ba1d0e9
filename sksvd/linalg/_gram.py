"""The Gram matrix of centred data, accumulated block by block without a copy."""

import numpy as np

# Rows per block are chosen so that one centred block takes about this many bytes.
BLOCK_BYTES = 4 * 2**20
# Largest mean²/variance of a feature for which XᵀX − n·μμᵀ is used: its rounding
# error relative to the centred sums of squares is about eps·(1 + μ²/σ²).
SHIFT_RATIO = 100.0


def centred_gram(X, mean):
    """``(X − 1μᵀ)ᵀ(X − 1μᵀ)`` in float64, from blocks of rows.

    Each block of rows is centred into a small buffer and multiplied by its own
    transpose, so the extra memory is one block (about 4 MiB) and the ``n × n``
    result, not a centred copy of X. Centring before multiplying keeps the
    accuracy of the two-pass algorithm (no ``XᵀX − n μμᵀ`` cancellation). Data
    whose squares would leave float64's range is divided by its largest centred
    magnitude first; the returned ``scale`` says by how much (G is then the Gram
    matrix of ``(X − 1μᵀ)/scale``).

    When every feature's mean is small next to its spread (``μ² ≤ 100·σ²``) and
    nothing over- or underflows, the cheaper ``XᵀX − n·μμᵀ`` (one BLAS product,
    no centring) is exact to about ``100·eps`` of the centred sums of squares and
    is used instead.

    Returns
    -------
    G : ndarray of shape (n_features, n_features)
    scale : float
    cancellation : float
        ``1 + max nμⱼ²/Cⱼⱼ`` when the shifted formula was used, 1 otherwise: the
        factor by which its rounding error exceeds that of centred data, for the
        caller's accuracy estimate.
    """
    n_samples, n_features = X.shape
    mean = np.asarray(mean, dtype=np.float64)
    shifted = _shifted_gram(X, mean)
    if shifted is not None:
        centred = np.maximum(np.diag(shifted), np.finfo(np.float64).tiny)
        return shifted, 1.0, 1.0 + float(np.max(n_samples * mean**2 / centred))
    # The largest centred magnitude, from column extremes (no temporary array).
    spread = np.maximum(X.max(axis=0) - mean, mean - X.min(axis=0))
    largest = float(spread.max()) if spread.size else 0.0
    info = np.finfo(np.float64)
    # Eigenvalues are bounded by the trace, at most n_samples·n_features·largest².
    fits = largest < np.sqrt(info.max / (4 * max(n_samples * n_features, 1)))
    normal = largest > np.sqrt(info.tiny / info.eps)
    scale = 1.0 if (fits and normal) or largest == 0.0 else largest
    rows = max(1, BLOCK_BYTES // (8 * max(n_features, 1)))
    G = np.zeros((n_features, n_features))
    for start in range(0, n_samples, rows):
        block = np.asarray(X[start : start + rows], dtype=np.float64) - mean
        if scale != 1.0:
            block /= scale
        G += block.T @ block
    return G, scale, 1.0


def _shifted_gram(X, mean):
    """``XᵀX − n·μμᵀ`` when that is accurate, else None."""
    if X.dtype != np.float64:
        return None  # float32 products would lose what the float64 path keeps
    n_samples = X.shape[0]
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        raw = X.T @ X
        if not np.all(np.isfinite(raw)):
            return None
        C = raw - n_samples * np.outer(mean, mean)
        squares = np.diag(raw)
        info = np.finfo(np.float64)
        if not np.sum(squares) < info.max / 4:
            return None  # eigenvalues, bounded by the trace, could overflow
        small = np.flatnonzero(squares < info.tiny / info.eps)
        if small.size and np.any(X[:, small]):
            # Entries so small that their squares lost digits, or all of them
            # (all-zero columns are exact as they are).
            return None
        centred = np.diag(C)
        if np.any(n_samples * mean**2 > SHIFT_RATIO * np.maximum(centred, 0)):
            return None  # large means (or constant features): centre exactly
    return C
