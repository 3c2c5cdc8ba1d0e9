"""Every solver decision of the engine: the traits table, the thresholds and tolerances.

Nothing else in sksvd chooses a solver or states a threshold: the engine entry
points (:mod:`sksvd.linalg._decompose`) ask :func:`choose_solver` and
:func:`choose_least_squares_solver`, and the capability lists (solvers that give
the whole spectrum, that accept sparse input, ...) are derived from ``TRAITS``.
"""

from typing import NamedTuple

import numpy as np


class SolverTraits(NamedTuple):
    """What one solver can do.

    Attributes
    ----------
    whole_spectrum : bool
        Computes every singular value (so a tail, a noise variance or a rank
        cut-off can be read from it).
    backward_stable : bool
        Its factors are the exact SVD of a matrix within a small multiple of
        ``eps·‖X‖`` of X, so ``U Σ`` equals ``X V`` to rounding.
    fewer : int
        The largest rank it returns is ``min(m, n) − fewer``.
    inputs : frozenset of str
        The kinds of input it accepts: ``"dense"``, ``"sparse"`` (a
        scipy.sparse matrix, centred implicitly), ``"dask"``, ``"array_api"``
        (an array of another array-API namespace, such as PyTorch or CuPy,
        under scikit-learn's ``array_api_dispatch``, factored on its device).
    """

    whole_spectrum: bool
    backward_stable: bool
    fewer: int
    inputs: frozenset


_DENSE_SPARSE = frozenset({"dense", "sparse"})
_ANY_IN_MEMORY = frozenset({"dense", "sparse", "array_api"})

#: The solvers of :func:`sksvd.linalg.svd`, and what each can do. ``"full"`` and
#: ``"qr"`` densify sparse input, as ``"gram"`` does once it is centred; the
#: others keep it sparse.
TRAITS = {
    "full": SolverTraits(True, True, 0, _ANY_IN_MEMORY),
    "qr": SolverTraits(True, True, 0, _ANY_IN_MEMORY),
    "gram": SolverTraits(True, False, 0, _ANY_IN_MEMORY),
    "randomized": SolverTraits(False, False, 0, _ANY_IN_MEMORY),
    "lanczos": SolverTraits(False, False, 4, _DENSE_SPARSE),
    "arpack": SolverTraits(False, False, 1, _DENSE_SPARSE),
    "propack": SolverTraits(False, False, 0, _DENSE_SPARSE),
    "block_krylov": SolverTraits(False, False, 1, _DENSE_SPARSE),
    "dask": SolverTraits(True, False, 0, frozenset({"dask"})),
}

SOLVERS = ("auto", *TRAITS)
WHOLE_SPECTRUM_SOLVERS = tuple(name for name, t in TRAITS.items() if t.whole_spectrum)
BACKWARD_STABLE_SOLVERS = tuple(name for name, t in TRAITS.items() if t.backward_stable)
PARTIAL_SPECTRUM_SOLVERS = tuple(
    name for name, t in TRAITS.items() if not t.whole_spectrum
)
ARRAY_API_SOLVERS = ("auto", *(n for n, t in TRAITS.items() if "array_api" in t.inputs))
# Solvers for a few triplets only: "all of them" is not a request they take.
KRYLOV_SOLVERS = tuple(
    name for name in PARTIAL_SPECTRUM_SOLVERS if name != "randomized"
)

# --- thresholds of the "auto" policy for the SVD -----------------------------------

# From this short side on, a few components are cheaper by sketching than by a
# dense SVD whose cost is cubic in the short side.
LARGE_SHORT_SIDE = 1000
# "A few components": at most this fraction of the short side.
FEW_COMPONENTS = 0.1
# A growing sketch for an energy target on dense data stops, and the exact SVD
# runs instead, once its basis would pass this fraction of the short side: each
# basis column costs 2·n_iter + 2 products with X, so past it LAPACK is cheaper.
ENERGY_SKETCH_MAX_FRACTION = 0.03
# Aspect ratio from which the Gram matrix of the short side is cheaper than a QR or
# LAPACK SVD of the whole matrix (m·n² flops for XᵀX against 2·m·n² and more).
TALL_RATIO = 4
# From this short side on, a few dense components come faster from block
# Lanczos bidiagonalisation of X than from a full SVD.
KRYLOV_MIN_SHORT_SIDE = 200
# Largest short side for which the Gram path is preferred to sketching on very
# tall or wide data: its eigendecomposition costs about short_side³.
GRAM_MAX_SHORT_SIDE = 4000
# Aspect ratio from which QR first (linear in the long side) beats LAPACK's SVD
# when every singular value and both factors are needed.
QR_RATIO = 2

