"""The one entry to the least-squares routes: Gram, QR, gelsd, SVD, ARPACK, LSMR, dask.

:func:`least_squares` asks :func:`~sksvd.linalg._policy.choose_least_squares_solver`
for a route, runs it (with the Gram guard and its fallback), applies the cut-off
``σᵢ > rcond·σ₁`` and ``max_rank``, and returns the minimum-norm solution with
its residuals, the rank kept and the route that ran.
"""

import warnings
from typing import NamedTuple

import numpy as np
import scipy.linalg as la
from scipy.sparse.linalg import lsmr
from sklearn.exceptions import ConvergenceWarning

from sksvd.linalg._dask import dask_svd_projections, raise_if_not_finite
from sksvd.linalg._dask_statistics import lazy_column_norms
from sksvd.linalg._decompose import decompose
from sksvd.linalg._exact import cholesky_qr2, lapack_svd
from sksvd.linalg._gram import SHIFT_RATIO, gram_eigh, gram_matrix
from sksvd.linalg._namespace import gram_svd as namespace_gram_svd
from sksvd.linalg._namespace import namespace_of
from sksvd.linalg._norms import column_norms, largest_magnitude
from sksvd.linalg._operand import Operand
from sksvd.linalg._policy import (
    CHOLESKY_QR_TOLERANCE,
    LSTSQ_GRAM_TOLERANCE,
    LSTSQ_REFINEMENT_FLOOR,
    LSTSQ_REFINEMENT_STEPS,
    _backward_stable_solver,
    choose_least_squares_solver,
    gram_error_estimate,
)
from sksvd.linalg._threads import blas_threads_for

# A float32 matrix's rounding perturbs it by at most about eps/√3·σ₁ (see
# default_rcond); this many times eps leaves a margin of seventeen.
_FLOAT32_RCOND_FACTOR = 10
# LSMR's stopping tolerances (atol = btol): the solution is accurate to about
# this times the condition number.
LSMR_TOLERANCE = 1e2 * float(np.finfo(np.float64).eps)


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


class LeastSquaresFactors(NamedTuple):
    """What a minimum-norm solve at any rank needs.

    ``s``, ``Vt``, the projections ``P = UᵀB``, ``U`` (or None) and the design
    ``A`` they belong to (for direct residuals).
    """

    s: np.ndarray
    Vt: np.ndarray
    P: np.ndarray
    U: np.ndarray | None
    A: object


class LeastSquaresSolution(NamedTuple):
    """The result of :func:`least_squares`.

    ``x`` has shape (n, n_targets) and ``residues`` (n_targets,). ``rank``,
    ``cutoff`` and ``s`` are None for LSMR, which computes no SVD. ``factors``
    is set for the routes that compute them (needed with ``need="factors"`` or
    ``"u"``).
    """

    x: np.ndarray
    residues: np.ndarray
    rank: int | None
    cutoff: float | None
    s: np.ndarray | None
    solver: str
    factors: LeastSquaresFactors | None


