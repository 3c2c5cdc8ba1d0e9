"""The one place where a solver is chosen, and the engine entry points behind it.

Nothing here validates input: the public functions in :mod:`sksvd.linalg` and the
estimators validate first, then call :func:`dispatch_svd` or
:func:`dispatch_svd_by_energy` once.
"""

import contextlib

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from sksvd.linalg._checks import rank_for_energy
from sksvd.linalg._dask import dask_svd, is_dask_array
from sksvd.linalg._exact import full_svd, gram_svd, qr_svd
from sksvd.linalg._randomized import randomized_svd, randomized_svd_by_energy
from sksvd.linalg._result import SVDResult, flip_signs
from sksvd.linalg._sparse import krylov_svd

SOLVERS = ("auto", "full", "qr", "gram", "randomized", "arpack", "propack", "dask")
# Solvers whose factors are backward stable, so that U Σ equals X V to rounding.
BACKWARD_STABLE_SOLVERS = ("full", "qr")
KRYLOV_SOLVERS = ("arpack", "propack")

# From this short side on, a few components are cheaper by sketching than by a
# dense SVD whose cost is cubic in the short side.
LARGE_SHORT_SIDE = 1000
# "A few components": at most this fraction of the short side.
FEW_COMPONENTS = 0.1
# Aspect ratio from which the Gram matrix of the short side is cheaper than a QR or
# LAPACK SVD of the whole matrix (m·n² flops for XᵀX against 2·m·n² and more).
TALL_RATIO = 4
# From this short side on, a few dense components come faster from ARPACK
# (Lanczos on XᵀX, refined by a Rayleigh–Ritz step on X) than from a full SVD.
KRYLOV_MIN_SHORT_SIDE = 200
# Largest short side for which the Gram path is preferred to sketching on very
# tall or wide data: its eigendecomposition costs about short_side³.
GRAM_MAX_SHORT_SIDE = 4000
# Aspect ratio from which QR first (linear in the long side) beats LAPACK's SVD
# when U is needed too.
QR_RATIO = 2


def gram_tolerance(dtype):
    """Largest relative error in a singular value that ``"auto"`` accepts from Gram.

    ``eps^(2/3)``: 3.7e-11 for float64 and 2.4e-5 for float32. The Gram path's
    relative error in ``σₖ`` is about ``eps·(σ₁/σₖ)²``, so this admits Gram while
    ``σₖ/σ₁ ≥ eps^(1/6)`` (0.0025 in float64, 0.07 in float32): ill-conditioned or
    rank-deficient problems are sent to an orthogonalising solver instead.
    """
    return float(np.finfo(dtype).eps) ** (2 / 3)


# Below these amounts of work (m·n·min(m, n)) a second BLAS thread costs more
# than it brings: NumPy and SciPy each load their own OpenBLAS, whose idle
# threads spin and steal the core the other library is computing on (a 3200 × 100
# SVD ran 1.7× slower by LAPACK and 3.7× by the Gram path with two threads on a
# 2-core machine). Measured crossovers, with a margin.
SINGLE_THREAD_WORK = {"gram": 1e9, "full": 5e7, "qr": 5e7}
_CONTROLLER = []


@contextlib.contextmanager
def blas_threads_for(shape, solver):
    """Run BLAS on one thread for small problems, and as configured otherwise."""
    limit = SINGLE_THREAD_WORK.get(solver, 5e7)
    if shape[0] * shape[1] * min(shape) > limit:
        yield
        return
    if not _CONTROLLER:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER.append(ThreadpoolController())
    with _CONTROLLER[0].limit(limits=1, user_api="blas"):
        yield


def gram_is_accurate(relative_error, dtype):
    """The guard: whether a Gram result is kept by ``"auto"``."""
    return relative_error <= gram_tolerance(dtype)


