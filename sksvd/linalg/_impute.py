"""Low-rank completion of a matrix with missing entries: the engine's one routine.

The iteration is the EM algorithm of a low-rank model with a free mean (and
optionally a free scale) per column, as R's missMDA ``imputePCA`` runs it
(Josse and Husson, 2012):

1. fill the missing entries (column means of the observed ones to start);
2. centre (and scale) the filled matrix by its column statistics;
3. take its leading singular triplets through :func:`decompose`;
4. replace the missing entries, and only those, by the low-rank
   reconstruction: hard rank ``k`` (``σᵢ`` kept as they are) or soft
   thresholding ``max(σᵢ − λ, 0)`` (softImpute, Mazumder, Hastie and
   Tibshirani, 2010);
5. stop when the fill moves by less than ``tol`` relative to the centred
   matrix: ``‖Δfill‖_F ≤ tol·‖X̂ − 1μᵀ‖_F``.

With an exact SVD at each step, a step never increases the squared error of
the fit on the observed entries (hard rank, without scaling) or the
nuclear-norm penalised objective (soft), so the objective settles, at a
stationary point that need not be the global optimum. After the first step
the previous subspace is refined by one block power step instead of a fresh
SVD.
"""

from typing import NamedTuple

import numpy as np

from sksvd.linalg._decompose import decompose
from sksvd.linalg._operand import Operand
from sksvd.linalg._policy import largest_rank


class Completion(NamedTuple):
    """The result of :func:`complete_low_rank`.

    ``filled`` is X with its missing entries replaced (float64), ``mean`` and
    ``scale`` the column statistics of the last step, ``s`` and ``Vt`` the kept
    singular values (after thresholding) and right singular vectors of the
    centred, scaled filled matrix, ``n_iter`` the steps taken and ``converged``
    whether the tolerance was met.
    """

    filled: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    s: np.ndarray
    Vt: np.ndarray
    n_iter: int
    converged: bool
    noise: float = 0.0
    penalty: np.ndarray | None = None


