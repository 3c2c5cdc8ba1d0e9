"""The one entry to the SVD solvers: choose, run, guard, fix signs, report.

:func:`decompose` is the only caller of the solver functions. It takes an
:class:`~sksvd.linalg._operand.Operand` (the matrix with its centring, column
scaling and row weights) and a request, asks :mod:`~sksvd.linalg._policy` which
solver to run, applies the Gram guard and its fallback, the sign rule and the
BLAS thread limit, and returns an :class:`SVDResult` that names the solver that
ran. Nothing here validates input: the public functions and the estimators do.
"""

import numpy as np
from sklearn.utils import check_random_state

from sksvd.linalg import _namespace
from sksvd.linalg._checks import check_singular_values_fit, rank_for_energy
from sksvd.linalg._dask import dask_svd
from sksvd.linalg._exact import (
    cholesky_qr_svd,
    cholesky_qr_values,
    full_svd,
    qr_svd,
)
from sksvd.linalg._gram import (
    deflated_eigh,
    gram_and_sums,
    gram_matrix,
    long_factor,
    row_block_size,
    zero_columns,
)
from sksvd.linalg._krylov import (
    ArpackRepetitionError,
    KrylovConvergenceError,
    krylov_svd,
)
from sksvd.linalg._operand import Operand
from sksvd.linalg._policy import (
    CHOLESKY_QR_TOLERANCE,
    ENERGY_SKETCH_MAX_FRACTION,
    KRYLOV_FALLBACK_ENTRIES,
    KRYLOV_SOLVERS,
    TRAITS,
    check_solver_input,
    choose_solver,
    gram_error_estimate,
    gram_tolerance,
    largest_rank,
)
from sksvd.linalg._randomized import randomized_svd, randomized_svd_by_energy
from sksvd.linalg._result import SVDResult, flip_signs, sign_rule
from sksvd.linalg._threads import blas_threads_for


def decompose(
    operand,
    n_components=None,
    *,
    solver="auto",
    energy=None,
    norm=None,
    whole_spectrum=False,
    backward_stable=False,
    compute_u=True,
    random_state=None,
    n_oversamples=10,
    n_iter="auto",
    tol=0.0,
):
    """Truncated SVD of an operand by the requested or the chosen solver.

    Parameters
    ----------
    operand : Operand or array
        What to decompose; a bare array or sparse matrix stands for itself.
    n_components : int, default=None
        Triplets asked for; None for all of them.
    solver : str, default="auto"
        A name of ``sksvd.linalg._policy.SOLVERS``; a solver that cannot take
        this kind of input is refused with a ValueError.
    energy : float, default=None
        Instead of a rank: keep the smallest rank with
        ``Σᵢ≤ᵣ σᵢ² ≥ energy·‖X‖²_F``; ``norm`` is then ``‖X‖_F``. Operands
        without centring only (row weights are allowed).
    whole_spectrum : bool, default=False
        The caller uses every singular value a whole-spectrum solver computes
        (a tail for the noise variance, a state to continue): ``s`` holds them
        all, and the Gram guard covers them all. The factors then hold every
        vector where the solver has them at no extra cost (LAPACK's SVD; the
        short-side factor of QR and Gram, such as ``Vt`` of tall data) and the
        ``n_components`` leading vectors otherwise, so ``s`` may be longer than
        ``Vt``. Solvers that compute a few triplets return ``n_components``.
    compute_u : bool, default=True
        Whether U is formed.
    random_state, n_oversamples, n_iter
        For the randomized and Krylov solvers.
    tol : float, default=0.0
        Relative accuracy asked of the singular values by ``"block_krylov"``,
        ``"arpack"`` and ``"propack"`` (0: full accuracy); with ``"auto"`` a
        positive tol sends a few components of sparse data to
        ``"block_krylov"``. The other solvers are exact or set by ``n_iter``.

    Returns
    -------
    SVDResult
        Descending singular values in the operand's dtype, signs fixed by
        :func:`~sksvd.linalg._result.flip_signs`, and ``solver`` set to the
        solver that produced them. For dask input ``U`` is lazy.

    Notes
    -----
    The Gram guard (``solver="auto"`` only): the estimated relative error
    (:func:`~sksvd.linalg._policy.gram_error_estimate`) of every singular value
    the caller uses (the ``n_components`` asked for, or all of them with
    ``whole_spectrum``) must be at most ``eps^(2/3)`` of the dtype, or the call
    is redone by ``"qr"``. Singular values that are zero in exact arithmetic
    are set to zero and left out of the estimate: those of columns that are
    zero (constant features, once centred), and for wide centred data the one
    of the centring direction.
    """
    if not isinstance(operand, Operand):
        operand = Operand(operand)
    check_solver_input(solver, operand.kind)
    random_state = check_random_state(random_state)
    guarded = solver == "auto"
    if guarded:
        solver = choose_solver(
            operand.shape,
            n_components,
            sparse=operand.kind == "sparse",
            energy=energy is not None,
            dask=operand.kind == "dask",
            backward_stable=backward_stable,
            array_api=operand.kind == "array_api",
            tol=tol,
        )
    options = {
        "tol": tol,
        "compute_u": compute_u,
        "random_state": random_state,
        "n_oversamples": n_oversamples,
        "n_iter": n_iter,
    }
    with blas_threads_for(operand.shape, solver):
        if energy is not None:
            result, solver = _by_energy(operand, energy, norm, solver, guarded, options)
        else:
            k = min(operand.shape) if n_components is None else n_components
            result, solver = _run(operand, k, solver, guarded, whole_spectrum, options)
    U, s, Vt = result
    if operand.ns is not None:
        result = _on_host(U, s, Vt, solver, operand.ns)
        check_singular_values_fit(float(np.max(result.s, initial=0.0)), result.s.dtype)
        return result
    # Every solver's values, in X's dtype: float32 data can have a σ₁ beyond it.
    check_singular_values_fit(float(np.max(s, initial=0.0)), s.dtype)
    if U is not None and U.shape[1] != Vt.shape[0]:
        # A whole spectrum with one factor complete: the pairs are the shorter.
        pairs = min(U.shape[1], Vt.shape[0])
        U, Vt = U[:, :pairs], np.ascontiguousarray(Vt[:pairs])
    U, Vt = flip_signs(U, Vt)
    return SVDResult(U, s, Vt, solver=solver)