def choose_solver(
    shape,
    n_components=None,
    *,
    sparse=False,
    energy=False,
    backward_stable=False,
    dask=False,
):
    """The solver that ``solver="auto"`` picks: the policy, in one place.

    Parameters
    ----------
    shape : tuple of (int, int)
        ``(n_samples, n_features)`` of the matrix.
    n_components : int, default=None
        Number of components asked for; None means all of them.
    sparse : bool, default=False
        Whether the matrix is a scipy.sparse matrix.
    energy : bool, default=False
        Whether the rank will be found from an energy fraction (``n_components`` a
        float in the estimators), so that the spectrum must be explored.
    dask : bool, default=False
        Whether the matrix is a dask array: then ``"dask"`` (TSQR when the
        columns fit one chunk, a compressed SVD otherwise).
    backward_stable : bool, default=False
        Whether every singular value and both factors are needed to working
        precision, as for a pseudo-inverse: then only ``"qr"`` (for
        ``m ≥ 2n`` or ``n ≥ 2m``) or ``"full"`` is chosen.

    Returns
    -------
    solver : str
        One of ``"full"``, ``"qr"``, ``"gram"``, ``"randomized"``, ``"arpack"``,
        ``"dask"``.

    Notes
    -----
    With ``k`` the number of components:

    ====================================  ======================================
    input                                 solver
    ====================================  ======================================
    a dask array                          ``"dask"``
    ``backward_stable``,                  ``"qr"`` (QR of the tall orientation,
    ``max(m, n) ≥ 2·min(m, n)``           then the SVD of R)
    ``backward_stable``, otherwise        ``"full"``
    sparse, ``k < min(m, n)``             ``"arpack"`` (the matrix is never
                                          densified)
    sparse, energy target,                ``"randomized"`` (grown block by
    ``min(m, n) ≥ 1000``                  block until the energy is reached)
    sparse, otherwise                     ``"full"`` on the densified matrix
    dense, ``max(m, n) ≥ 4·min(m, n)``    ``"gram"``, guarded (see below)
    and ``min(m, n) ≤ 4000``, no energy
    target
    dense, energy target,                 ``"randomized"`` (grown block by
    ``min(m, n) ≥ 1000``                  block until the energy is reached)
    dense, ``k ≤ 0.1·min(m, n)``,         ``"arpack"``, whose Ritz values are
    ``min(m, n) ≥ 200``                   refined on X itself (no squaring)
    dense, energy target, otherwise       ``"full"`` (every singular value is
                                          needed, small ones included)
    dense, ``max(m, n) ≥ 4·min(m, n)``    ``"gram"``, guarded: if the estimated
                                          relative error ``eps·(σ₁/σₖ)²`` of the
                                          requested singular values exceeds
                                          :func:`gram_tolerance`, the same call
                                          is redone by ``"qr"``
    dense, otherwise                      ``"full"``
    ====================================  ======================================

    The thresholds are module constants: ``LARGE_SHORT_SIDE = 1000``,
    ``FEW_COMPONENTS = 0.1``, ``KRYLOV_MIN_SHORT_SIDE = 200``, ``TALL_RATIO = 4``,
    ``GRAM_MAX_SHORT_SIDE = 4000`` and ``QR_RATIO = 2``.

    Examples
    --------
    >>> from sksvd.linalg import choose_solver
    >>> choose_solver((100_000, 50), 10)
    'gram'
    >>> choose_solver((2000, 1125), 50)
    'arpack'
    >>> choose_solver((2000, 1125), energy=True)
    'randomized'
    >>> choose_solver((300, 200), 5, sparse=True)
    'arpack'
    """
    short_side, long_side = min(shape), max(shape)
    if dask:
        return "dask"
    if backward_stable:
        return "qr" if long_side >= QR_RATIO * short_side else "full"
    k = short_side if n_components is None else n_components
    few = energy or k <= FEW_COMPONENTS * short_side
    if sparse:
        if not energy and k < short_side:
            return "arpack"
        if energy and short_side >= LARGE_SHORT_SIDE:
            return "randomized"
        return "full"
    tall = long_side >= TALL_RATIO * short_side
    if tall and short_side <= GRAM_MAX_SHORT_SIDE and not energy:
        return "gram"
    if energy:
        return "randomized" if short_side >= LARGE_SHORT_SIDE else "full"
    if few and short_side >= KRYLOV_MIN_SHORT_SIDE:
        return "arpack"
    if tall:
        return "gram"
    return "full"


