"""Pseudo-inverse, minimum-norm least squares and null spaces from one SVD."""

from numbers import Integral, Real

import numpy as np

from sksvd._compat import Interval, validate_params
from sksvd.linalg._checks import check_array
from sksvd.linalg._decompose import decompose
from sksvd.linalg._lstsq import cut_off, default_rcond, least_squares
from sksvd.linalg._namespace import refuse
from sksvd.linalg._operand import Operand


def _check_matrix(A, name="A"):
    refuse(A, "sksvd.linalg's pinv, lstsq, null_space and null_vector")
    return check_array(A, dtype=[np.float64, np.float32], input_name=name)


_RCOND = [Interval(Real, 0, None, closed="left"), None]
_MAX_RANK = [Interval(Integral, 0, None, closed="left"), None]


@validate_params(
    {"A": ["array-like"], "rcond": _RCOND, "max_rank": _MAX_RANK},
    prefer_skip_nested_validation=True,
)
def pinv(A, rcond=None, max_rank=None):
    """Moore–Penrose pseudo-inverse ``A⁺ = V Σ⁺ Uᵀ`` with a cut-off.

    Parameters
    ----------
    A : array-like of shape (m, n)
        Matrix to invert.

    rcond : float, default=None
        Singular values ``σᵢ ≤ rcond·σ₁`` are treated as zero. None uses
        :func:`default_rcond`.

    max_rank : int, default=None
        Keep at most this many singular values (the smallest are clamped to
        zero), as a truncated pseudo-inverse.

    Returns
    -------
    A_pinv : ndarray of shape (n, m)
        In the dtype of ``A``.

    See Also
    --------
    numpy.linalg.pinv : NumPy's version, with ``rcond = 1e-15`` by default.
    lstsq : The minimum-norm solution without forming ``A⁺``.

    Notes
    -----
    With ``A = U Σ Vᵀ`` and the ``r`` kept singular values,
    ``A⁺ = Σᵢ≤ᵣ vᵢ uᵢᵀ / σᵢ``. It satisfies the four Penrose conditions
    ``AA⁺A = A``, ``A⁺AA⁺ = A⁺``, ``(AA⁺)ᵀ = AA⁺`` and ``(A⁺A)ᵀ = A⁺A`` for the
    rank-``r`` truncation of ``A``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.linalg import pinv
    >>> A = np.array([[1.0, 3.0], [2.0, 6.0]])  # rank 1
    >>> pinv(A)
    array([[0.02, 0.04],
           [0.06, 0.12]])
    """
    A = _check_matrix(A)
    # Float32 data is factored in float64: see default_rcond.
    U, s, Vt = decompose(np.asarray(A, dtype=np.float64), backward_stable=True)
    rcond = default_rcond(A.shape, A.dtype) if rcond is None else rcond
    rank, _ = cut_off(s, rcond, max_rank)
    return ((Vt[:rank].T / s[:rank]) @ U[:, :rank].T).astype(A.dtype, copy=False)


@validate_params(
    {"A": ["array-like"], "b": ["array-like"], "rcond": _RCOND, "max_rank": _MAX_RANK},
    prefer_skip_nested_validation=True,
)
def lstsq(A, b, rcond=None, max_rank=None):
    """Minimum-norm least-squares solution of ``A x ≈ b`` through the SVD.

    Parameters
    ----------
    A : array-like of shape (m, n)
        Coefficient matrix.

    b : array-like of shape (m,) or (m, k)
        Right-hand side(s).

    rcond : float, default=None
        Singular values ``σᵢ ≤ rcond·σ₁`` are treated as zero. None uses
        :func:`default_rcond` (NumPy's rule for float64; a shape-free one for
        float32).

    max_rank : int, default=None
        Keep at most this many singular values.

    Returns
    -------
    x : ndarray of shape (n,) or (n, k)
        The solution of least norm among those of least residual, in the dtype of
        ``A``.

    residues : ndarray of shape (k,) or (1,)
        Squared residual norms ``‖b − A x‖²`` per column. Unlike NumPy, which
        returns an empty array unless ``A`` has full column rank and ``m > n``,
        they are always returned.

    rank : int
        Number of singular values kept.

    s : ndarray of shape (min(m, n),)
        All singular values of ``A``, descending.

    See Also
    --------
    numpy.linalg.lstsq : NumPy's solver (LAPACK ``gelsd``).
    pinv : The pseudo-inverse itself.

    Notes
    -----
    With ``A = U Σ Vᵀ`` and ``r`` kept singular values,

    .. math::

        x^+ = \\sum_{i \\le r} \\frac{u_i^T b}{\\sigma_i} v_i , \\qquad
        \\|b - A x^+\\|^2 = \\|b\\|^2 - \\sum_{i \\le r} (u_i^T b)^2 .

    ``x⁺`` lies in the span of ``v₁ … v_r``, orthogonal to the null space, which is
    what makes it the solution of least norm.

    Routes, all in float64, as the least-squares policy table says
    (``sksvd.linalg._policy.choose_least_squares_solver``): tall,
    well-conditioned A (``m ≥ 16n``, the Gram matrix's estimated relative
    error at most 1e-12, so ``s`` within that of LAPACK's) takes the Gram
    matrix ``AᵀA`` (half a QR's work); a full-rank solution is then refined by
    corrections from the data's residual, to the error bound of a
    backward-stable solver, and otherwise the residual comes from the
    projections as above. If the guard rejects it but the estimate is at most
    1e-2 (κ up to about 10⁶), CholeskyQR2 from the same Gram matrix, a QR as
    exact as Householder's, with the residual computed directly; beyond that,
    or when A is not that tall, LAPACK's ``gelsd`` (when ``0 < rcond < 1``;
    LAPACK replaces other values by eps) applies the same cut-off
    (``σᵢ ≤ rcond·σ₁`` is zero) without forming U, and the residual is computed
    directly; with ``max_rank`` or another ``rcond``, the SVD (QR then SVD of R
    when ``m ≥ 2n`` or ``n ≥ 2m``, LAPACK's SVD otherwise). ``AᵀA`` is formed
    at most once. (:class:`~sksvd.MinNormLeastSquares` refines up to the 1e-2
    estimate, its singular values then the Gram matrix's.)

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.linalg import lstsq
    >>> A = np.array([[1.0, 1.0]])  # one equation, two unknowns
    >>> x, residues, rank, s = lstsq(A, [2.0])
    >>> x  # the solution of least norm on the line x₁ + x₂ = 2
    array([1., 1.])
    >>> rank
    1
    """
    A = _check_matrix(A)
    b = check_array(b, ensure_2d=False, dtype=np.float64, input_name="b")
    if b.ndim not in (1, 2) or b.shape[0] != A.shape[0]:
        raise ValueError(
            f"b must have shape ({A.shape[0]},) or ({A.shape[0]}, k) to match A of "
            f"shape {A.shape}; got {b.shape}."
        )
    B = b.reshape(b.shape[0], -1)
    solution = least_squares(
        Operand(np.asarray(A, dtype=np.float64)),
        B,
        rcond=rcond,
        dtype=A.dtype,
        max_rank=max_rank,
        exact_spectrum=True,
    )
    x, residues, rank, s = solution.x, solution.residues, solution.rank, solution.s
    x = x.ravel() if b.ndim == 1 else x
    return x.astype(A.dtype, copy=False), residues, rank, s


