"""Krylov solvers (block Lanczos, block Krylov, ARPACK, PROPACK) for a few triplets.

Dense, sparse or implicit (:class:`~sksvd.linalg._operand.CenteredOperator`):
only products with the matrix and its transpose are used.
"""

import numpy as np
from numpy.linalg import LinAlgError
from scipy.sparse.linalg import svds

from sksvd.linalg._block_krylov import BlockKrylovConvergenceError, block_krylov_svd
from sksvd.linalg._lanczos import ACCURACY as LANCZOS_ACCURACY
from sksvd.linalg._lanczos import LanczosConvergenceError, lanczos_svd
from sksvd.linalg._lanczos import _repetition as lanczos_repetition
from sksvd.linalg._norms import canonical, largest_magnitude
from sksvd.linalg._operand import CenteredOperator, into_range, times_unit
from sksvd.linalg._result import SVDResult


class PropackConvergenceError(ValueError):
    """PROPACK stopped without the triplets asked for (a ValueError)."""


class ArpackRepetitionError(ValueError):
    """ARPACK returned a singular value more than once: copies may be missing.

    ``result`` holds what ARPACK returned, for a caller that cannot do better.
    """

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result


#: What a Krylov solver raises when it cannot deliver the triplets asked for.
KrylovConvergenceError = (
    PropackConvergenceError,
    LanczosConvergenceError,
    BlockKrylovConvergenceError,
    ArpackRepetitionError,
)


# A returned triplet must satisfy ‖XᵀXv − σ²v‖ ≤ this times eps·σ₁²; exact ones
# come out near eps·σ₁² times a small factor, and PROPACK's occasional wrong
# ones (a repeated value returned as 1 − 4e-5 of itself, for example) far above.
_RESIDUAL_FACTOR = 1e5


def _check_triplets(X, s, Vt, n_components):
    """Refuse PROPACK's result if a triplet's residual shows it is not one.

    PROPACK, run without restarts from one start vector, sometimes reports
    convergence with a value of a repeated or clustered pair that is off in
    its fifth digit: the normal-equations residual of each returned pair
    tells (two products with X).
    """
    V = np.asarray(Vt, dtype=np.float64).T
    W = X @ V
    residual = np.asarray(X.T @ W) - V * np.asarray(s, dtype=np.float64) ** 2
    top = float(np.max(s, initial=0.0))
    bound = _RESIDUAL_FACTOR * float(np.finfo(np.float64).eps) * top**2
    if np.max(np.linalg.norm(residual, axis=0), initial=0.0) > bound:
        raise PropackConvergenceError(
            f"PROPACK returned {n_components} singular triplets of a "
            f"{X.shape[0]} x {X.shape[1]} matrix that are not accurate (a "
            "repeated or clustered singular value); use solver='arpack' or "
            "solver='full'."
        )