def dispatch_svd(
    X,
    n_components=None,
    *,
    solver="auto",
    compute_u=True,
    random_state=None,
    n_oversamples=10,
    n_iter="auto",
    return_solver=False,
):
    """Truncated SVD of a validated matrix by the requested or chosen solver.

    Returns an :class:`SVDResult` with ``n_components`` descending singular values
    and signs fixed by :func:`~sksvd.linalg._result.flip_signs`, and with
    ``return_solver=True`` also the solver that produced it (after the Gram guard),
    so callers need not re-derive the policy. Sparse input given to ``"full"`` or
    ``"qr"`` is densified.
    """
    k = min(X.shape) if n_components is None else n_components
    random_state = check_random_state(random_state)
    guarded = solver == "auto"
    if guarded:
        solver = choose_solver(X.shape, k, sparse=sp.issparse(X), dask=is_dask_array(X))
    with blas_threads_for(X.shape, solver):
        if solver == "full":
            result = full_svd(X, k, compute_u)
        elif solver == "qr":
            result = qr_svd(X, k, compute_u)
        elif solver == "gram":
            result, relative_error = gram_svd(X, k, compute_u)
            if guarded and not gram_is_accurate(relative_error, X.dtype):
                solver = "qr"
                result = qr_svd(X, k, compute_u)
        elif solver == "dask":
            result = dask_svd(
                X,
                k,
                compute_u=compute_u,
                random_state=random_state,
                n_oversamples=n_oversamples,
                n_iter=n_iter,
            )
        elif solver == "randomized":
            result = randomized_svd(
                X,
                k,
                n_oversamples=n_oversamples,
                n_iter=n_iter,
                compute_u=compute_u,
                random_state=random_state,
            )
        else:
            result = krylov_svd(
                X, k, solver=solver, compute_u=compute_u, random_state=random_state
            )
    result = _signed(result)
    return (result, solver) if return_solver else result


def dispatch_svd_by_energy(
    X,
    energy,
    *,
    norm,
    solver="auto",
    compute_u=True,
    random_state=None,
    n_oversamples=10,
    n_iter="auto",
    return_solver=False,
):
    """SVD truncated at the smallest rank keeping ``energy`` of ``‖X‖²_F``.

    ``norm`` is ``‖X‖_F`` (the caller has it already). The rank ``r`` is the
    smallest with ``Σᵢ≤ᵣ σᵢ² ≥ energy·‖X‖²_F``:

    - exact solvers compute the whole spectrum and cut it;
    - ``"randomized"`` grows its basis block by block until the energy is reached
      (:func:`~sksvd.linalg._randomized.randomized_svd_by_energy`), never
      computing more than a few blocks past the rank;
    - ``"arpack"`` and ``"propack"`` double the number of triplets until the energy
      is reached, and finish with ``"full"`` on the densified matrix if their
      largest allowed rank does not reach it.

    An all-zero matrix is its own rank-1 approximation: ``U`` and ``Vt`` are then
    the first unit vectors and ``s = [0]``.
    """
    random_state = check_random_state(random_state)
    short_side = min(X.shape)
    if solver == "auto":
        solver = choose_solver(
            X.shape, None, sparse=sp.issparse(X), energy=True, dask=is_dask_array(X)
        )
    if norm == 0.0:
        U = np.zeros((X.shape[0], 1), dtype=X.dtype) if compute_u else None
        if U is not None:
            U[0, 0] = 1
        Vt = np.zeros((1, X.shape[1]), dtype=X.dtype)
        Vt[0, 0] = 1
        result = SVDResult(U, np.zeros(1, dtype=X.dtype), Vt)
        return (result, solver) if return_solver else result
    if solver == "randomized":
        result = randomized_svd_by_energy(
            X,
            energy,
            norm,
            n_oversamples=n_oversamples,
            n_iter=n_iter,
            compute_u=compute_u,
            random_state=random_state,
        )
        result = _signed(result)
        return (result, solver) if return_solver else result
    if solver in KRYLOV_SOLVERS:
        largest = short_side if solver == "propack" else short_side - 1
        k = min(16, largest)
        while 1 <= k <= largest:
            result = dispatch_svd(
                X, k, solver=solver, compute_u=compute_u, random_state=random_state
            )
            rank = rank_for_energy(result.s, energy, norm)
            if rank is not None:
                result = _truncate(result, rank)
                return (result, solver) if return_solver else result
            if k == largest:
                break
            k = min(2 * k, largest)
        solver = "full"
    result = dispatch_svd(
        X, None, solver=solver, compute_u=compute_u, random_state=random_state
    )
    rank = rank_for_energy(result.s, energy, norm)
    result = _truncate(result, result.s.size if rank is None else rank)
    return (result, solver) if return_solver else result


def _signed(result):
    U, Vt = flip_signs(result.U, result.Vt)
    return SVDResult(U, result.s, Vt)


def _truncate(result, rank):
    U = None if result.U is None else np.ascontiguousarray(result.U[:, :rank])
    return SVDResult(U, result.s[:rank], np.ascontiguousarray(result.Vt[:rank]))
