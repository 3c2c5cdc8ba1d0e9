"""Frobenius and column norms that neither overflow nor underflow."""

import numpy as np
import scipy.sparse as sp

from sksvd.linalg._namespace import column_norms as namespace_column_norms
from sksvd.linalg._namespace import frobenius_norm as namespace_frobenius_norm
from sksvd.linalg._namespace import namespace_of
from sksvd.linalg._policy import SAFE_RANGE

# Squares of numbers in [_TINY, _HUGE] are normal float64 numbers, so data whose
# largest magnitude lies inside this range is summed without rescaling.
_TINY, _HUGE = SAFE_RANGE


def canonical(X):
    """Sparse X with each entry stored once (a new matrix only when it was not).

    Code that reads a sparse matrix's stored values as its entries (norms,
    variances) needs duplicates summed: SciPy allows an entry stored twice, and
    ``(a + b)²`` is not ``a² + b²``. Formats other than CSR, CSC and COO become
    CSR. Dense X, and sparse X already canonical, are returned as given.
    """
    if not sp.issparse(X):
        return X
    if X.format not in ("csr", "csc", "coo"):
        X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def largest_magnitude(values):
    """``max |x|`` of an array (0 when empty), without a temporary the size of it."""
    if values.size == 0:
        return 0.0
    return max(float(np.max(values)), -float(np.min(values)))


def frobenius_norm(X):
    """Return ``‖X‖_F`` as a Python float, accumulated in float64.

    The squares of entries beyond about 1e154 (or below 1e-154) overflow (or
    underflow); such data is scaled by its largest magnitude before squaring, so
    the norm is right for any finite input. Callers form energy ratios as
    ``(σ / ‖X‖_F)²`` rather than ``σ² / ‖X‖²_F`` for the same reason.

    Parameters
    ----------
    X : {ndarray, sparse matrix, array-API array} of shape (n_samples, n_features)

    Returns
    -------
    float
    """
    ns = namespace_of(X)
    if ns is not None:
        return namespace_frobenius_norm(X, ns)
    values = canonical(X).data if sp.issparse(X) else X
    if values.size == 0:
        return 0.0
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        flat = np.ravel(values).astype(np.float64, copy=False)
        square = float(np.dot(flat, flat))
    if _exact_squares(square) or (square == 0.0 and not np.any(flat)):
        return float(np.sqrt(square))
    scale = largest_magnitude(values)
    if scale == 0.0 or scale == np.inf:
        return scale  # all zero, or an infinite entry (a norm that overflowed)
    if _TINY <= scale <= _HUGE:
        scale = 1.0
    if scale != 1.0:
        flat = flat / scale
    return float(np.sqrt(np.dot(flat, flat))) * scale


def _exact_squares(squares):
    """Whether sums of squares are as exact as rescaled ones would be.

    A finite sum of at least ``tiny/eps`` lost at most ``denorm_min`` per
    underflowed square, far below its last digit; a smaller (or zero) one may
    have lost everything, and an infinite one overflowed.
    """
    info = np.finfo(np.float64)
    return np.isfinite(squares) & (squares >= info.tiny / info.eps)


def column_norms(X):
    """Return ``‖X[:, j]‖₂`` for each column of a dense X, in float64.

    Each column whose squares would leave the normal range is scaled by its own
    largest magnitude, as in :func:`frobenius_norm`; a norm beyond float64's
    range is ``inf``.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)

    Returns
    -------
    ndarray of shape (n_features,)
    """
    ns = namespace_of(X)
    if ns is not None:
        return namespace_column_norms(X, ns)
    X = np.asarray(X, dtype=np.float64)
    if X.size == 0:
        return np.zeros(X.shape[1])
    # One pass first; the rescaling passes only for columns whose sum of
    # squares overflowed or may have lost digits to underflow.
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        squares = np.einsum("ij,ij->j", X, X)
    exact = _exact_squares(squares)
    zero = np.flatnonzero(squares == 0)
    if zero.size:
        exact[zero] = ~np.any(X[:, zero], axis=0)
    if np.all(exact):
        return np.sqrt(squares)
    # Each column's own largest magnitude: a tiny column beside a huge one is
    # scaled by itself, not lost in the other's range.
    with np.errstate(invalid="ignore"):
        scale = np.maximum(X.max(axis=0), -X.min(axis=0))
    # Norms beyond float64 are inf, and non-finite columns give inf or nan
    # (the callers check finiteness), without a warning either way.
    with np.errstate(over="ignore", invalid="ignore"):
        inside = (
            (scale == 0) | ~np.isfinite(scale) | ((_TINY <= scale) & (scale <= _HUGE))
        )
        if np.all(inside):
            return np.sqrt(np.einsum("ij,ij->j", X, X))
        divisor = np.where(inside, 1.0, scale)
        scaled = X / divisor
        return np.sqrt(np.einsum("ij,ij->j", scaled, scaled)) * divisor