def observed_means(X, missing):
    """Column means of the observed entries (float64); NaN for an empty column."""
    observed = ~missing
    counts = observed.sum(axis=0)
    totals = np.where(observed, X, 0.0).sum(axis=0, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return totals / counts


def observed_constant(X, missing):
    """Whether each column has two or more observed entries, all equal."""
    observed = ~missing
    with np.errstate(invalid="ignore"):
        low = np.where(observed, X, np.inf).min(axis=0)
        high = np.where(observed, X, -np.inf).max(axis=0)
    return (observed.sum(axis=0) >= 2) & (low == high)


def complete_low_rank(
    X,
    missing,
    rank,
    *,
    shrinkage=None,
    scale=False,
    max_iter=100,
    tol=1e-5,
    start=None,
    solver="auto",
    random_state=None,
):
    """Fill the missing entries of X from a low-rank model of the observed ones.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float64 data; the values at missing entries are ignored.
    missing : ndarray of bool, same shape
        True where an entry is missing. No column may be entirely missing.
    rank : int
        Components kept (a cap on them with ``shrinkage``); 0 keeps none, which
        fills with the column means.
    shrinkage : float, default=None
        Soft threshold ``λ`` on the singular values of the centred (scaled)
        matrix; None for a hard rank.
    scale : bool, default=False
        Divide each column by its standard deviation (``ddof=1``) at each step,
        as missMDA's ``scale=TRUE``.
    max_iter : int, default=100
    tol : float, default=1e-5
    start : ndarray, default=None
        A previous fill to start from (a warm start along a grid of ranks or
        shrinkages); None starts from the observed column means.
    solver : str, default="auto"
        The engine's solver for each step.
    random_state : int, RandomState or None
        Seeds the randomized and Krylov solvers.

    Returns
    -------
    Completion
    """
    # Divided by the largest observed magnitude first, so that no square over-
    # or underflows (data near 1e±160 would); multiplied back at the end.
    observed_values = np.asarray(X, dtype=np.float64)[~missing]
    size = float(np.max(np.abs(observed_values), initial=0.0))
    if size == 0.0 or not np.isfinite(size):
        size = 1.0
    result = _complete(
        np.asarray(X, dtype=np.float64) / size,
        missing,
        rank,
        shrinkage=None if shrinkage is None or scale else shrinkage / size,
        scale=scale,
        max_iter=max_iter,
        tol=tol,
        start=None if start is None else start / size,
        solver=solver,
        random_state=random_state,
    )
    unit = np.float64(1.0 if scale else size)
    filled = result.filled * size
    # Observed entries come back as they were, not rounded through the scaling.
    filled[~missing] = np.asarray(X, dtype=np.float64)[~missing]
    return result._replace(
        filled=filled,
        mean=result.mean * size,
        # Constant columns keep the divisor 1 in the data's units too.
        scale=np.where(result.scale == 1.0, 1.0, result.scale * size)
        if scale
        else result.scale,
        s=result.s * unit,
        noise=_scaled(result.noise, unit),
    )


def _scaled(noise, unit):
    """A variance times ``unit²``: infinite (without a warning) past float64."""
    with np.errstate(over="ignore"):
        return float(np.float64(noise) * unit * unit)


def _complete(
    X, missing, rank, *, shrinkage, scale, max_iter, tol, start, solver, random_state
):
    n_samples, n_features = X.shape
    # C order: the flat takes and puts below need ravel() to be a view (a
    # DataFrame's values, for one, come in Fortran order).
    filled = np.array(X, dtype=np.float64, order="C")
    if start is None:
        means = observed_means(filled, missing)
        filled[missing] = np.broadcast_to(means, filled.shape)[missing]
    else:
        filled[missing] = start[missing]
    largest = min(n_samples, n_features)
    rank = min(int(rank), largest)
    empty = np.zeros((0, n_features))
    mean = filled.mean(axis=0)
    divisor = np.ones(n_features)
    if not np.any(missing):
        max_iter = 1  # nothing to fill: one step gives the model
    # Flat positions of the missing entries: 1-D takes and puts are several
    # times faster than (row, column) fancy indexing.
    where = np.flatnonzero(missing.ravel())
    cols = where % n_features
    # A basis of the leading right singular subspace, carried from step to
    # step: the first step takes it from the engine's SVD, each later one
    # refines it by one block power step from where the last one left it.
    width = min(rank + _OVERSAMPLES, largest)
    if shrinkage is not None:
        # Soft thresholding needs only the values above the threshold: start
        # with a few and widen when all of them pass it.
        width = min(rank, _OVERSAMPLES + 5, largest)
    basis = None
    # The iteration runs on X minus its starting column means, so that the
    # centring done implicitly below (X·B − 1(μᵀB)) does not cancel; column
    # sums and sums of squares are kept up to date at the filled entries only.
    shift = filled.mean(axis=0)
    work = np.ascontiguousarray(filled - shift)
    # Features constant where observed (all observed values equal) have no
    # spread to divide by: the fills' rounding, relative to the whole
    # matrix, would otherwise pass for one and be scaled up to unit variance.
    constant = observed_constant(X, missing) if scale else None
    sums = work.sum(axis=0)
    squares = np.einsum("ij,ij->j", work, work)
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 (read after the loop)
        mean = sums / n_samples
        centred_squares = np.maximum(squares - n_samples * mean**2, 0.0)
        if scale:
            sd = np.sqrt(centred_squares / max(n_samples - 1, 1))
            # Constant to rounding (the test of PCA's correlation scaling):
            # a spread at the level of the shift's rounding is none.
            noise = np.sqrt(n_samples) * _EPS * (np.abs(shift) + np.abs(mean))
            divisor = np.where((sd > noise) & ~constant, sd, 1.0)
        else:
            divisor = np.ones(n_features)
        if rank == 0:
            low = np.zeros(where.size)
        else:
            kept = rank if shrinkage is None else width
            U, s, Vt, basis = _leading_triplets(
                work, mean, divisor, kept, width, basis, solver, random_state
            )
            if shrinkage is not None:
                if s[-1] > shrinkage and width < rank:
                    # Every value found passes the threshold: there may be
                    # more; widen (a fresh SVD) at the next step.
                    width, basis = min(2 * width, rank), None
                s = np.maximum(s - shrinkage, 0.0)
            # The whole low-rank product is one BLAS-3 call (n·p·k flops),
            # cheaper than gathering k-vectors for each missing entry.
            low = ((U * s) @ Vt).ravel()[where]
        reconstruction = low * divisor[cols] + mean[cols]
        flat = work.ravel()  # a view: work is C-contiguous
        old = flat[where]
        step = reconstruction - old
        flat[where] = reconstruction
        sums += np.bincount(cols, weights=step, minlength=n_features)
        squares += np.bincount(
            cols, weights=reconstruction**2 - old**2, minlength=n_features
        )
        # Sums of squares rather than norm(): BLAS's dot carries a thread
        # start-up cost that dominates on vectors this short.
        total = float(np.sum(centred_squares))
        if np.sum(step**2) <= tol**2 * total or not np.any(missing):
            converged = True
            break
    # Observed entries are returned as they were, not rounded through the shift.
    filled.ravel()[where] = work.ravel()[where] + shift[cols]
    # The model of the completed matrix, from one last SVD by the engine.
    mean = filled.mean(axis=0)
    centred = filled - mean
    divisor = _standard_deviations(centred, mean) if scale else np.ones(n_features)
    Z = centred / divisor
    s, Vt = np.zeros(0), empty
    if rank > 0:
        _, s, Vt = decompose(
            Operand(Z), rank, solver=solver, random_state=random_state, compute_u=False
        )
    # The variance per entry the kept components leave: the noise of the model,
    # which regularises the projection of new rows.
    left = max(float(np.sum(Z**2)) - float(np.sum(s**2)), 0.0)
    noise = left / (n_samples * n_features)
    if shrinkage is not None:
        s = np.maximum(s - shrinkage, 0.0)
    kept = s > 0
    # σ²/λⱼ with λⱼ = sⱼ²/n, free of the data's scale (see impute_rows).
    with np.errstate(divide="ignore", over="ignore", under="ignore"):
        # A value too small to square leaves its coordinate at zero.
        penalty = np.minimum(noise * n_samples / s[kept] ** 2, 1e300)
    return Completion(
        filled, mean, divisor, s[kept], Vt[kept], n_iter, converged, noise, penalty
    )


_EPS = float(np.finfo(np.float64).eps)

# Extra directions carried in the warm basis: they let the leading ones
# converge at the rate σ_{k+p+1}/σ_k rather than σ_{k+1}/σ_k.
_OVERSAMPLES = 5


def _leading_triplets(work, mean, divisor, rank, width, basis, solver, random_state):
    """The ``rank`` leading triplets of ``Z = (W − 1μᵀ)D⁻¹``, and the next basis.

    Without a basis (the first step) the engine's SVD of Z gives them. With
    one, a block power step from it, ``Q = orth(Z·B)`` and the SVD of ``QᵀZ``
    (Rayleigh–Ritz), with Z applied implicitly: the matrix changes little
    between steps, so the subspace carried over is already nearly right.
    """
    if basis is None or width >= min(work.shape) or basis.shape[1] != width:
        Z = (work - mean) / divisor
        # The oversampled width may exceed what a Krylov solver returns
        # (ARPACK: min(m, n) − 1); it is capped there, or the whole spectrum is
        # taken by LAPACK when even the rank is out of its reach.
        if rank > largest_rank(solver, Z.shape):
            solver = "full"
        width = min(width, largest_rank(solver, Z.shape))
        U, s, Vt = decompose(
            Operand(Z), width, solver=solver, random_state=random_state
        )
        return U[:, :rank], s[:rank], Vt[:rank], Vt.T
    scaled = basis / divisor[:, np.newaxis]
    Q, _ = np.linalg.qr(work @ scaled - mean @ scaled)
    small = (Q.T @ work - np.outer(Q.sum(axis=0), mean)) / divisor
    U_small, s, Vt = np.linalg.svd(small, full_matrices=False)
    U = Q @ U_small
    return U[:, :rank], s[:rank], Vt[:rank], Vt.T


def _standard_deviations(centred, mean):
    """Column standard deviations (``ddof=1``), 1 for columns constant to rounding."""
    n_samples = centred.shape[0]
    sd = np.linalg.norm(centred, axis=0) / np.sqrt(max(n_samples - 1, 1))
    noise = np.sqrt(n_samples) * _EPS * np.abs(mean)
    return np.where(sd > noise, sd, 1.0)


def impute_rows(X, missing, mean, scale, Vt, rcond=None, penalty=None):
    """Fill each row's missing entries from fitted components, without refitting.

    For a row with observed coordinates ``o``, the coordinates ``c`` on the
    components minimise ``‖(x_o − μ_o)/d_o − V_oᵀc‖`` (minimum norm, LAPACK's
    ``gelsd`` with ``rcond``), and the missing entries are
    ``μ_m + d_m·(V_mᵀc)``. Rows with one missingness pattern are solved
    together.

    With ``penalty`` (one value per component, ``σ²/λⱼ``: the noise over each
    component's variance) the coordinates are those of ridge regression, the
    posterior mean of probabilistic PCA.

    Returns the filled rows (float64) and their coordinates ``c``.
    """
    filled = np.array(X, dtype=np.float64)
    coordinates = np.zeros((X.shape[0], Vt.shape[0]))
    if Vt.shape[0] == 0:
        filled[missing] = np.broadcast_to(mean, X.shape)[missing]
        return filled, coordinates
    patterns, which = np.unique(missing, axis=0, return_inverse=True)
    which = np.asarray(which).ravel()
    for index, pattern in enumerate(patterns):
        rows = np.flatnonzero(which == index)
        observed = ~pattern
        Z = (filled[np.ix_(rows, observed)] - mean[observed]) / scale[observed]
        if observed.any() and penalty is not None and np.any(penalty > 0):
            # Ridge: the posterior mean of probabilistic PCA, (VₒVₒᵀ + σ²Λ⁻¹)c =
            # Vₒz, which keeps directions the observed entries barely see from
            # blowing up.
            basis = Vt[:, observed]
            gram = basis @ basis.T + np.diag(penalty)
            c = np.linalg.solve(gram, basis @ Z.T).T
        elif observed.any():
            solution, *_ = np.linalg.lstsq(Vt[:, observed].T, Z.T, rcond=rcond)
            c = solution.T
        else:
            c = np.zeros((rows.size, Vt.shape[0]))
        coordinates[rows] = c
        if pattern.any():
            fill = (c @ Vt[:, pattern]) * scale[pattern] + mean[pattern]
            filled[np.ix_(rows, pattern)] = fill
    return filled, coordinates