# --- thresholds of the least-squares policy ----------------------------------------

# The Gram attempt pays when forming AᵀA (m·n²) beats a QR (2·m·n²) by more than
# the eigendecomposition (about 10·n³) that follows, and a failed attempt costs
# little: from about m ≥ 16·n.
LSTSQ_GRAM_RATIO = 16
# The least-squares Gram path is kept when its estimated relative error
# (see gram_error_estimate) is at most this: κ ≲ 67, where the solution's
# relative error stays below about 1e-12.
LSTSQ_GRAM_TOLERANCE = 1e-12

# When the guard rejects the Gram solver on tall float64 data, CholeskyQR2 from
# the same Gram matrix replaces Householder QR while the Gram matrix's estimated
# relative error (about eps·κ²) is at most this: κ ≲ 6·10⁶ on one block. Then
# R₁ = chol(G) leaves Q₁ = Z R₁⁻¹ with ‖Q₁ᵀQ₁ − I‖ ≲ 1e-2, and the second pass
# makes Q orthonormal and Z − QR small to working precision (Yamamoto, Nakatsukasa,
# Yanagisawa and Fukaya, ETNA 44, 2015).
CHOLESKY_QR_TOLERANCE = 1e-2
# Iterative refinement of the normal equations (a solution at full rank, see
# sksvd.linalg._lstsq._refined_normal_equations): each correction shrinks the
# error by the Gram matrix's relative error ρ ≤ CHOLESKY_QR_TOLERANCE, so eight
# corrections reach eps from any admitted ρ; a few more allow for a slower start.
LSTSQ_REFINEMENT_STEPS = 12
# The refined solution is kept when its last correction is within this factor
# of a backward-stable solver's error bound eps·(κ + κ²‖r‖/(σ₁‖x‖)). At the
# fixed point the errors stayed below 0.53 of the bound in a randomized sweep
# (922 fits, κ from 1 to 6e6); a last correction a hundred times the bound
# means the corrections did not converge.
LSTSQ_REFINEMENT_FLOOR = 100.0

# --- accuracy ----------------------------------------------------------------------

# Gram matrices are accumulated over blocks of this many rows (fewer for very wide
# blocks, see sksvd.linalg._gram), and the block products are summed pairwise.
GRAM_BLOCK_ROWS = 2**14

# Magnitudes whose squares, summed over any realistic dimension, stay normal
# float64 numbers: data inside this range is squared without rescaling.
SAFE_RANGE = (1e-140, 1e140)
# The same for solvers that work in float32 on float32 data (block Lanczos,
# ARPACK): squares of 1e±10, summed over 1e8 entries, stay normal float32.
FLOAT32_SAFE_RANGE = (1e-10, 1e10)
#: A Krylov solver that stops without converging falls back to LAPACK's SVD on
#: a matrix of at most this many entries (128 MiB in float64); on larger ones
#: block Lanczos hands over to ARPACK, and PROPACK raises.
KRYLOV_FALLBACK_ENTRIES = 2**24


def gram_tolerance(dtype):
    """Largest relative error in a singular value that ``"auto"`` accepts from Gram.

    ``eps^(2/3)`` of the data's dtype: 3.7e-11 for float64 and 2.4e-5 for
    float32. With the estimate of :func:`gram_error_estimate` (float64's eps:
    the Gram matrix is formed in float64 for float32 data too) this admits Gram
    while ``σ₁/σ_min`` stays below about ``√(tol/eps₆₄)/√(1 + log₂ B)``: about
    400 for float64 on one block, about 3e5 for float32. Ill-conditioned or
    rank-deficient problems go to an orthogonalising solver instead.
    """
    return float(np.finfo(dtype).eps) ** (2 / 3)


