"""Best low-rank approximations and the Eckart–Young quantities around them."""

from numbers import Integral

import numpy as np
import scipy.linalg as la

from sksvd._compat import Interval, Options, StrOptions, validate_params
from sksvd.linalg._checks import check_array, check_rank
from sksvd.linalg._decompose import decompose
from sksvd.linalg._namespace import refuse
from sksvd.linalg._policy import SOLVERS


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "rank": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions(set(SOLVERS))],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def low_rank_approximation(X, rank, *, solver="auto", random_state=None):
    """Best rank-``rank`` approximation of ``X`` in the 2-norm and Frobenius norm.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The matrix to approximate.

    rank : int
        Rank of the approximation, at most ``min(n_samples, n_features)``.

    solver : {"auto", "full", "qr", "gram", "randomized", "lanczos", "arpack", \
            "propack", "block_krylov"}, default="auto"
        How the leading singular triplets are computed; see :func:`svd`.

    random_state : int, RandomState instance or None, default=None
        Seeds the randomized and Krylov solvers.

    Returns
    -------
    X_k : ndarray of shape (n_samples, n_features)
        ``U_k @ diag(s_k) @ Vt_k``, dense, in the dtype of ``X``.

    See Also
    --------
    eckart_young_error : The error of this approximation, from the spectrum.
    sksvd.TruncatedSVDCompressor : The same as an estimator, with the factors kept.

    Notes
    -----
    By the Eckart–Young–Mirsky theorem, truncating the SVD ``X = Σᵢ σᵢ uᵢ vᵢᵀ`` after
    ``k`` terms gives the closest matrix of rank at most ``k`` in every unitarily
    invariant norm:

    .. math::

        \\min_{\\operatorname{rank}(B) \\le k} \\|X - B\\|_2 = \\sigma_{k+1}, \\qquad
        \\min_{\\operatorname{rank}(B) \\le k} \\|X - B\\|_F^2
            = \\sum_{i > k} \\sigma_i^2 .

    References
    ----------
    .. [1] C. Eckart and G. Young, "The approximation of one matrix by another of
       lower rank", Psychometrika 1(3), 1936. :doi:`10.1007/BF02288367`

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.linalg import low_rank_approximation
    >>> X = np.diag([3.0, 2.0, 1.0])
    >>> low_rank_approximation(X, 2).round(12) + 0.0  # + 0.0 turns -0.0 into 0.0
    array([[3., 0., 0.],
           [0., 2., 0.],
           [0., 0., 0.]])
    """
    refuse(X, "sksvd.linalg.low_rank_approximation")
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    check_rank(rank, X.shape, solver, name="rank")
    U, s, Vt = decompose(X, rank, solver=solver, random_state=random_state)
    return (U * s) @ Vt


def _check_spectrum(s):
    refuse(s, "sksvd.linalg's energy_ratio and eckart_young_error")
    s = check_array(s, ensure_2d=False, dtype=[np.float64, np.float32], input_name="s")
    if s.ndim != 1:
        raise ValueError(
            f"s must be a 1-D array of singular values; got shape {s.shape}."
        )
    if np.any(s < 0):
        raise ValueError("s must hold singular values, which are non-negative.")
    return s


@validate_params({"s": ["array-like"]}, prefer_skip_nested_validation=True)
def energy_ratio(s):
    """Fraction of the total energy ``Σⱼ σⱼ²`` carried by each singular value.

    Parameters
    ----------
    s : array-like of shape (k,)
        Singular values (non-negative). For fractions of ``‖X‖²_F`` pass the whole
        spectrum.

    Returns
    -------
    ratio : ndarray of shape (k,)
        ``σᵢ² / Σⱼ σⱼ²``; all zeros when every ``σ`` is zero. Cumulate with
        :func:`numpy.cumsum`.

    Notes
    -----
    Computed as ``(σᵢ/σ_max)² / Σⱼ (σⱼ/σ_max)²`` so that singular values beyond
    1e154 do not overflow when squared.

    Examples
    --------
    >>> from sksvd.linalg import energy_ratio
    >>> energy_ratio([3.0, 2.0, 1.0, 1.0]).round(3)
    array([0.6  , 0.267, 0.067, 0.067])
    """
    s = _check_spectrum(s)
    largest = s.max(initial=0)
    if largest == 0:
        return np.zeros_like(s)
    scaled = (s / largest) ** 2
    return scaled / scaled.sum()


@validate_params(
    {
        "s": ["array-like"],
        "rank": [Interval(Integral, 0, None, closed="left")],
        "norm": [StrOptions({"fro"}), Options(Integral, {2})],
    },
    prefer_skip_nested_validation=True,
)
def eckart_young_error(s, rank, norm="fro"):
    """Error of the best rank-``rank`` approximation, from the singular values alone.

    Parameters
    ----------
    s : array-like of shape (min(n_samples, n_features),)
        The whole spectrum of ``X``, in descending order.

    rank : int
        Rank of the approximation, between 0 and ``len(s)``.

    norm : {"fro", 2}, default="fro"
        ``"fro"``: ``‖X − X_k‖_F = √(Σᵢ>ₖ σᵢ²)``; ``2``: ``‖X − X_k‖₂ = σₖ₊₁`` (zero
        when ``rank = len(s)``).

    Returns
    -------
    error : float

    See Also
    --------
    low_rank_approximation : The approximation whose error this is.

    Examples
    --------
    >>> from sksvd.linalg import eckart_young_error
    >>> eckart_young_error([4.0, 3.0, 2.0, 1.0], 2)
    2.236...
    >>> eckart_young_error([4.0, 3.0, 2.0, 1.0], 2, norm=2)
    2.0
    """
    s = _check_spectrum(s)
    if rank > s.size:
        raise ValueError(
            f"rank={rank} must be between 0 and len(s)={s.size}: s must be the "
            "whole spectrum."
        )
    if np.any(np.diff(s) > 0):
        raise ValueError(
            "s must be sorted in descending order, as sksvd.linalg.svd returns it."
        )
    tail = s[rank:]
    if norm == 2:
        return float(tail[0]) if tail.size else 0.0
    # BLAS nrm2 scales as it sums, so huge or tiny values neither overflow nor
    # underflow.
    return float(la.norm(tail)) if tail.size else 0.0
