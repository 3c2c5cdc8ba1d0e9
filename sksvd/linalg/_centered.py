"""Implicitly centred (and scaled) matrices, so sparse data is never densified."""

import numpy as np
from scipy.sparse.linalg import LinearOperator


class CenteredOperator(LinearOperator):
    """``Z = diag(r) (X − 1 μᵀ) diag(1/d)`` applied through products with ``X`` alone.

    ``Z w = r ⊙ (X (w/d) − 1 (μᵀ (w/d)))`` and
    ``Zᵀ u = (Xᵀ (r ⊙ u) − μ (1ᵀ (r ⊙ u))) / d``: each product costs one sparse
    product with ``X`` plus a rank-one correction, so iterative solvers see the
    centred (scaled, row-weighted) matrix without it being formed.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
    mean : ndarray of shape (n_features,)
    scale : ndarray of shape (n_features,)
        The column divisors ``d``.
    row_scale : ndarray of shape (n_samples,), default=None
        The row multipliers ``r`` (square roots of sample weights); None for ones.
    """

    def __init__(self, X, mean, scale, row_scale=None):
        super().__init__(dtype=X.dtype, shape=X.shape)
        self.X = X
        self.mean = mean.astype(X.dtype, copy=False)
        self.scale = scale.astype(X.dtype, copy=False)
        self.row_scale = row_scale

    def astype(self, dtype):
        """The same operator computing in ``dtype``."""
        return CenteredOperator(
            self.X.astype(dtype),
            self.mean.astype(dtype),
            self.scale.astype(dtype),
            None if self.row_scale is None else self.row_scale.astype(dtype),
        )

    def _matmat(self, W):
        W = W / self.scale[:, np.newaxis]
        product = np.asarray(self.X @ W) - self.mean @ W
        if self.row_scale is not None:
            product *= self.row_scale[:, np.newaxis]
        return product

    def _rmatmat(self, U):
        if self.row_scale is not None:
            U = U * self.row_scale[:, np.newaxis]
        product = np.asarray(self.X.T @ U) - np.outer(self.mean, U.sum(axis=0))
        return product / self.scale[:, np.newaxis]

    def _matvec(self, w):
        return self._matmat(w.reshape(-1, 1)).ravel()

    def _rmatvec(self, u):
        return self._rmatmat(u.reshape(-1, 1)).ravel()

    def _adjoint(self):
        return _TransposedCentered(self)


class _TransposedCentered(LinearOperator):
    def __init__(self, operator):
        super().__init__(dtype=operator.dtype, shape=operator.shape[::-1])
        self.operator = operator

    def _matmat(self, U):
        return self.operator._rmatmat(U)

    def _rmatmat(self, W):
        return self.operator._matmat(W)

    def _matvec(self, u):
        return self.operator._rmatvec(u)

    def _rmatvec(self, w):
        return self.operator._matvec(w)

    def _adjoint(self):
        return self.operator
