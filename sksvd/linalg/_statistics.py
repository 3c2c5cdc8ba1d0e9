"""Column means of in-memory data, exact for constant columns."""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs import mean_variance_axis, min_max_axis

from sksvd.linalg._gram import column_sums
from sksvd.linalg._namespace import column_mean as namespace_column_mean
from sksvd.linalg._namespace import column_norms as namespace_column_norms
from sksvd.linalg._namespace import namespace_of
from sksvd.linalg._norms import column_norms
from sksvd.linalg._operand import sparse_centred_norms

# Rows per block of a centred pass: a float64 block of about 4 MiB.
_BLOCK_BYTES = 4 * 2**20


def column_mean(X, weights=None, sums=None):
    """(Weighted) column means of dense or sparse X in float64; constants exact.

    A sum of ``n`` equal values divided by ``n`` can miss the value by a few
    ulps, which would leave a constant column's centred values as rounding
    noise (a spurious component, a coefficient on a constant feature). Columns
    whose mean lies within the rounding of the first row's value are checked on
    the data (``min = max``) and, if constant, get that value exactly: one row
    and the candidate columns are read, not the whole matrix again.

    Weighted means are formed with the weights divided by their sum first, so
    they cannot overflow where the mean does not. Non-finite results are
    returned as they are (the caller checks them), without a warning.

    ``sums``, X's float64 column sums where the caller has them from a pass
    of its own (unweighted dense X), saves the pass over X.
    """
    if sums is not None and (weights is not None or sp.issparse(X)):
        raise ValueError("column sums stand for the mean of unweighted dense X")
    ns = namespace_of(X)
    if ns is not None:
        return namespace_column_mean(X, weights, ns)
    n_samples = X.shape[0]
    with np.errstate(over="ignore", invalid="ignore"):
        if sums is not None:
            mean = np.asarray(sums, dtype=np.float64) / n_samples
        elif weights is None:
            if sp.issparse(X):
                mean = mean_variance_axis(X.astype(np.float64), axis=0)[0]
            elif X.dtype == np.float64:
                # The sums the Gram solver's pass forms: the same summation
                # either way (pairwise over blocks, more exact than X.mean).
                mean = column_sums(X) / n_samples
            else:
                mean = X.mean(axis=0, dtype=np.float64)
        else:
            fractions = np.asarray(weights, dtype=np.float64)
            fractions = fractions / fractions.max()
            fractions /= fractions.sum()
            if sp.issparse(X):
                mean = np.asarray(X.T @ fractions, dtype=np.float64).ravel()
            else:
                # Pairwise over blocks, as the unweighted sums: one product
                # over 1e6 rows missed a mean near 1e8 by 97 ulps.
                mean = column_sums(X, fractions)
            mean = np.asarray(mean, dtype=np.float64)
        first = _first_row(X)
        eps = np.finfo(np.float64).eps
        near = np.abs(first - mean) <= 4 * n_samples * eps * np.abs(first)
    candidates = np.flatnonzero(near & (first != mean))
    if candidates.size:
        part = X[:, candidates]
        if sp.issparse(part):
            low, high = min_max_axis(part.astype(np.float64), axis=0)
            constant = np.asarray(low) == np.asarray(high)
        else:
            constant = np.ptp(part, axis=0) == 0
        mean[candidates[constant]] = first[candidates[constant]]
    return mean


def _first_row(X):
    if not sp.issparse(X):
        return np.asarray(X[0], dtype=np.float64)
    row = sp.csr_matrix(X[[0]], dtype=np.float64)
    row.sum_duplicates()
    first = np.zeros(X.shape[1])
    first[row.indices] = row.data
    return first


def centred_column_norms(X, mean, weights=None):
    """``‖diag(√w)(xⱼ − μⱼ1)‖`` for each column of dense or sparse X, in float64.

    Dense X is centred block by block (one block of about 4 MiB at a time, no
    centred copy), each block's column norms scaled against over- and underflow
    (:func:`~sksvd.linalg._norms.column_norms`) and the blocks' norms combined
    the same way; sparse X uses its stored values
    (:func:`~sksvd.linalg._operand.sparse_centred_norms`).
    """
    if sp.issparse(X):
        return sparse_centred_norms(X, mean, weights)
    ns = namespace_of(X)
    if ns is not None:
        return namespace_column_norms(X, ns, mean, weights)
    n_samples, n_features = X.shape
    root = None if weights is None else np.sqrt(np.asarray(weights, np.float64))
    rows = max(1, _BLOCK_BYTES // (8 * max(n_features, 1)))
    norms = []
    for start in range(0, n_samples, rows):
        block = np.asarray(X[start : start + rows], dtype=np.float64) - mean
        if root is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                block *= root[start : start + rows, np.newaxis]
        norms.append(column_norms(block))
    return column_norms(np.array(norms)) if norms else np.zeros(n_features)