def least_squares(
    operand,
    B,
    *,
    rcond=None,
    dtype=None,
    max_rank=None,
    solver="auto",
    need="solution",
    exact_spectrum=False,
):
    """Minimum-norm solution of ``Z x ≈ B``, Z the (float64) operand.

    Parameters
    ----------
    operand : Operand
        The design; its data must be float64. Centring and row weights are
        applied as the route allows (implicitly for sparse data).
    B : ndarray or dask array of shape (n_samples, n_targets)
        The right-hand sides, already centred and weighted like the operand.
    rcond : float, default=None
        Relative cut-off; None for :func:`default_rcond` of the shape and
        ``dtype`` (the data's dtype before conversion to float64). LSMR (sparse
        data without a ``max_rank`` below ``min(m, n)``) computes no singular
        values, so a given ``rcond`` is refused there with a ValueError.
    dtype : numpy dtype, default=None
        The data's own dtype, for the default ``rcond``; None for float64.
    max_rank : int, default=None
    solver : {"auto", "full", "qr"}, default="auto"
        ``"full"`` and ``"qr"`` force that factorisation (densifying sparse
        data); a dask operand takes ``"auto"`` only.
    need : {"solution", "factors", "u"}, default="solution"
        See :func:`~sksvd.linalg._policy.choose_least_squares_solver`.
    exact_spectrum : bool, default=False
        Whether the singular values must be within a relative 1e-12 (the Gram
        factors' guard) or LAPACK's: the refined normal equations then run only
        where the Gram matrix's estimated error is at most 1e-12.
    """
    if operand.kind == "dask" and solver != "auto":
        raise ValueError(
            f"solver={solver!r} cannot solve a dask array; use solver='auto' (TSQR)."
        )
    given = rcond
    if rcond is None:
        rcond = default_rcond(operand.shape, np.float64 if dtype is None else dtype)
    route = solver
    if solver == "auto":
        route = choose_least_squares_solver(
            operand.shape, kind=operand.kind, max_rank=max_rank, rcond=rcond, need=need
        )
    if route == "lsmr":
        if given is not None:
            raise ValueError(
                f"rcond={given!r} applies to singular values, and sparse X without a "
                "max_rank below min(n_samples, n_features) is solved by LSMR, which "
                "computes none. Leave rcond=None, pass max_rank (the leading singular "
                "triplets are then computed), or pass dense X."
            )
        return _lsmr(operand, B)
    if route == "dask":
        return _dask(operand, B, rcond, max_rank)
    if route == "arpack":
        return _arpack(operand, B, rcond, max_rank)
    if operand.ns is not None:
        return _in_namespace(operand.dense(), B, rcond, max_rank, route, operand.ns)
    with blas_threads_for(operand.shape, route):
        if route == "gram":
            dense = operand if operand.kind == "dense" else Operand(operand.dense())
            design = _Design(dense)
            solution = _gram_route(
                design, B, rcond, max_rank, need == "solution", exact_spectrum
            )
            if solution is not None:
                return solution
            design.release()
            route = choose_least_squares_solver(
                operand.shape, max_rank=max_rank, rcond=rcond, need=need, gram=False
            )
        A = operand.dense()
        if route == "gelsd":
            # NumPy's gelsd, to stay on the BLAS build of the products around it.
            x, _, rank, s = np.linalg.lstsq(A, B, rcond=rcond)
            residues = _residues(A, B, x)
            cutoff = rcond * float(s[0]) if s.size else 0.0
            return LeastSquaresSolution(
                x, residues, int(rank), cutoff, s, "gelsd", None
            )
        sizes = _column_sizes(B)
        if route == "qr" and A.shape[0] >= A.shape[1] and need != "u":
            QtB, R = la.qr_multiply(A, (B / sizes).T, mode="right")
            U_r, s, Vt = lapack_svd(R)
            with np.errstate(over="ignore"):
                projections = (U_r.T @ QtB.T) * sizes
            factors = LeastSquaresFactors(s, Vt, projections, None, A)
            return _solve(factors, B, rcond, max_rank, "qr")
    U, s, Vt = decompose(Operand(A), None, solver=route)
    # Each target divided by its size for the product: a target near float64's
    # top would overflow UᵀB on the way.
    with np.errstate(over="ignore"):
        projections = (U.T @ (B / sizes)) * sizes
    factors = LeastSquaresFactors(s, Vt, projections, U, A)
    return _solve(factors, B, rcond, max_rank, route)


def _in_namespace(A, B, rcond, max_rank, route, ns):
    """The Gram, QR or SVD route on an array-API design, on its device.

    The factorisation and the products with A and B run on the device; ``s``,
    ``Vt`` and the projections ``UᵀB`` (k × n_targets) come to the host, where
    the cut-off and the solution (n_features × n_targets) are formed, as for
    NumPy input. The Gram route is kept under the same guard (estimated
    relative error at most ``LSTSQ_GRAM_TOLERANCE``) and forms the projections
    as ``Σ⁻¹Vᵀ(AᵀB)``, without U; otherwise ``"qr"`` or ``"full"`` runs.
    """
    found = _namespace_gram_factors(A, B, ns) if route == "gram" else None
    U = None
    if found is None:
        if route == "gram":
            route = _backward_stable_solver(A.shape)
        U, s, Vt = decompose(Operand(A), None, solver=route)
        P = ns.numpy(U.T @ B)
    else:
        s, Vt, P = found
    factors = LeastSquaresFactors(s, Vt, P, U, A)
    return _solve(factors, B, rcond, max_rank, route)