def krylov_svd(X, n_components, *, solver, compute_u, random_state, tol=0.0):
    """Leading singular triplets by block Lanczos, block Krylov, ARPACK or PROPACK.

    ``"lanczos"`` is :func:`~sksvd.linalg._lanczos.lanczos_svd` and
    ``"block_krylov"`` :func:`~sksvd.linalg._block_krylov.block_krylov_svd`
    (which stops at the relative accuracy ``tol``); the other two are SciPy's
    (``scipy.sparse.linalg.svds``, given ``tol`` as its own: the relative
    accuracy of the singular values, 0 for machine precision).

    ARPACK (implicitly restarted Lanczos on ``XᵀX`` or ``XXᵀ``) needs
    ``k < min(m, n)``; SciPy finishes it with a Rayleigh–Ritz step on X itself
    (the SVD of ``X V``), which undoes the squaring's loss in the singular
    values: they come out to about ``eps·σ₁``. PROPACK (Lanczos
    bidiagonalisation of X itself, no squaring) allows ``k ≤ min(m, n)``. SciPy
    runs PROPACK without restarts and stops it on a loose test, so where
    singular values cluster it can return values off by 1e-6, vectors off by
    1e-3, or skip a triplet (scipy/scipy#16330): ``"auto"`` never picks it. The
    starting
    vector is drawn from ``random_state`` so that results repeat.
    """
    dtype = X.dtype
    largest = _largest_magnitude(X)
    if largest == 0.0:
        return _zero_svd(X.shape, n_components, dtype, compute_u)
    # ARPACK works on XᵀX, and Lanczos's norms square the entries too.
    scaled, unit = into_range(X, largest)
    if unit != 1.0:
        result = krylov_svd(
            scaled,
            n_components,
            solver=solver,
            compute_u=compute_u,
            random_state=random_state,
            tol=tol,
        )
        return SVDResult(result.U, times_unit(result.s, unit), result.Vt)
    if solver == "lanczos":
        return lanczos_svd(
            X, n_components, compute_u=compute_u, random_state=random_state
        )
    if solver == "block_krylov":
        return block_krylov_svd(
            X, n_components, tol=tol, compute_u=compute_u, random_state=random_state
        )
    if solver == "propack" and dtype == np.float32:
        # Single-precision PROPACK skipped triplets in about 1 run in 100 of our
        # tests; in double precision it did not. The factors are cast back.
        X = X.astype(np.float64)
    length = X.shape[0] if solver == "propack" else min(X.shape)
    v0 = random_state.uniform(-1, 1, size=length).astype(X.dtype)
    vectors = True if compute_u else "vh"
    options = {"k": n_components, "v0": v0, "solver": solver, "tol": tol}
    try:
        U, s, Vt = svds(X, return_singular_vectors=vectors, **options)
    except LinAlgError:
        if solver != "propack":
            raise
        # PROPACK (without restarts) stops at a Krylov basis of 10·k vectors, too
        # few for a flat spectrum; a basis of min(m, n) + 1 vectors usually
        # converges, at the memory cost of a dense solver's factors.
        options["maxiter"] = min(X.shape) + 1
        try:
            U, s, Vt = svds(X, return_singular_vectors=vectors, **options)
        except LinAlgError:
            raise PropackConvergenceError(
                f"PROPACK did not converge for {n_components} singular triplets of "
                f"a {X.shape[0]} x {X.shape[1]} matrix; use solver='arpack' or "
                "solver='full'."
            ) from None
    if solver == "propack":
        _check_triplets(X, s, Vt, n_components)
    order = np.argsort(s)[::-1]
    U = np.ascontiguousarray(U[:, order], dtype=dtype) if compute_u else None
    result = SVDResult(
        U, s[order].astype(dtype), np.ascontiguousarray(Vt[order], dtype=dtype)
    )
    if solver == "arpack":
        _check_repetition(result, n_components, dtype, tol)
    return result


def _check_repetition(result, n_components, dtype, tol):
    """Refuse ARPACK's values when one of them, above the last, comes twice or more.

    ARPACK grows one Krylov sequence: a repeated singular value is found as
    often as rounding lets its copies in, and the copies it misses are replaced
    by smaller values (20 copies of σ₁ in a sparse block-diagonal matrix came
    back as 9, then σ₂₁). Copies that reach the last value returned displace
    nothing, and a value found once cannot be told from a single one.
    """
    eps = max(float(np.finfo(dtype).eps), tol / LANCZOS_ACCURACY)
    count = lanczos_repetition(result.s, n_components, eps)
    if count >= 2:
        raise ArpackRepetitionError(
            f"ARPACK found a singular value {count} times among the "
            f"{n_components} asked for: further copies may be missing; use "
            "solver='lanczos' (block Lanczos, which finds every copy) or "
            "solver='full'.",
            result,
        )


def _largest_magnitude(X):
    """max |x| for arrays and sparse matrices; None for implicit operators."""
    if isinstance(X, np.ndarray):
        values = X
    elif hasattr(X, "data") and hasattr(X, "nnz"):
        values = canonical(X).data  # duplicates that cancel are a zero
    elif isinstance(X, CenteredOperator):
        # Not scaled by (its entries are implicit), but a zero operator is
        # told apart: ARPACK cannot start on it.
        parts = [X.X.data, X.mean] + ([] if X.dense is None else [X.dense])
        return 0.0 if max(largest_magnitude(part) for part in parts) == 0 else None
    else:
        return None
    return largest_magnitude(values)


def _zero_svd(shape, k, dtype, compute_u):
    """An SVD of the zero matrix: zero singular values, unit vectors."""
    U = np.eye(shape[0], k, dtype=dtype) if compute_u else None
    return SVDResult(U, np.zeros(k, dtype=dtype), np.eye(k, shape[1], dtype=dtype))
