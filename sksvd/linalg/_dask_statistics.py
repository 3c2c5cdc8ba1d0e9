"""One-pass column moments and Frobenius norms of dask arrays, safe from overflow.

Each block is reduced in NumPy and the small per-block results are combined on
the client. dask's own ``var`` and ``(X**2).sum()`` square the raw values: for
data beyond about 1e154 the squares overflow, with a RuntimeWarning raised in a
worker thread where no ``np.errstate`` of the caller applies. Here the blocks
are reduced under ``np.errstate`` and norms are scaled as in
:func:`~sksvd.linalg._norms.frobenius_norm`, so callers see numbers (possibly
infinite) and turn them into clear errors themselves.
"""

import numpy as np

from sksvd.linalg._norms import column_norms, frobenius_norm

# Rows of a block's moments: count, mean, sum of squared deviations, finite,
# minimum, maximum.
_N_MOMENTS = 6


def column_moments(X, weights=None):
    """Lazy column means, sums of squared deviations and finiteness of X.

    One pass over the data: each block gives its count, mean and sum of squared
    deviations from its own mean (two passes over a block already in memory),
    and the blocks are merged with the pairwise update of Chan, Golub and
    LeVeque (1979). Each merge moves the running mean with a rounding error of
    about ``eps·|μ|``, so the squared deviations carry a relative error of about
    ``eps·|μ|/σ`` per merge, as dask's own ``var`` does. With row weights the
    count is the weights' sum, the mean the weighted mean and the deviations
    weighted, ``Σ wᵢ(xᵢ − μ)²``; the minima and maxima are over the rows of
    positive weight.

    Parameters
    ----------
    X : dask array of shape (n_samples, n_features)
    weights : dask array of shape (n_samples,), default=None
        Non-negative row weights, chunked as X's rows; None for ones.

    Returns
    -------
    dask array of shape (5, n_features)
        Rows: the means, the sums of squared deviations from them, 1.0 where the
        column is finite (0.0 otherwise), the minima and the maxima. On data
        whose squares overflow, the squared deviations are ``inf`` (or ``nan``),
        without a warning.
    """
    import dask
    import dask.array as da

    n_row_blocks = len(X.chunks[0])
    chunks = ((_N_MOMENTS,) * n_row_blocks, X.chunks[1])
    if weights is None:
        moments = X.map_blocks(_block_moments, chunks=chunks, dtype=np.float64)
    else:
        column = weights.rechunk((X.chunks[0],))[:, np.newaxis]
        moments = da.map_blocks(
            _block_moments, X, column, chunks=chunks, dtype=np.float64
        )
    return _as_array(
        dask.delayed(_merge_moments)(moments, n_row_blocks), (5, X.shape[1])
    )


def _as_array(delayed, shape):
    # A dask array rather than a Delayed: dask.compute may return mixed
    # collections (arrays and Delayed objects) out of the order they were given.
    import dask.array as da

    return da.from_delayed(delayed, shape=shape, dtype=np.float64)


def _block_moments(block, weights=None):
    values = np.asarray(block, dtype=np.float64)
    n_rows, n_columns = values.shape
    moments = np.zeros((_N_MOMENTS, n_columns))
    moments[3] = np.isfinite(values).all(axis=0)
    moments[4], moments[5] = np.inf, -np.inf
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)[:, 0]
        positive = values[w > 0]
        total = float(w.sum())
        moments[0] = total
        if total > 0:
            moments[4], moments[5] = positive.min(axis=0), positive.max(axis=0)
            with np.errstate(over="ignore", invalid="ignore"):
                # Weights divided by their sum first: no product overflows.
                mean = (w / total) @ values
                deviations = values - mean
                moments[1] = mean
                moments[2] = np.einsum("i,ij,ij->j", w, deviations, deviations)
        return moments
    moments[0] = n_rows
    if n_rows:
        moments[4], moments[5] = values.min(axis=0), values.max(axis=0)
        with np.errstate(over="ignore", invalid="ignore"):
            mean = values.mean(axis=0)
            deviations = values - mean
            moments[1] = mean
            moments[2] = np.einsum("ij,ij->j", deviations, deviations)
    return moments


def _merge_moments(moments, n_row_blocks):
    moments = moments.reshape(n_row_blocks, _N_MOMENTS, -1)
    count = 0.0
    mean = np.zeros(moments.shape[2])
    squared_deviations = np.zeros(moments.shape[2])
    with np.errstate(over="ignore", invalid="ignore"):
        for block_count, block_mean, block_squares, *_ in moments:
            n = block_count[0]
            if n == 0:
                continue
            total = count + n
            delta = block_mean - mean
            mean = mean + delta * (n / total)
            squared_deviations = (
                squared_deviations + block_squares + delta**2 * (count * n / total)
            )
            count = total
    return np.stack(
        [
            mean,
            squared_deviations,
            moments[:, 3].all(axis=0),
            moments[:, 4].min(axis=0),
            moments[:, 5].max(axis=0),
        ]
    )


def lazy_frobenius_norm(X):
    """Lazy ``‖X‖_F`` of a dask array, in float64 and scaled against overflow.

    A 0-d dask array: ``nan`` when X holds NaN or infinity, so the caller's
    finiteness check comes from the same pass.
    """
    import dask

    n_row_blocks, n_column_blocks = (len(chunks) for chunks in X.chunks)
    norms = X.map_blocks(
        _block_norm,
        chunks=((1,) * n_row_blocks, (1,) * n_column_blocks),
        dtype=np.float64,
    )
    return _as_array(dask.delayed(frobenius_norm)(norms), ())


def _block_norm(block):
    block = np.asarray(block)
    norm = frobenius_norm(block) if np.isfinite(block).all() else np.nan
    return np.full((1, 1), norm)


def lazy_column_norms(X):
    """Lazy ``‖X[:, j]‖₂`` of each column of a dask array, scaled against overflow.

    A float64 dask array of shape (n_features,): each block gives its column
    norms, and the norm of those per column is the column's norm.
    """
    import dask

    n_row_blocks = len(X.chunks[0])
    norms = X.map_blocks(
        _block_column_norms,
        chunks=((1,) * n_row_blocks, X.chunks[1]),
        dtype=np.float64,
    )
    return _as_array(dask.delayed(column_norms)(norms), (X.shape[1],))


def _block_column_norms(block):
    return column_norms(np.asarray(block))[np.newaxis]
