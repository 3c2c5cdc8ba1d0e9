"""The value every solver returns, and the sign rule that makes it deterministic."""

from typing import NamedTuple

import numpy as np


class _Triplet(NamedTuple):
    U: np.ndarray | None
    s: np.ndarray
    Vt: np.ndarray


class SVDResult(_Triplet):
    """A (possibly truncated) singular value decomposition ``X ≈ U @ diag(s) @ Vt``.

    A named tuple of three: it unpacks as ``U, s, Vt``. The solver that produced
    it is an attribute beside them.

    Attributes
    ----------
    U : ndarray of shape (n_samples, k) or None
        Left singular vectors as columns; None when they were not asked for.
    s : ndarray of shape (k,)
        Singular values, in descending order.
    Vt : ndarray of shape (k, n_features)
        Right singular vectors as rows.
    solver : str or None
        The solver that ran (after ``"auto"``'s choice and accuracy guard).

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.linalg import svd
    >>> result = svd(np.diag([2.0, 1.0]))
    >>> result.s
    array([2., 1.])
    >>> U, s, Vt = result  # unpacks like a tuple
    >>> result.solver
    'full'
    """

    def __new__(cls, U, s, Vt, solver=None):
        result = super().__new__(cls, U, s, Vt)
        result.solver = solver
        return result

    def __getnewargs__(self):
        return (*self, self.solver)


def flip_signs(U, Vt):
    """Make the signs of singular vector pairs deterministic, in place.

    The rule is the one scikit-learn's ``PCA`` and ``TruncatedSVD`` apply
    (``svd_flip(..., u_based_decision=False)``): in each row of ``Vt`` the entry of
    largest magnitude is made positive, and the matching column of ``U`` changes sign
    with it so that ``U @ diag(s) @ Vt`` is unchanged. Deciding on ``Vt`` means the
    rule holds when ``U`` is never formed.

    Unlike scikit-learn's ``svd_flip``, a zero row keeps its sign instead of being
    multiplied by ``sign(0) = 0``.

    Parameters
    ----------
    U : ndarray of shape (n_samples, k) or None
        Owned by the caller's solver; modified in place (a lazy dask array is
        replaced by the product instead, since dask arrays are immutable).
    Vt : ndarray of shape (k, n_features)
        Owned by the caller's solver; modified in place.

    Returns
    -------
    U, Vt : ndarray
        The same arrays, for chaining.
    """
    if Vt.shape[0] == 0:
        return U, Vt
    signs = sign_rule(Vt)
    Vt *= signs[:, np.newaxis]
    if U is not None:
        U = U * signs if type(U).__module__.startswith("dask") else _scaled(U, signs)
    return U, Vt


def sign_rule(Vt):
    """±1 per row of ``Vt``: the sign of its entry of largest magnitude (1 for 0)."""
    largest = np.argmax(np.abs(Vt), axis=1)
    signs = np.sign(Vt[np.arange(Vt.shape[0]), largest])
    signs[signs == 0] = 1
    return signs


def _scaled(U, signs):
    U *= signs
    return U
