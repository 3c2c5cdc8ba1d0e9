"""The one place where a solver is chosen, and the engine entry points behind it.

Nothing here validates input: the public functions in :mod:`sksvd.linalg` and the
estimators validate first, then call :func:`dispatch_svd` or
:func:`dispatch_svd_by_energy` once.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from sksvd.linalg._exact import full_svd, gram_svd, qr_svd
from sksvd.linalg._randomized import randomized_svd, randomized_svd_by_energy
from sksvd.linalg._result import SVDResult, flip_signs
from sksvd.linalg._sparse import krylov_svd

SOLVERS = ("auto", "full", "qr", "gram", "randomized", "arpack", "propack")
EXACT_SOLVERS = ("full", "qr", "gram")
KRYLOV_SOLVERS = ("arpack", "propack")

# From this short side on, a few components are cheaper by sketching than by a
# dense SVD whose cost is cubic in the short side.
LARGE_SHORT_SIDE = 1000
# "A few components": at most this fraction of the short side.
FEW_COMPONENTS = 0.1
# Aspect ratio from which the Gram matrix of the short side is cheaper than a QR or
# LAPACK SVD of the whole matrix (m·n² flops for XᵀX against 2·m·n² and more).
TALL_RATIO = 4


def gram_tolerance(dtype):
    """Largest relative error in a singular value that ``"auto"`` accepts from Gram.

    ``eps^(2/3)``: 3.7e-11 for float64 and 2.4e-5 for float32. The Gram path's
    relative error in ``σₖ`` is about ``eps·(σ₁/σₖ)²``, so this admits Gram while
    ``σₖ/σ₁ ≥ eps^(1/6)`` (0.0025 in float64, 0.07 in float32): ill-conditioned or
    rank-deficient problems are sent to an orthogonalising solver instead.
    """
    return float(np.finfo(dtype).eps) ** (2 / 3)


def choose_solver(shape, n_components=None, *, sparse=False, energy=False):
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

    Returns
    -------
    solver : str
        One of ``"full"``, ``"gram"``, ``"randomized"``, ``"arpack"``.

    Notes
    -----
    With ``k`` the number of components:

    ====================================  ======================================
    input                                 solver
    ====================================  ======================================
    sparse, ``k < min(m, n)``             ``"arpack"`` (the matrix is never
                                          densified)
    sparse, energy target,                ``"randomized"`` (grown block by
    ``min(m, n) ≥ 1000``                  block until the energy is reached)
    sparse, otherwise                     ``"full"`` on the densified matrix
    dense, ``min(m, n) ≥ 1000`` and       ``"randomized"``
    ``k ≤ 0.1·min(m, n)`` or an energy
    target
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
    ``FEW_COMPONENTS = 0.1`` and ``TALL_RATIO = 4``.

    Examples
    --------
    >>> from sksvd.linalg import choose_solver
    >>> choose_solver((100_000, 50), 10)
    'gram'
    >>> choose_solver((2000, 1125), 50)
    'randomized'
    >>> choose_solver((300, 200), 5, sparse=True)
    'arpack'
    """
    short_side, long_side = min(shape), max(shape)
    k = short_side if n_components is None else n_components
    few = energy or k <= FEW_COMPONENTS * short_side
    if sparse:
        if not energy and k < short_side:
            return "arpack"
        if energy and short_side >= LARGE_SHORT_SIDE:
            return "randomized"
        return "full"
    if short_side >= LARGE_SHORT_SIDE and few:
        return "randomized"
    if energy:
        return "full"
    if long_side >= TALL_RATIO * short_side:
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
):
    """Truncated SVD of a validated matrix by the requested or chosen solver.

    Returns an :class:`SVDResult` with ``n_components`` descending singular values
    and signs fixed by :func:`~sksvd.linalg._result.flip_signs`. Sparse input given
    to ``"full"`` or ``"qr"`` is densified.
    """
    k = min(X.shape) if n_components is None else n_components
    random_state = check_random_state(random_state)
    guarded = solver == "auto"
    if guarded:
        solver = choose_solver(X.shape, k, sparse=sp.issparse(X))
    if solver == "full":
        result = full_svd(X, k, compute_u)
    elif solver == "qr":
        result = qr_svd(X, k, compute_u)
    elif solver == "gram":
        result, relative_error = gram_svd(X, k, compute_u)
        if guarded and relative_error > gram_tolerance(X.dtype):
            result = qr_svd(X, k, compute_u)
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
    return _signed(result)


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
    """
    random_state = check_random_state(random_state)
    short_side = min(X.shape)
    if solver == "auto":
        solver = choose_solver(X.shape, None, sparse=sp.issparse(X), energy=True)
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
        return _signed(result)
    if solver in KRYLOV_SOLVERS:
        largest = short_side if solver == "propack" else short_side - 1
        k = min(16, largest)
        while k <= largest:
            result = dispatch_svd(
                X, k, solver=solver, compute_u=compute_u, random_state=random_state
            )
            rank = rank_for_energy(result.s, energy, norm)
            if rank is not None:
                return _truncate(result, rank)
            if k == largest:
                break
            k = min(2 * k, largest)
        solver = "full"
    result = dispatch_svd(
        X, None, solver=solver, compute_u=compute_u, random_state=random_state
    )
    rank = rank_for_energy(result.s, energy, norm)
    return _truncate(result, result.s.size if rank is None else rank)


def rank_for_energy(s, energy, norm):
    """Smallest ``r`` with ``Σᵢ≤ᵣ (σᵢ/‖X‖_F)² ≥ energy``, or None if ``s`` falls short.

    When ``s`` is the whole spectrum, rounding can leave its total energy a few ulps
    below an ``energy`` close to one; the caller then keeps every component.
    """
    if norm == 0.0:
        return 1
    cumulative = np.cumsum((s.astype(np.float64) / norm) ** 2)
    rank = int(np.searchsorted(cumulative, energy, side="left")) + 1
    return rank if rank <= s.size else None


def _signed(result):
    U, Vt = flip_signs(result.U, result.Vt)
    return SVDResult(U, result.s, Vt)


def _truncate(result, rank):
    U = None if result.U is None else np.ascontiguousarray(result.U[:, :rank])
    return SVDResult(U, result.s[:rank], np.ascontiguousarray(result.Vt[:rank]))