def _on_host(U, s, Vt, solver, ns):
    """An array-API result: U on the device; s and Vt (small) as NumPy on the host.

    Signs follow the same rule as NumPy's (decided on ``Vt``).
    """
    s = s if isinstance(s, np.ndarray) else ns.numpy(s)
    Vt = Vt if isinstance(Vt, np.ndarray) else ns.numpy(Vt)
    Vt = np.array(Vt, dtype=_namespace.numpy_dtype(Vt.dtype), order="C")
    s = s.astype(Vt.dtype, copy=False)
    if U is not None and U.shape[1] != Vt.shape[0]:
        pairs = min(U.shape[1], Vt.shape[0])
        U, Vt = U[:, :pairs], np.ascontiguousarray(Vt[:pairs])
    if Vt.shape[0]:
        signs = sign_rule(Vt)
        Vt *= signs[:, np.newaxis]
        if U is not None:
            U = U * ns.asarray(signs, U.dtype)
    return SVDResult(U, s, Vt, solver=solver)


def _run(operand, k, solver, guarded, whole_spectrum, options):
    """One solver call (two when the guard rejects Gram); returns (result, solver)."""
    compute_u = options["compute_u"]
    every = whole_spectrum and TRAITS[solver].whole_spectrum
    n = min(operand.shape) if every else k
    if operand.ns is not None:
        return _run_in_namespace(operand, n, k, solver, guarded, every, options)
    if solver != "gram" or operand.kind != "dense":
        operand.settle_mean(None)  # a pending mean (its checks of X) comes first
    if solver == "gram":
        result, error, attempt = _gram(operand, n, k, every, compute_u)
        if not (guarded and error > gram_tolerance(operand.dtype)):
            return result, "gram"
        solver = "qr"
        if attempt is not None and error <= CHOLESKY_QR_TOLERANCE:
            # Tall, conditioned well enough for CholeskyQR2 from the same
            # Gram matrix: a QR factorisation as exact as Householder's at
            # the cost of two more BLAS-3 passes.
            G, unit = attempt
            if compute_u:
                Z = _owned_dense(operand)
                result = cholesky_qr_svd(Z, G, unit, n, k, compute_u)
            else:
                # No U: Q₁ is formed by blocks of rows, and Z is never copied.
                blocks = operand.row_blocks(row_block_size(operand.shape[1]))
                result = cholesky_qr_values(blocks, G, unit, n)
            if result is not None:
                return result, solver
    if solver == "full":
        return full_svd(operand.dense(), n, compute_u), solver
    if solver == "qr":
        return qr_svd(operand.dense(), k, compute_u, every=every), solver
    if solver == "dask":
        Z = operand.lazy()
        # TSQR computes the whole spectrum in the same pass.
        whole = every and len(Z.chunks[1]) == 1
        return dask_svd(Z, None if whole else k, **_sketch(options)), solver
    Z = operand.implicit()
    if solver == "randomized":
        return randomized_svd(Z, k, **_sketch(options)), solver
    try:
        result = krylov_svd(
            Z,
            k,
            solver=solver,
            compute_u=compute_u,
            random_state=options["random_state"],
            tol=options["tol"],
        )
    except KrylovConvergenceError as error:
        # A single-start Lanczos run cannot separate a repeated singular value,
        # PROPACK's restart-free run sometimes stops short on tiny matrices, and
        # block Lanczos needs k + 4 ≤ min(m, n) and a value repeated fewer than
        # 64 times; block Krylov stops at its basis limit. A matrix small
        # enough to densify is factored by LAPACK instead (and solver_ says
        # so); on a larger one block Lanczos and block Krylov hand over to
        # ARPACK, ARPACK to block Lanczos where it found a value twice (copies
        # may be missing), and PROPACK raises.
        if operand.shape[0] * operand.shape[1] <= KRYLOV_FALLBACK_ENTRIES:
            return full_svd(operand.dense(), k, compute_u), "full"
        if isinstance(error, ArpackRepetitionError):
            # A repeated value: block Lanczos finds every copy. Where it cannot
            # run (k + 4 > min(m, n)) or does not converge (a block as large
            # as the repetition does not fit beside k), ARPACK's values stand:
            # with k this close to the short side its basis spans nearly the
            # whole space.
            if k > largest_rank("lanczos", operand.shape):
                return error.result, solver
            try:
                result = krylov_svd(
                    Z,
                    k,
                    solver="lanczos",
                    compute_u=compute_u,
                    random_state=options["random_state"],
                )
            except KrylovConvergenceError:
                return error.result, solver
            return result, "lanczos"
        handover = solver in ("lanczos", "block_krylov")
        if not handover or k > largest_rank("arpack", operand.shape):
            raise
        # Block Lanczos ignores tol: its hand-over asks ARPACK for full
        # accuracy too.
        if solver == "lanczos":
            options = {**options, "tol": 0.0}
        return _run(operand, k, "arpack", False, False, options)
    return result, solver