def _namespace_gram_factors(A, B, ns):
    """``s``, ``Vt`` and ``P = Σ⁻¹Vᵀ(AᵀB)`` on the host, or None when not accurate."""
    result, _, divisor = namespace_gram_svd(Operand(A), A.shape[1], 0, False, ns)
    if not gram_error_estimate(result.s, A.shape[0], eps=ns.eps) <= (
        LSTSQ_GRAM_TOLERANCE
    ):
        return None
    s, Vt = result.s, ns.numpy(result.Vt).astype(np.float64)
    # A divided as its Gram matrix was (by its largest magnitude where squares
    # leave float64's range) and each target by its own norm: AᵀB can neither
    # overflow nor underflow on the way.
    sizes = _column_sizes(B)
    scaled = A if divisor == 1.0 else A / divisor
    product = ns.numpy(scaled.T @ (B / ns.asarray(sizes, B.dtype)))
    with np.errstate(over="ignore"):
        P = (Vt @ product) / (s / divisor)[:, np.newaxis] * sizes
    return s, Vt, P


def _arpack(operand, B, rcond, max_rank):
    """The ``max_rank`` leading triplets of a sparse design, then the formula."""
    A = operand.implicit()
    if max_rank == 0:
        x = np.zeros((A.shape[1], B.shape[1]))
        residues = _residues(A, B, x)
        return LeastSquaresSolution(x, residues, 0, None, np.zeros(0), "arpack", None)
    U, s, Vt = decompose(operand, max_rank, solver="arpack", random_state=0)
    factors = LeastSquaresFactors(s, Vt, U.T @ B, U, A)
    return _solve(factors, B, rcond, max_rank, "arpack")


# Rows sampled to guess whether the means are small beside the spread.
_MEAN_SAMPLE_ROWS = 2048


class _Design:
    """``Ẑ = diag(√w)(X − 1μᵀ)/unit`` with its Gram matrix ``G = ẐᵀẐ``.

    Without row weights and with means small beside the spread (every
    feature's ``n·μⱼ² ≤ SHIFT_RATIO·Cⱼⱼ``, ``Cⱼⱼ`` its centred sum of squares),
    nothing is copied: ``G = XᵀX − n·μμᵀ`` (see
    :func:`~sksvd.linalg._gram.gram_matrix`), ``Ẑx = Xx − 1(μᵀx)`` and
    ``Ẑᵀr = Xᵀr − μ(1ᵀr)``, whose rounding then exceeds that of centred data by
    at most ``√SHIFT_RATIO``. Otherwise ``Ẑ`` is formed once (one copy of X)
    and serves the Gram matrix and every product. ``design @ x`` is ``Z x``.
    """

    def __init__(self, operand):
        X, mean, weights = operand.X, operand.mean, operand.weights
        self.shape = X.shape
        self.X, self.mean, self._operand = X, mean, operand
        if weights is None and _small_means_likely(X, mean):
            # The Gram matrix of the centred data divided by unit, whichever
            # way gram_matrix formed it.
            self.G, self.unit, cancellation = gram_matrix(X, mean)
            # XᵀX − n·μμᵀ rounds like entries C + nμ² and then subtracts: twice
            # the factor gram_matrix reports, as a margin (measured 1.07 times
            # the estimate with the factor alone, 100000 × 200, n·μ²/C ≤ 27).
            self.cancellation = 2 * cancellation if cancellation > 1 else 1.0
            if self.unit == 1.0 and self._small_means():
                return
            self._form(None)
        else:
            # Row weights, or means large beside the spread: one centred,
            # weighted copy serves the Gram matrix and every product after it.
            self._form(operand.dense())

    def _form(self, Z):
        """Hold ``Ẑ`` itself (from ``Z``, a centred copy, or a new one); its Gram
        matrix when ``Z`` is given."""
        if Z is None:
            Z = self._operand.dense()
        else:
            self.G, self.unit, self.cancellation = gram_matrix(Z)
        if self.unit != 1.0:
            own = Z is not self._operand.X  # plain data: X itself, never modified
            Z = np.divide(Z, self.unit, out=Z) if own else Z / self.unit
        self.X, self.mean = Z, None

    @property
    def implicit(self):
        """Whether the centring is applied in the products (no copy of X)."""
        return self.mean is not None

    def centre(self):
        """Form ``Ẑ`` and its Gram matrix afresh: no cancellation left."""
        self._form(self._operand.dense())

    def release(self):
        """Drop a copy of X held, before another route makes its own."""
        self.X = self._operand = None

    def _small_means(self):
        if self.mean is None:
            return True
        with np.errstate(over="ignore"):
            return bool(
                np.all(self.shape[0] * self.mean**2 <= SHIFT_RATIO * np.diag(self.G))
            )

    def matmat(self, x):
        """``Ẑ x``."""
        Y = self.X @ x
        if self.mean is not None:
            Y -= self.mean @ x
        return Y

    def rmatmat(self, R):
        """``Ẑᵀ R``."""
        Y = self.X.T @ R
        if self.mean is not None:
            Y -= np.outer(self.mean, R.sum(axis=0))
        return Y

    def __matmul__(self, x):
        with np.errstate(over="ignore"):
            return self.matmat(x) * self.unit

    def transposed_copy(self):
        """``Ẑᵀ`` as a new Fortran-ordered array (for CholeskyQR2, in place)."""
        Zt = np.array(self.X.T, order="F")
        if self.mean is not None:
            Zt -= self.mean[:, np.newaxis]
        return Zt


