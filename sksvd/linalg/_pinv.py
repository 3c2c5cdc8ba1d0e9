"""Pseudo-inverse, minimum-norm least squares and null spaces from one SVD."""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import scipy.linalg as la
from sklearn.utils import check_array

from sksvd._compat import Interval, validate_params
from sksvd.linalg._dispatch import blas_threads_for, choose_solver, dispatch_svd
from sksvd.linalg._exact import gram_eigh, gram_scale, lapack_svd
from sksvd.linalg._norms import column_norms
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
    what makes it the solution of least norm.

    Routes, all in float64: tall, well-conditioned A (``m ≥ 16n``, estimated
    ``eps·κ² ≤ 1e-12``) takes the Gram matrix ``AᵀA`` (half a QR's work), where
    the residual comes from the projections as above; otherwise LAPACK's
    ``gelsd`` applies the same cut-off (``σᵢ ≤ rcond·σ₁`` is zero) without forming
    U, and the residual is computed directly; with ``max_rank``, the SVD (QR then
    SVD of R for tall A).

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
    rcond = default_rcond(A.shape, A.dtype) if rcond is None else rcond
    factors = gram_factors(np.asarray(A, dtype=np.float64), B)
    if factors is None and max_rank is None:
        # Rank-deficient or ill-conditioned without a rank cap: LAPACK's gelsd
        # applies the same cut-off (σᵢ ≤ rcond·σ₁ is zero) without forming U.
        # NumPy's gelsd, to stay on the BLAS build of the products around it.
        A64 = np.asarray(A, dtype=np.float64)
        with blas_threads_for(A.shape, "full"):
            x, _, rank, s = np.linalg.lstsq(A64, B, rcond=rcond)
            rank = int(rank)
        residues = _residues(A64, B, x)
    else:
        if factors is None:
            factors = least_squares_factors(A, B, "auto")
        rank, _ = cut_off(factors.s, rcond, max_rank)
        x, residues = solve_from_factors(factors, A, B, rank)
        s = factors.s
    x = x.ravel() if b.ndim == 1 else x
    return x.astype(A.dtype, copy=False), residues, rank, s


class LeastSquaresFactors(NamedTuple):
    """What a minimum-norm solve needs: ``s``, ``Vt`` and ``P = UᵀB``."""

    s: np.ndarray
    Vt: np.ndarray
    P: np.ndarray
    U: np.ndarray | None
    solver: str


# The Gram fast path is kept when its estimated relative error eps·(σ₁/σ_n)² is at
# most this: κ ≤ 67, where the solution's error stays below 1e-12 relative.
LSTSQ_GRAM_TOLERANCE = 1e-12
# The Gram attempt pays when forming AᵀA (m·n²) beats a QR (2·m·n²) by more than
# the eigendecomposition (about 10·n³) that follows, and a failed attempt costs
# little: from about m ≥ 16·n.
LSTSQ_GRAM_RATIO = 16


def least_squares_factors(A, B, solver="auto", need_u=False):
    """``s``, ``Vt`` and the projections ``P = UᵀB`` of a float64 problem.

    ``"auto"`` on tall data (``m ≥ 16n``) first tries the Gram matrix ``AᵀA``: its
    eigenpairs give ``Σ`` and ``V``, and ``P = Σ⁻¹Vᵀ(AᵀB)``, for ``m·n²`` flops in
    BLAS-3 (half a Householder QR). It is kept only when the estimated relative
    error ``eps·(σ₁/σₙ)²`` is at most ``LSTSQ_GRAM_TOLERANCE`` (1e-12), i.e. for a
    well-conditioned, full-rank A; otherwise the problem is solved by the
    backward-stable route. That route, for tall data, is a Householder QR whose
    ``Qᵀ`` is applied to B directly (``qr_multiply``, no ``m × n`` Q), then the SVD
    of ``R``; for other shapes LAPACK's SVD. ``need_u=True`` (leverages) forms U.
    """
    A = np.asarray(A, dtype=np.float64)
    m, n = A.shape
    if solver == "auto" and not need_u:
        factors = gram_factors(A, B)
        if factors is not None:
            return factors
    if solver == "auto":
        solver = choose_solver(A.shape, backward_stable=True)
    if solver == "qr" and m >= n and not need_u:
        with blas_threads_for(A.shape, "qr"):
            QtB, R = la.qr_multiply(A, B.T, mode="right")
            U_r, s, Vt = lapack_svd(R)
        return LeastSquaresFactors(s, Vt, U_r.T @ QtB.T, None, "qr")
    U, s, Vt = dispatch_svd(A, None, solver=solver)
    return LeastSquaresFactors(s, Vt, U.T @ B, U, solver)


def gram_factors(A, B):
    """The Gram fast path of :func:`least_squares_factors`, or None if not taken."""
    m, n = A.shape
    if m < LSTSQ_GRAM_RATIO * n:
        return None
    with blas_threads_for(A.shape, "gram"):
        scale = gram_scale(A)
        scaled = A / scale if scale != 1.0 else A
        s, V, relative_error = gram_eigh(scaled.T @ scaled, n, np.float64)
        if not relative_error <= LSTSQ_GRAM_TOLERANCE:
            return None
        projections = (V.T @ (scaled.T @ B)) / s.reshape(-1, 1)
    return LeastSquaresFactors(s * scale, V.T, projections, None, "gram")


def solve_from_factors(factors, A, B, rank):
    """``x = V_r Σ_r⁻¹ P_r`` and the squared residuals ``‖B − A x‖²`` per column.

    The residuals come from the projections, see :func:`residual_squares`.
    """
    s, Vt, P = factors.s, factors.Vt, factors.P
    x = Vt[:rank].T @ (P[:rank] / s[:rank, np.newaxis])
    residues = residual_squares(
        column_norms(B), P[:rank], lambda: column_norms(B - A @ x)
    )
    return x, residues


def residual_squares(b_norms, kept_projections, direct_norms):
    """``‖B‖² − ‖P_r‖²`` per column, without overflow and without cancellation.

    Everything is divided by the largest ``‖B[:, j]‖`` before squaring. When the
    projection keeps all but a fraction ``√eps`` of ``‖B‖²``, the difference would
    be mostly rounding, and ``direct_norms()`` (the norms of ``B − A x``, one
    more product with A) is used instead. A sum of squares beyond float64's range
    is ``inf``.

    Parameters
    ----------
    b_norms : ndarray of shape (n_targets,)
    kept_projections : ndarray of shape (rank, n_targets)
        ``U_rᵀ B``.
    direct_norms : callable
        Returns ``‖B − A x‖`` per column; called only when needed.

    Returns
    -------
    ndarray of shape (n_targets,)
    """
    if np.any(np.isinf(b_norms)):
        # ‖B‖ itself is beyond float64: only the residual tells how large it is.
        with np.errstate(over="ignore"):
            return direct_norms() ** 2
    scale = float(np.max(b_norms)) if b_norms.size else 0.0
    if scale == 0.0:
        return np.zeros(b_norms.shape)
    total = (b_norms / scale) ** 2
    kept = np.sum((kept_projections / scale) ** 2, axis=0)
    remaining = np.maximum(total - kept, 0.0)
    close = kept >= (1 - np.sqrt(np.finfo(np.float64).eps)) * total
    if np.any(close):
        remaining = np.where(close, (direct_norms() / scale) ** 2, remaining)
    with np.errstate(over="ignore"):
        # scale·(scale·r) rather than scale²·r: the square alone may overflow.
        return scale * (scale * remaining)


def _residues(A, B, x):
    """``‖B − A x‖²`` per column, scaled so that nothing overflows."""
    with np.errstate(over="ignore"):
        return column_norms(B - A @ x) ** 2


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