def _run_in_namespace(operand, n, k, solver, guarded, every, options):
    """:func:`_run` for array-API operands: the same solvers on X's device."""
    ns, compute_u = operand.ns, options["compute_u"]
    if solver == "gram":
        result, exact_zeros, _ = _namespace.gram_svd(operand, n, k, compute_u, ns)
        s = result.s
        used = s[: max(min(n, s.size - exact_zeros), 0)] if every else s[:k]
        # The Gram matrix accumulates in the device's widest float: float32's
        # eps where the device has no float64.
        error = gram_error_estimate(used, max(operand.shape), eps=ns.eps)
        if not (guarded and error > gram_tolerance(operand.dtype)):
            return result, "gram"
        solver = "qr"
    Z = operand.dense()
    if solver == "full":
        return _namespace.full_svd(Z, n, compute_u, ns), solver
    if solver == "qr":
        return _namespace.qr_svd(Z, n, compute_u, ns, k=k), solver
    return randomized_svd(Z, k, ns=ns, **_sketch(options)), solver


def _sketch(options):
    """The options the randomized and dask solvers take (all but ``tol``)."""
    return {key: value for key, value in options.items() if key != "tol"}


def _gram(operand, n, k, every, compute_u):
    """The Gram solver on an operand; returns (result, estimated relative error, G).

    The third value is ``(G, unit)`` for a tall float64 operand without zero
    columns (what CholeskyQR2 can start from), else None.

    Tall operands: the Gram matrix of the centred, weighted columns is
    accumulated from X without a copy (:func:`~sksvd.linalg._gram.gram_matrix`);
    its diagonal gives the centred column norms, from which a column scaling is
    settled and applied to G. Wide operands: the Gram matrix of the rows.
    """
    m, p = operand.shape
    dtype = operand.dtype
    if operand.kind == "sparse" and not operand.plain:
        operand = Operand(operand.dense())  # centring would fill it anyway
    if m >= p:
        raw = None
        if operand.mean_pending and operand.weights is None and dtype == np.float64:
            # The column sums come from the Gram matrix's own pass over X.
            raw, sums = gram_and_sums(operand.X)
            operand.settle_mean(sums)
        G, unit, cancellation = gram_matrix(
            operand.X, operand.mean, operand.weights, raw=raw
        )
        zeros = zero_columns(G, unit, m, operand.X, operand.mean)
        if operand.scale is not None:
            norms = np.sqrt(np.maximum(np.diag(G), 0)) * unit
            scale = operand.scale_used
            if scale is None:
                scale = operand.resolve_scale(norms)
            else:
                operand.norms = norms
            G = G / np.outer(scale, scale)
        rows = m
    else:
        Z = _dense(operand)
        G, unit, cancellation = gram_matrix(Z.T)
        zeros = zero_columns(G, unit, p, Z.T, None)
        rows = p
    # Every eigenvector is kept when it is a returned factor (V of tall data,
    # U of wide data when asked for); otherwise those of the k components.
    short_side_returned = m >= p or compute_u
    s, V = deflated_eigh(G, zeros, n, None if short_side_returned else k)
    exact_zeros = zeros.size
    if m < p and operand.mean is not None and s.size == m:
        # Centred rows are orthogonal to √w (ones without weights): the last
        # singular value is zero in exact arithmetic, and exact as such.
        s[-1] = 0.0
        exact_zeros += 1
    if s.size:
        with np.errstate(over="ignore"):
            check_singular_values_fit(float(s[0]) * unit, dtype)
    used = s[: max(min(n, s.size - exact_zeros), 0)] if every else s[:k]
    error = gram_error_estimate(used, rows) * cancellation
    # The short-side factor comes with every eigenpair; the long side's
    # (a product with the data) is formed for the k vectors asked for only.
    if m >= p:
        U = None
        if compute_u:
            Y = np.asarray(_dense(operand) @ V[:, :k].astype(dtype, copy=False))
            U = long_factor(Y / unit, s[:k]).astype(dtype, copy=False)
        Vt = np.ascontiguousarray(V.T, dtype=dtype)
    else:
        U = np.ascontiguousarray(V, dtype=dtype) if compute_u else None
        Y = np.asarray(Z.T @ V[:, :k].astype(dtype, copy=False))
        Vt = np.ascontiguousarray(long_factor(Y / unit, s[:k]).T, dtype=dtype)
    attempt = None
    if m >= p and zeros.size == 0 and dtype == np.float64:
        attempt = (G, unit)
    return SVDResult(U, (s * unit).astype(dtype), Vt), error, attempt