def _small_means_likely(X, mean):
    """Whether every feature's ``n·μⱼ² ≤ SHIFT_RATIO·Cⱼⱼ``, judged on a sample of rows.

    A guess that saves the uncentred Gram matrix when it would be refused
    (large means): a wrong guess costs time only, as the exact test follows.
    """
    if mean is None:
        return True
    step = max(1, X.shape[0] // _MEAN_SAMPLE_ROWS)
    sample = X[::step]
    with np.errstate(over="ignore", invalid="ignore"):
        spread = np.mean((sample - mean) ** 2, axis=0)
        # Half the limit: a margin for the sample (2048 rows estimate a
        # variance to about 3 %).
        return bool(np.all(mean**2 <= SHIFT_RATIO / 2 * spread))


def _gram_route(design, B, rcond, max_rank, solution_only, exact_spectrum):
    """The Gram route, guarded; None when the problem needs another route.

    With every singular value kept (full rank beyond the Gram matrix's error,
    no truncating ``max_rank``) and only the solution needed, the normal
    equations by Cholesky with iterative refinement
    (:func:`_refined_normal_equations`) while the Gram matrix's estimated error
    is at most ``CHOLESKY_QR_TOLERANCE`` (at most ``LSTSQ_GRAM_TOLERANCE`` with
    ``exact_spectrum``, for the singular values). Otherwise the Gram factors
    while it is at most ``LSTSQ_GRAM_TOLERANCE``, and CholeskyQR2 from the same
    Gram matrix while it is at most ``CHOLESKY_QR_TOLERANCE``.
    """
    m, n = design.shape
    if solution_only and (max_rank is None or max_rank >= n):
        s = np.sqrt(np.clip(np.linalg.eigvalsh(design.G)[::-1], 0, None))
        estimate = gram_error_estimate(s, m) * design.cancellation
        if estimate > CHOLESKY_QR_TOLERANCE >= estimate / design.cancellation:
            # Refused for the uncentred formula's cancellation alone: centred
            # (one copy of X), the Gram matrix is accurate enough.
            design.centre()
            s = np.sqrt(np.clip(np.linalg.eigvalsh(design.G)[::-1], 0, None))
            estimate = gram_error_estimate(s, m)
        unit = design.unit
        rank, cutoff = cut_off(s * unit, rcond, None)
        full = rank == n and s[-1] * (1 - estimate) * unit > cutoff
        limit = LSTSQ_GRAM_TOLERANCE if exact_spectrum else CHOLESKY_QR_TOLERANCE
        if full and estimate <= limit:
            found = _refined_normal_equations(design, B, s, estimate)
            if found is not None:
                x, residues = found
                return LeastSquaresSolution(
                    x, residues, n, cutoff, s * unit, "gram", None
                )
    s, V = gram_eigh(design.G.copy(), n)
    estimate = gram_error_estimate(s, m) * design.cancellation
    if (
        design.implicit
        and estimate > LSTSQ_GRAM_TOLERANCE
        and (estimate / design.cancellation <= CHOLESKY_QR_TOLERANCE)
    ):
        # The cancellation of the uncentred formula is what refuses the Gram
        # factors, or CholeskyQR2 needs a centred copy anyway.
        design.centre()
        s, V = gram_eigh(design.G.copy(), n)
        estimate = gram_error_estimate(s, m)
    unit = design.unit
    if estimate <= LSTSQ_GRAM_TOLERANCE:
        sizes = _column_sizes(B)
        with np.errstate(over="ignore"):
            projections = (V.T @ design.rmatmat(B / sizes)) / s[:, np.newaxis] * sizes
        factors = LeastSquaresFactors(
            s * unit, np.ascontiguousarray(V.T), projections, None, design
        )
        return _solve(factors, B, rcond, max_rank, "gram")
    if estimate <= CHOLESKY_QR_TOLERANCE:
        # Too ill-conditioned for the normal equations, well enough for
        # CholeskyQR2 from the same Gram matrix: a QR as exact as
        # Householder's, in BLAS-3.
        factors = _cholesky_qr_factors(design, B)
        if factors is not None:
            # The residual directly, as the gelsd route measures it: ‖B‖² −
            # ‖P‖² of an ill-conditioned fit keeps fewer digits.
            solution = _solve(factors, B, rcond, max_rank, "qr")
            return solution._replace(residues=_residues(design, B, solution.x))
    return None


def _refined_normal_equations(design, B, s, estimate):
    """``x`` minimising ``‖Z x − B‖`` and its residues, or None when not certified.

    Corrected semi-normal equations (Björck, BIT 27, 1987): ``x₀ = G⁻¹ẐᵀB``
    from ``G = LLᵀ``, then corrections ``dₖ = G⁻¹Ẑᵀ(B − Ẑxₖ)`` with the
    residual taken from the data each time. Each correction shrinks the error
    by about the Gram matrix's relative error ``ρ`` (the ``estimate``, at most
    ``CHOLESKY_QR_TOLERANCE``), and the fixed point is set by the residual's
    rounding alone, which ``Z⁺`` maps to ``eps·(κ + κ²‖r‖/(σ₁‖x‖))``: the
    error bound of a backward-stable solver (Householder QR, gelsd; they often
    stay well inside it, the corrections reach it), at two matrix-vector
    passes over X per correction. The corrections stop when the
    next one would be below ``eps·‖x‖`` (``ρ·‖dₖ‖ ≤ eps·‖xₖ‖``) or they stop
    shrinking; the result is kept only when the last correction is within
    ``LSTSQ_REFINEMENT_FLOOR`` times that accuracy (a-posteriori).
    """
    try:
        L = np.linalg.cholesky(design.G)
    except np.linalg.LinAlgError:
        return None
    # G⁻¹ as L⁻ᵀL⁻¹: an inverse accurate to about κ·eps, far inside the
    # Gram matrix's own error, so the corrections converge as fast.
    inverse = np.linalg.inv(L)

    def solve(g):
        return inverse.T @ (inverse @ g)

    eps = float(np.finfo(np.float64).eps)
    sizes = _column_sizes(B)
    target = B / sizes
    with np.errstate(over="ignore", invalid="ignore"):
        x = solve(design.rmatmat(target))
        if not np.all(np.isfinite(x)):
            return None
        condition = s[0] / s[-1]
        previous = change = np.full(B.shape[1], np.inf)
        converged = np.zeros(B.shape[1], dtype=bool)
        for _ in range(LSTSQ_REFINEMENT_STEPS):
            r = target - design.matmat(x)
            g = design.rmatmat(r)
            d = solve(g)
            x += d
            x_norms = column_norms(x)
            change = np.where(x_norms > 0, column_norms(d) / x_norms, 0.0)
            if not np.all(np.isfinite(change)):
                return None
            # The error left is about ρ times the last correction; ρ is
            # taken ten times the estimate, for the Cholesky factor's own error.
            converged = 10 * estimate * change <= eps
            stalled = change > previous / 2
            if np.all(converged | stalled):
                break
            previous = change
        # The accuracy of a backward-stable solver, per target: the last
        # correction measures the error left (about ρ times it when converged).
        r_norms = column_norms(r)
        floor = eps * condition * (1 + condition * r_norms / (s[0] * x_norms))
        if not np.all(converged | (change <= LSTSQ_REFINEMENT_FLOOR * floor)):
            return None
        # ‖r − Ẑd‖² = ‖r‖² − dᵀg (d = G⁻¹g): the residual after the last
        # correction, without another pass.
        remaining = np.maximum(r_norms**2 - np.sum(d * g, axis=0), 0.0)
        x = x * (sizes / design.unit)
        residues = sizes * (sizes * remaining)
    return x, residues


def _column_sizes(B):
    """Each column's norm, to divide it by before products (1 for 0 or inf).

    Per column: a target far smaller than another keeps its digits instead of
    underflowing when divided by the other's norm; a target whose norm
    overflows is divided by its largest entry.
    """
    sizes = column_norms(B)
    overflowed = np.flatnonzero(np.isinf(sizes))
    if overflowed.size:
        # A norm beyond float64: the largest entry instead, so that the divided
        # column's norm is at most √m.
        sizes[overflowed] = [largest_magnitude(B[:, j]) for j in overflowed]
    return np.where((sizes > 0) & np.isfinite(sizes), sizes, 1.0)


def _cholesky_qr_factors(design, B):
    """``s``, ``Vt`` and ``P = UᵀB`` through CholeskyQR2 from ``G = ẐᵀẐ``.

    ``Q₁ = Ẑ R₁⁻¹`` with ``R₁ = chol(G)``, ``R₂ = chol(Q₁ᵀQ₁)``: then
    ``Z = Q R`` with ``Q = Q₁R₂⁻¹`` orthonormal and ``R = R₂R₁·unit`` (see
    :func:`~sksvd.linalg._exact.cholesky_qr_svd`), and the SVD ``R = U_r Σ Vᵀ``
    gives ``P = U_rᵀ R₂⁻ᵀ (Q₁ᵀB)``. The data are not modified (``Ẑᵀ`` is a
    copy). None when a Cholesky factorisation fails.
    """
    factored = cholesky_qr2(design.transposed_copy(), design.G, 1.0)
    if factored is None:
        return None
    Q1t, R2, R = factored
    U_r, s, Vt = lapack_svd(R)
    sizes = _column_sizes(B)
    QtB = la.solve_triangular(R2, Q1t @ (B / sizes), trans="T", check_finite=False)
    with np.errstate(over="ignore"):
        projections = (U_r.T @ QtB) * sizes
        s = s * design.unit
    return LeastSquaresFactors(s, Vt, projections, None, design)


def _solve(factors, B, rcond, max_rank, route):
    rank, cutoff = cut_off(factors.s, rcond, max_rank)
    x, residues = solve_from_factors(factors, B, rank)
    return LeastSquaresSolution(x, residues, rank, cutoff, factors.s, route, factors)


def solve_from_factors(factors, B, rank):
    """``x = V_r Σ_r⁻¹ P_r`` and the squared residuals ``‖B − A x‖²`` per column.

    The residuals come from the projections, see :func:`residual_squares`;
    the design ``factors.A`` may be an array, a sparse matrix or a linear
    operator.
    """
    s, Vt, P, A = factors.s, factors.Vt, factors.P, factors.A
    # A projection that overflowed gives a non-finite x, which the caller
    # refuses with a message; no warning on the way.
    with np.errstate(over="ignore", invalid="ignore"):
        x = Vt[:rank].T @ (P[:rank] / s[:rank, np.newaxis])
    ns = namespace_of(A)
    x_like_A = x if ns is None else ns.asarray(x)
    residues = residual_squares(
        column_norms(B), P[:rank], lambda: column_norms(B - A @ x_like_A)
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
    # Each target divided by its own norm: a small target beside a huge one
    # neither underflows nor is lost in the other's scale.
    scale = np.where(b_norms > 0, b_norms, 1.0)
    kept = np.sum((kept_projections / scale) ** 2, axis=0)
    total = np.where(b_norms > 0, 1.0, 0.0)
    remaining = np.maximum(total - kept, 0.0)
    close = kept >= (1 - np.sqrt(np.finfo(np.float64).eps)) * total
    if np.any(close & (total > 0)):
        remaining = np.where(close, (direct_norms() / scale) ** 2, remaining)
    with np.errstate(over="ignore"):
        # scale·(scale·r) rather than scale²·r: the square alone may overflow.
        return scale * (scale * remaining)


def _residues(A, B, x):
    """``‖B − A x‖²`` per column, scaled so that nothing overflows."""
    with np.errstate(over="ignore"):
        return column_norms(B - A @ x) ** 2


def _lsmr(operand, B):
    """LSMR (Fong and Saunders) on the implicit design, started from zero.

    From ``x₀ = 0`` its iterates stay in the row space, so it converges to the
    minimum-norm solution; it stops when the residual's tolerances
    ``atol = btol = 100·eps`` are met (no condition-number limit). The design is
    divided by the largest magnitude it can hold and each target by its norm
    first: LSMR's internal tests are not scale-free, and stopped after one
    iteration on data near 1e-18 or 1e150. A ``ConvergenceWarning`` says when it
    stops without converging (iteration limit, or a condition number beyond
    the machine's).
    """
    A = operand.implicit()
    weight = 1.0 if operand.weights is None else largest_magnitude(operand.weights)
    mean = 0.0 if operand.mean is None else largest_magnitude(operand.mean)
    size = (largest_magnitude(operand.X.data) + mean) * np.sqrt(weight)
    x = np.zeros((A.shape[1], B.shape[1]))
    b_norms = column_norms(B)
    # A target whose norm overflows is scaled by its largest entry instead.
    b_norms = np.where(
        np.isinf(b_norms), [largest_magnitude(column) for column in B.T], b_norms
    )
    residues = np.empty(B.shape[1])
    max_iter = 10 * min(A.shape) + 10
    for target in range(B.shape[1]):
        b_norm = float(b_norms[target])
        if size == 0.0 or b_norm == 0.0:
            with np.errstate(over="ignore"):
                residues[target] = b_norm**2
            continue
        solution = lsmr(
            A * (1.0 / size),
            B[:, target] / b_norm,
            atol=LSMR_TOLERANCE,
            btol=LSMR_TOLERANCE,
            conlim=0.0,
            maxiter=max_iter,
        )
        stop, normr = solution[1], solution[3]
        with np.errstate(over="ignore"):
            x[:, target] = solution[0] * (b_norm / size)
            residues[target] = b_norm * (b_norm * normr**2)
        if stop in (6, 7):
            why = f"after {max_iter} iterations" if stop == 7 else "early"
            warnings.warn(
                f"LSMR stopped {why} without converging (target {target}); the "
                "coefficients may be inaccurate. The design is likely "
                "ill-conditioned: scale the features, pass max_rank, or pass dense "
                "X to use the SVD.",
                ConvergenceWarning,
                stacklevel=4,
            )
    return LeastSquaresSolution(x, residues, None, None, None, "lsmr", None)


def _dask(operand, B, rcond, max_rank):
    """TSQR's ``s``, ``Vt`` and ``UᵀB`` in one pass over the lazy design."""
    A = operand.lazy()
    s, Vt, projections, b_norms, finite = dask_svd_projections(A, B)
    raise_if_not_finite(finite, "X or y")
    rank, cutoff = cut_off(s, rcond, max_rank)
    x = Vt[:rank].T @ (projections[:rank] / s[:rank, None])

    def direct_norms():
        # A second pass, only for a nearly exact fit.
        return lazy_column_norms(B - A @ x).compute()

    residues = residual_squares(b_norms, projections[:rank], direct_norms)
    return LeastSquaresSolution(x, residues, rank, cutoff, s, "dask", None)