def gram_error_estimate(s, n_rows, eps=None):
    """Estimated worst relative error of the singular values ``s`` from a Gram matrix.

    The Gram matrix is formed in float64 (from float32 data too) over blocks of
    ``GRAM_BLOCK_ROWS`` rows whose products are summed pairwise, so its entries
    carry an absolute error of about ``eps₆₄·σ₁²·(1 + log₂ B)`` for ``B`` blocks:
    the rounding within one block, on which the factor 1 was calibrated (measured
    errors up to 0.45·eps·κ² from 10⁴ to 4·10⁶ rows), and one rounding per level
    of the pairwise sum. An eigenvalue ``σᵢ²`` therefore carries a relative error
    of about ``eps₆₄·(σ₁/σᵢ)²·(1 + log₂ B)``; halved for ``σᵢ`` and doubled back
    as a margin.

    Parameters
    ----------
    s : ndarray
        Singular values, descending, whose accuracy matters (``σ₁`` first).
    n_rows : int
        Rows summed into the Gram matrix (the long side).
    eps : float, default=None
        The machine epsilon of the dtype the Gram matrix is formed in; None for
        float64's (array-API devices without float64 pass float32's).

    Returns
    -------
    float
        ``inf`` when the smallest value is zero or the condition number exceeds
        √(float max).
    """
    if s.size == 0:
        return 0.0
    blocks = max(1, -(-n_rows // GRAM_BLOCK_ROWS))
    with np.errstate(over="ignore"):
        ratio = np.float64(s[0]) / np.float64(s[-1]) if s[-1] > 0 else np.inf
        eps = float(np.finfo(np.float64).eps) if eps is None else eps
        return float(eps * ratio**2 * (1 + np.log2(blocks)))


def check_solver_input(solver, kind):
    """Raise a ValueError if ``solver`` cannot run on input of this ``kind``."""
    if solver == "auto" or kind in TRAITS[solver].inputs:
        return
    accepted = sorted(name for name, t in TRAITS.items() if kind in t.inputs)
    what = {
        "dense": "a dense array",
        "sparse": "a sparse matrix",
        "dask": "a dask array",
        "array_api": "an array of a non-NumPy array-API namespace",
    }
    raise ValueError(
        f"solver={solver!r} cannot decompose {what[kind]}; use solver='auto' or one "
        f"of {accepted}."
    )


def largest_rank(solver, shape):
    """The most components ``solver`` returns for a matrix of this shape."""
    fewer = 0 if solver == "auto" else TRAITS[solver].fewer
    return min(shape) - fewer


def choose_solver(
    shape,
    n_components=None,
    *,
    sparse=False,
    energy=False,
    backward_stable=False,
    dask=False,
    array_api=False,
    tol=0.0,
):
    """The solver that ``solver="auto"`` picks: the policy, in one place.

    A pure function of its arguments.

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
    backward_stable : bool, default=False
        Whether every singular value and both factors are needed to working
        precision, as for a pseudo-inverse: then only ``"qr"`` (for
        ``m ≥ 2n`` or ``n ≥ 2m``) or ``"full"`` is chosen.
    dask : bool, default=False
        Whether the matrix is a dask array: then ``"dask"`` (TSQR when the
        columns fit one chunk, a compressed SVD otherwise).
    array_api : bool, default=False
        Whether the matrix is an array of another array-API namespace (PyTorch,
        CuPy, ...): the dense rows apply with ``"randomized"`` for the rows
        that pick ``"lanczos"`` on a short side of at least 1000, and
        ``"full"`` on a smaller one (the Krylov solvers run on NumPy only).
    tol : float, default=0.0
        The relative accuracy asked of the singular values; 0 asks for full
        accuracy. A positive tol sends a few components of sparse data to
        ``"block_krylov"``, which stops at that accuracy.

    Returns
    -------
    solver : str
        One of ``"full"``, ``"qr"``, ``"gram"``, ``"randomized"``,
        ``"lanczos"``, ``"arpack"``, ``"block_krylov"``, ``"dask"``.

    Notes
    -----
    With ``k`` the number of components, the first row that matches decides:

    .. list-table::
       :header-rows: 1

       * - input
         - solver
       * - a dask array
         - ``"dask"``
       * - ``backward_stable``, ``max(m, n) ≥ 2·min(m, n)``
         - ``"qr"`` (QR of the tall orientation, then the SVD of R)
       * - ``backward_stable``, otherwise
         - ``"full"``
       * - sparse, ``k < min(m, n)``, no energy target, ``tol > 0``
         - ``"block_krylov"`` (block Lanczos on ``XᵀX`` in blocks of 8,
           stopped once every residual is below tol; never densified)
       * - sparse, ``k < min(m, n)``, no energy target
         - ``"arpack"`` (the matrix is never densified); where ARPACK returns
           a value twice, copies of it may be missing, and ``"lanczos"`` reruns
           the call (unless k is within a few of ``min(m, n)``, where block
           Lanczos has no room for a block as large as the repetition)
       * - sparse, energy target, ``min(m, n) ≥ 1000``
         - ``"randomized"`` (grown block by block until the energy is reached)
       * - sparse, otherwise
         - ``"full"`` on the densified matrix
       * - dense, ``max(m, n) ≥ 4·min(m, n)``, ``min(m, n) ≤ 4000``, no energy target
         - ``"gram"``, guarded (see below)
       * - dense, energy target, ``min(m, n) ≥ 1000``
         - ``"randomized"``, grown until the energy is reached; ``"full"`` instead once
           its basis would pass ``0.03·min(m, n)`` columns
       * - dense, energy target, otherwise
         - ``"full"`` (every singular value is needed, small ones included)
       * - dense, ``k ≤ 0.1·min(m, n)``, ``min(m, n) ≥ 200``
         - ``"lanczos"``: block Lanczos bidiagonalisation of X (no squaring),
           rerun with a larger block where a value repeats; ``"full"`` (up to
           ``2**24`` entries) or ``"arpack"`` if it cannot converge
       * - dense, ``max(m, n) ≥ 4·min(m, n)``
         - ``"gram"``, guarded
       * - dense, otherwise
         - ``"full"``

    An array of another array-API namespace (``array_api=True``) takes the
    dense rows, with ``"randomized"`` (short side of at least 1000) or
    ``"full"`` where they would pick ``"lanczos"``: the Krylov solvers work on
    NumPy arrays and SciPy matrices, and are refused for such input.

    The Gram guard: the engine estimates the relative error of every singular
    value the caller will use (:func:`~sksvd.linalg._policy.gram_error_estimate`,
    about ``eps·(σ₁/σᵢ)²`` with a factor for the number of rows) and redoes the
    call by ``"qr"`` when it exceeds ``eps^(2/3)`` of the data's dtype: for tall
    float64 data whose estimate is at most ``CHOLESKY_QR_TOLERANCE = 1e-2``, by
    CholeskyQR2 from the same Gram matrix (two BLAS-3 passes, as exact as a
    Householder QR there); otherwise by Householder QR.

    The thresholds are constants of ``sksvd.linalg._policy``:
    ``LARGE_SHORT_SIDE = 1000``, ``FEW_COMPONENTS = 0.1``,
    ``KRYLOV_MIN_SHORT_SIDE = 200``, ``TALL_RATIO = 4``,
    ``GRAM_MAX_SHORT_SIDE = 4000``, ``QR_RATIO = 2`` and
    ``ENERGY_SKETCH_MAX_FRACTION = 0.03``.

    Examples
    --------
    >>> from sksvd.linalg import choose_solver
    >>> choose_solver((100_000, 50), 10)
    'gram'
    >>> choose_solver((2000, 1125), 50)
    'lanczos'
    >>> choose_solver((5000, 5000), 10)
    'lanczos'
    >>> choose_solver((2000, 1125), energy=True)
    'randomized'
    >>> choose_solver((300, 200), 5, sparse=True)
    'arpack'
    >>> choose_solver((100_000, 20_000), 100, sparse=True, tol=1e-2)
    'block_krylov'
    >>> choose_solver((5000, 3000), 10, array_api=True)  # a PyTorch tensor, say
    'randomized'
    """
    short_side, long_side = min(shape), max(shape)
    if dask:
        return "dask"
    if backward_stable:
        return _backward_stable_solver(shape)
    if array_api:
        solver = choose_solver(shape, n_components, energy=energy)
        if solver != "lanczos":
            return solver
        return "randomized" if short_side >= LARGE_SHORT_SIDE else "full"
    k = short_side if n_components is None else n_components
    if sparse:
        if not energy and k < short_side:
            return "block_krylov" if tol > 0 else "arpack"
        if energy and short_side >= LARGE_SHORT_SIDE:
            return "randomized"
        return "full"
    tall = long_side >= TALL_RATIO * short_side
    if tall and short_side <= GRAM_MAX_SHORT_SIDE and not energy:
        return "gram"
    if energy:
        return "randomized" if short_side >= LARGE_SHORT_SIDE else "full"
    if k <= FEW_COMPONENTS * short_side and short_side >= KRYLOV_MIN_SHORT_SIDE:
        return "lanczos"
    if tall:
        return "gram"
    return "full"


#: The least-squares solvers a user may name (``"auto"`` chooses among all routes).
LSTSQ_SOLVERS = ("auto", "full", "qr")


def choose_least_squares_solver(
    shape, *, kind="dense", max_rank=None, rcond=None, need="solution", gram=True
):
    """The route of a least-squares solve: a pure function, like :func:`choose_solver`.

    ``need`` is ``"solution"`` (x, residues, rank and singular values),
    ``"factors"`` (also ``s``, ``Vt`` and the projections ``UᵀB``, to solve at
    several ranks) or ``"u"`` (also ``U``, for leverages). The first row that
    matches decides:

    ====================================  ======================================
    problem                               route
    ====================================  ======================================
    a dask array                          ``"dask"``: TSQR and the projections
                                          ``UᵀB`` in one pass
    sparse, ``max_rank`` below            ``"arpack"``: the leading triplets of
    ``min(m, n)``                         the implicitly centred design
    sparse, a solution                    ``"lsmr"`` (no SVD)
    sparse, factors at every rank         the dense rows below, on the
                                          centred design made dense
    dense, ``m ≥ 16·n``, a solution at    ``"gram"``: the normal equations by
    full rank                             Cholesky, refined to the error bound
                                          of a backward-stable solver, when the
                                          estimated error is at most 1e-2
                                          (singular values from the Gram
                                          matrix); else the next row
    dense, ``m ≥ 16·n``, U not needed     ``"gram"``, guarded: kept when the
                                          estimated error is at most 1e-12;
                                          else ``"qr"`` by CholeskyQR2 from
                                          the same Gram matrix when it is at
                                          most 1e-2; else the next row that
                                          matches
    dense, a solution without             ``"gelsd"``: LAPACK's solver with the
    ``max_rank``, ``0 < rcond < 1``       same cut-off, no U formed (LAPACK
                                          replaces any other rcond by eps)
    dense, ``max(m, n) ≥ 2·min(m, n)``    ``"qr"`` (``Qᵀ`` applied to B; U only
                                          when needed)
    dense, otherwise                      ``"full"``
    ====================================  ======================================

    An array of another array-API namespace (``kind="array_api"``) follows the
    dense rows without ``"gelsd"``, on its own device.

    ``gram=False`` skips the Gram row: the route taken after the guard rejected
    a Gram attempt.

    Examples
    --------
    >>> from sksvd.linalg._policy import choose_least_squares_solver
    >>> choose_least_squares_solver((100_000, 200))
    'gram'
    >>> choose_least_squares_solver((100_000, 200), gram=False)
    'gelsd'
    >>> choose_least_squares_solver((100_000, 200), need="u")
    'qr'
    >>> choose_least_squares_solver((300, 200), rcond=1.0)
    'full'
    """
    m, n = shape
    if kind == "dask":
        return "dask"
    if kind == "sparse":
        if max_rank is not None and max_rank < min(shape):
            return "arpack"
        if need == "solution":
            return "lsmr"
    if gram and m >= LSTSQ_GRAM_RATIO * n and need != "u":
        return "gram"
    gelsd_cut_off = rcond is None or 0 < rcond < 1
    lapack = kind != "array_api"  # the array API standard has no lstsq
    if max_rank is None and need == "solution" and gelsd_cut_off and lapack:
        return "gelsd"
    return _backward_stable_solver(shape)


def _backward_stable_solver(shape):
    """QR first when it is linear in the long side and pays; LAPACK otherwise."""
    return "qr" if max(shape) >= QR_RATIO * min(shape) else "full"