def _owned_dense(operand):
    """Z as a new dense array that the caller may overwrite."""
    Z = operand.dense()
    return np.array(Z) if Z is operand.X else Z


def _dense(operand):
    """Z itself for a plain operand (sparse stays sparse), else a dense copy."""
    return operand.X if operand.plain else operand.dense()


def _by_energy(operand, energy, norm, solver, guarded, options):
    """SVD truncated at the smallest rank keeping ``energy`` of ``‖X‖²_F``.

    - whole-spectrum solvers compute every value and cut;
    - ``"randomized"`` grows its basis block by block until the energy is
      reached, never computing more than a few blocks past the rank; chosen by
      ``"auto"`` for dense data, it gives way to ``"full"`` once its basis would
      pass ``ENERGY_SKETCH_MAX_FRACTION`` of the short side, where the exact SVD
      costs less than growing further;
    - ``"lanczos"``, ``"arpack"`` and ``"propack"`` double the number of
      triplets until the energy is reached, and finish with ``"full"`` if their
      largest rank does not reach it.

    An all-zero matrix is its own rank-1 approximation: ``U`` and ``Vt`` are then
    the first unit vectors and ``s = [0]``.
    """
    # Row weights are part of the matrix: the randomized sketch sees them too.
    ns = operand.ns
    if operand.plain:
        X = operand.X
    else:
        X = operand.lazy() if operand.kind == "dask" else operand.implicit()
    compute_u = options["compute_u"]
    if norm == 0.0:
        dtype = _namespace.numpy_dtype(X.dtype)
        U = np.eye(X.shape[0], 1, dtype=dtype) if compute_u else None
        if U is not None and ns is not None:
            U = ns.asarray(U)
        Vt = np.eye(1, X.shape[1], dtype=dtype)
        return SVDResult(U, np.zeros(1, dtype=dtype), Vt), solver
    if solver == "randomized":
        dense = operand.kind in ("dense", "array_api")
        limit = ENERGY_SKETCH_MAX_FRACTION * min(X.shape) if guarded and dense else None
        result = randomized_svd_by_energy(
            X, energy, norm, ns=ns, max_width=limit, **_sketch(options)
        )
        if result is not None:
            return result, solver
        solver = "full"
    if solver in KRYLOV_SOLVERS:
        largest = largest_rank(solver, X.shape)
        k = min(16, largest)
        while 1 <= k <= largest:
            result, _ = _run(operand, k, solver, False, False, options)
            rank = rank_for_energy(result.s, energy, norm)
            if rank is not None:
                return _truncate(result, rank), solver
            if k == largest:
                break
            k = min(2 * k, largest)
        solver = "full"
    result, solver = _run(operand, min(X.shape), solver, False, True, options)
    s = (
        result.s
        if ns is None or isinstance(result.s, np.ndarray)
        else ns.numpy(result.s)
    )
    rank = rank_for_energy(s, energy, norm)
    return _truncate(result, s.size if rank is None else rank), solver


def _truncate(result, rank):
    U, s, Vt = result
    if not isinstance(Vt, np.ndarray):  # an array-API result, on its device
        return SVDResult(None if U is None else U[:, :rank], s[:rank], Vt[:rank, :])
    U = None if U is None else np.ascontiguousarray(U[:, :rank])
    return SVDResult(U, s[:rank], np.ascontiguousarray(Vt[:rank]))
