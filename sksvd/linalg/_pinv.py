"""Pseudo-inverse, minimum-norm least squares and null spaces from one SVD."""

from numbers import Integral, Real

import numpy as np
import scipy.linalg as la
from sklearn.utils import check_array

from sksvd._compat import Interval, validate_params
from sksvd.linalg._dispatch import choose_solver, dispatch_svd
from sksvd.linalg._result import flip_signs

# Solvers that return every singular value, as a cut-off needs.
SOLVE_SOLVERS = ("auto", "full", "qr")
# A float32 matrix's rounding perturbs it by at most about eps/√3·σ₁ (see
# default_rcond); this many times eps leaves a margin of seventeen.
_FLOAT32_RCOND_FACTOR = 10


def default_rcond(shape, dtype):
    """The default relative cut-off ``rcond`` for a matrix of this shape and dtype.

    - float64: ``eps₆₄·max(m, n)``, NumPy's ``lstsq`` and SciPy's ``null_space``
      default.
    - float32: ``10·eps₃₂`` (1.2e-6), independent of the shape, with the SVD run in
      float64.

    Why not NumPy's rule for float32: NumPy applies float64's eps to float32 data,
    so the rounding noise of a low-rank float32 matrix counts as rank (a rank-5
    50 × 50 matrix comes out rank 50); ``max(m, n)·eps₃₂`` instead grows with the
    long side and, past 500,000 rows, drops real directions with ``σ < 0.06·σ₁``
    (scikit-learn issue #33032). The noise that storing a matrix in float32 adds is
    a perturbation ``E`` with entries of standard deviation about
    ``eps₃₂·rms(A)/(2√3)``; its norm is about ``eps₃₂·rms(A)·(√m + √n)/(2√3)`` while
    ``σ₁ ≥ ‖A‖_F/√min(m, n) = rms(A)·√max(m, n)``, so
    ``‖E‖₂/σ₁ ≤ eps₃₂/√3`` whatever the shape. Running the SVD in float64 keeps the
    computation's own error far below that, so a fixed multiple of ``eps₃₂``
    separates noise from signal at any size.

    Parameters
    ----------
    shape : tuple of (int, int)
    dtype : numpy dtype, float32 or float64

    Returns
    -------
    rcond : float

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.linalg import default_rcond
    >>> default_rcond((1000, 10), np.float64)
    2.22...e-13
    >>> default_rcond((1_000_000, 50), np.float32)
    1.19...e-06
    """
    if np.dtype(dtype) == np.float32:
        return _FLOAT32_RCOND_FACTOR * float(np.finfo(np.float32).eps)
    return float(np.finfo(np.float64).eps) * max(shape)


def cut_off(s, rcond, max_rank):
    """Number of singular values kept, and the absolute threshold used.

    ``σᵢ`` is kept when ``σᵢ > rcond·σ₁``, and at most ``max_rank`` of them.
    """
    largest = float(s[0]) if s.size else 0.0
    cutoff = rcond * largest
    rank = int(np.count_nonzero(s > cutoff))
    if max_rank is not None:
        rank = min(rank, max_rank)
    return rank, cutoff


def solve_svd(A, solver="auto"):
    """Thin SVD of a validated matrix in float64, by LAPACK or QR-then-SVD.

    ``"auto"`` asks :func:`~sksvd.linalg.choose_solver` for a backward-stable
    solver: Householder QR and the SVD of ``R`` for tall or wide data (cost linear
    in the long side), LAPACK's SVD otherwise. Float32 data is promoted: see
    :func:`default_rcond`.
    """
    A = np.asarray(A, dtype=np.float64)
    if solver == "auto":
        solver = choose_solver(A.shape, backward_stable=True)
    return dispatch_svd(A, None, solver=solver)


def _check_matrix(A, name="A"):
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
    U, s, Vt = solve_svd(A)
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
    what makes it the solution of least norm. The residual comes from the same
    projections ``uᵢᵀb``, with no second pass over ``A``; the subtraction leaves
    an absolute error of about ``eps·‖b‖²``.

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
    U, s, Vt = solve_svd(A)
    rcond = default_rcond(A.shape, A.dtype) if rcond is None else rcond
    rank, _ = cut_off(s, rcond, max_rank)
    x, residues = solve_from_svd(U, s, Vt, b, rank)
    return x.astype(A.dtype, copy=False), residues, rank, s


def solve_from_svd(U, s, Vt, b, rank):
    """``x = V_r Σ_r⁻¹ U_rᵀ b`` and the squared residuals ``‖b − A x‖²``.

    The residuals come from the projections as ``‖b‖² − ‖U_rᵀ b‖²``, with ``b``
    scaled by its largest magnitude so nothing overflows. When the projection
    keeps all but a fraction ``√eps`` of ``‖b‖²`` that difference would be mostly
    rounding, and ``‖b − U_r U_rᵀ b‖²`` is computed instead (one product with
    ``U_r``).
    """
    projections = U[:, :rank].T @ b
    x = Vt[:rank].T @ (projections / s[:rank].reshape((-1,) + (1,) * (b.ndim - 1)))
    scale = float(np.max(np.abs(b))) if b.size else 0.0
    if scale == 0.0:
        return x, np.zeros(1 if b.ndim == 1 else b.shape[1])
    total = np.sum((b / scale) ** 2, axis=0)
    kept = np.sum((projections / scale) ** 2, axis=0)
    remaining = np.atleast_1d(np.maximum(total - kept, 0.0))
    close = np.atleast_1d(kept >= (1 - np.sqrt(np.finfo(np.float64).eps)) * total)
    if np.any(close):
        direct = b / scale - U[:, :rank] @ (projections / scale)
        remaining = np.where(close, np.atleast_1d(np.sum(direct**2, axis=0)), remaining)
    # scale·(scale·r) rather than scale²·r: the square alone may overflow.
    return x, scale * (scale * remaining)


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
    if n_samples >= n_features:
        _, s, Vt = dispatch_svd(A, None, solver="qr", compute_u=False)
        return s, Vt.T
    # Wide: the null space includes the n − m directions no row reaches, so the
    # whole n × n V is needed, which the engine's thin SVD does not give.
    _, s, Vt = la.svd(A, full_matrices=True, check_finite=False)
    _, Vt = flip_signs(None, Vt)
    padded = np.concatenate([s, np.zeros(n_features - n_samples)])
    return padded, Vt.T