@validate_params(
    {"A": ["array-like"], "rcond": _RCOND}, prefer_skip_nested_validation=True
)
def null_space(A, rcond=None):
    """Orthonormal basis of the null space of ``A``, from its right singular vectors.

    Parameters
    ----------
    A : array-like of shape (m, n)
        The matrix.

    rcond : float, default=None
        Singular values ``σᵢ ≤ rcond·σ₁`` count as zero. None uses
        :func:`default_rcond`.

    Returns
    -------
    N : ndarray of shape (n, n - rank)
        Orthonormal columns with ``A N ≈ 0``.

    See Also
    --------
    scipy.linalg.null_space : SciPy's version.
    null_vector : The single best null vector, for homogeneous systems.

    Notes
    -----
    Only ``V`` is computed: for tall ``A`` from the triangular factor of a QR
    decomposition (cost linear in ``m``, no ``m × n`` matrix of left singular
    vectors); for wide ``A`` the whole ``n × n`` ``V`` is needed, since the null
    space includes the ``n − m`` directions no row reaches.

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.linalg import null_space
    >>> N = null_space([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    >>> N.shape
    (3, 1)
    >>> np.abs(N.ravel()).round(4)
    array([0.7071, 0.7071, 0.    ])
    """
    A = _check_matrix(A)
    s, V = _right_singular_vectors(A)
    rcond = default_rcond(A.shape, A.dtype) if rcond is None else rcond
    rank, _ = cut_off(s, rcond, None)
    return np.ascontiguousarray(V[:, rank:]).astype(A.dtype, copy=False)


@validate_params({"A": ["array-like"]}, prefer_skip_nested_validation=True)
def null_vector(A):
    """Unit vector ``x`` minimising ``‖A x‖``: the homogeneous least-squares solution.

    This is the right singular vector of the smallest singular value, the solution
    of the direct linear transformation (DLT) in camera resection and
    triangulation. Only ``V`` is computed, so for tall ``A`` the cost is linear in
    the number of rows.

    Parameters
    ----------
    A : array-like of shape (m, n)
        The homogeneous system ``A x = 0``.

    Returns
    -------
    x : ndarray of shape (n,)
        Unit norm; ``‖A x‖`` equals the smallest singular value (zero when ``m < n``).
        Its sign follows the engine's rule (largest-magnitude entry positive).

    See Also
    --------
    null_space : Every null direction at once.

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.linalg import null_vector
    >>> A = np.array([[1.0, -1.0, 0.0], [0.0, 1.0, -1.0], [1.0, 0.0, -1.0]])
    >>> null_vector(A).round(4)  # the direction (1, 1, 1)/√3
    array([0.5774, 0.5774, 0.5774])
    """
    A = _check_matrix(A)
    _, V = _right_singular_vectors(A)
    return np.ascontiguousarray(V[:, -1]).astype(A.dtype, copy=False)


def _right_singular_vectors(A):
    """All singular values (padded with zeros to n) and the full n × n V."""
    n_samples, n_features = A.shape
    A = np.asarray(A, dtype=np.float64)
    if n_samples < n_features:
        # Wide: the null space includes the n − m directions no row reaches, so
        # the whole n × n V is needed. Zero rows complete A to a square matrix
        # with the same row space, whose thin SVD gives every right vector.
        A = np.vstack([A, np.zeros((n_features - n_samples, n_features))])
    _, s, Vt = decompose(A, None, backward_stable=True, compute_u=False)
    return s, Vt.T
