"""Implicitly centred (and scaled) matrices, so sparse data is never densified."""

import numpy as np
from scipy.sparse.linalg import LinearOperator


class CenteredOperator(LinearOperator):
    """``Z = (X − 1 μᵀ) diag(1/d)`` applied through products with ``X`` alone.

    ``Z w = X (w/d) − 1 (μᵀ (w/d))`` and ``Zᵀ u = (Xᵀ u − μ (1ᵀ u)) / d``: each
    product costs one sparse product with ``X`` plus a rank-one correction, so the
    Krylov and randomized solvers see the centred matrix without it being formed.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
    mean : ndarray of shape (n_features,)
    scale : ndarray of shape (n_features,)
    """

    def __init__(self, X, mean, scale):
        super().__init__(dtype=X.dtype, shape=X.shape)
        self.X = X
        self.mean = mean.astype(X.dtype, copy=False)
        self.scale = scale.astype(X.dtype, copy=False)

    def _matmat(self, W):
        W = W / self.scale[:, np.newaxis]
        return np.asarray(self.X @ W) - self.mean @ W

    def _rmatmat(self, U):
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
