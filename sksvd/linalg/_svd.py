"""The public, validated entry point to the decomposition engine."""

from numbers import Integral, Real

import numpy as np

from sksvd._compat import Interval, StrOptions, validate_params
from sksvd.linalg._checks import check_array, check_rank
from sksvd.linalg._decompose import decompose
from sksvd.linalg._namespace import refuse
from sksvd.linalg._policy import KRYLOV_SOLVERS, SOLVERS


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "solver": [StrOptions(set(SOLVERS))],
        "compute_u": ["boolean"],
        "random_state": ["random_state"],
        "n_oversamples": [Interval(Integral, 0, None, closed="left")],
        "n_iter": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "tol": [Interval(Real, 0, 1, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def svd(
    X,
    n_components=None,
    *,
    solver="auto",
    compute_u=True,
    random_state=None,
    n_oversamples=10,
    n_iter="auto",
    tol=0.0,
):
    """Singular value decomposition ``X ≈ U @ diag(s) @ Vt``, truncated to a rank.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        The matrix to decompose. Integer and boolean data are converted to float64;
        float32 stays float32.

    n_components : int, default=None
        Number of singular triplets to return, at most ``min(n_samples,
        n_features)`` (one fewer for ``solver="arpack"``, four fewer for
        ``solver="lanczos"``). None returns all of them
        (not allowed for the Krylov solvers, which are for a few).

    solver : {"auto", "full", "qr", "gram", "randomized", "lanczos", "arpack", \
            "propack", "block_krylov", "dask"}, default="auto"
        - ``"full"``: LAPACK ``gesdd``, retried with ``gesvd`` if it fails to
          converge. Exact; cost ``O(m·n·min(m, n))``.
        - ``"qr"``: Householder QR of the tall orientation, then SVD of the small
          triangular factor. Exact, and linear in the long dimension.
        - ``"gram"``: eigendecomposition of the smaller Gram matrix (``XᵀX`` or
          ``XXᵀ``). Fastest for very tall or wide data, but the relative error of
          ``σᵢ`` is about ``eps·(σ₁/σᵢ)²``.
        - ``"randomized"``: randomized range finder with ``n_oversamples`` extra
          columns and ``n_iter`` LU-normalised power iterations (Halko et al.).
        - ``"lanczos"``: block Lanczos bidiagonalisation of X (no squaring),
          for a few triplets: every returned triplet has a residual
          ``‖Xᵀu − σv‖`` of about ``128·eps·σ₁``, and a value repeated as
          often as the block holds reruns it with a larger block, so none is
          skipped.
          ``"auto"`` takes it for a few components of dense data.
        - ``"arpack"``, ``"propack"``: Krylov methods from
          :func:`scipy.sparse.linalg.svds`, for a few triplets of sparse data.
          PROPACK is fast, but SciPy runs it without restarts and stops it on a
          loose test: on small Gaussian matrices, whose singular values cluster,
          it has returned values off by 1e-6 and even skipped a triplet
          (scipy/scipy#16330). ``"auto"`` never picks it; prefer ``"arpack"``
          where the answer must be right.
        - ``"block_krylov"``: block Lanczos on ``XᵀX`` (or ``XXᵀ``, never
          formed) in blocks of 8 with full reorthogonalisation, stopped once
          every returned value meets ``tol``. For a few triplets of large
          sparse data to a set accuracy: at ``tol=1e-2`` it is several times
          faster than ARPACK and more accurate than scikit-learn's randomized
          solver in its time (see the performance page). ``"auto"`` picks it
          for sparse data when ``tol > 0``.
        - ``"dask"``: used by the estimators for dask arrays. ``svd`` itself
          converts its input to NumPy, so here it is refused with a
          ValueError, as is any solver that cannot take the input given.
        - ``"auto"``: chosen by shape, rank and sparsity; it takes ``"gram"`` only
          when the requested singular values come out to a relative accuracy of
          ``eps^(2/3)``, and redoes the work by ``"qr"`` otherwise. The policy
          table is in the Notes.

        Sparse input given to ``"full"`` or ``"qr"`` is densified; ``"gram"``
        forms the sparse product ``XᵀX`` (or ``XXᵀ``) and densifies only that.

    compute_u : bool, default=True
        Whether to return ``U``. When False, ``U`` is None and the
        ``long side × k`` matrix of left singular vectors of tall data is never
        formed (the solvers work from a triangular factor or a Gram matrix).

    random_state : int, RandomState instance or None, default=None
        Seeds the randomized and Krylov solvers. Pass an int for repeatable
        results.

    n_oversamples : int, default=10
        Extra sketch columns for ``solver="randomized"``.

    n_iter : int or "auto", default="auto"
        Power iterations for ``solver="randomized"``; ``"auto"`` is 7 when
        ``n_components < 0.1·min(n_samples, n_features)`` and 4 otherwise.

    tol : float in [0, 1), default=0.0
        Relative accuracy asked of the singular values, for ``"block_krylov"``
        (and passed to SciPy's ``"arpack"`` and ``"propack"`` as their own
        ``tol``); 0 asks for full accuracy. ``"block_krylov"`` stops once every
        returned pair has ``‖XᵀXv − σ̂²v‖ ≤ tol·σ̂²`` (or ``64·eps·σ̂₁²``, the
        rounding of the squared operator, where that is larger): each σ̂ᵢ is
        then at most σᵢ and within ``tol·σ̂ᵢ`` of a singular value of X. Where
        the spectrum is dense that value need not be σᵢ itself: on a flat
        spectrum the error to σᵢ was up to 1.7·tol for tol ≤ 0.1 (1.9·tol
        at 0.3). Where the squaring would cost a returned value more than tol
        (σ₁/σᵢ beyond about 8e5 at tol = 1e-2; 50 at tol = 0), or a separated
        value has more copies than the block finds, it reruns with a larger
        block or hands over to ARPACK. With ``"auto"``, a
        positive tol sends a few components of sparse data to
        ``"block_krylov"``; the other solvers are exact (or set by
        ``n_iter``) and do not use it.

    Returns
    -------
    result : SVDResult
        Named tuple ``(U, s, Vt)``: ``U`` of shape (n_samples, k) or None, ``s`` of
        shape (k,) in descending order, ``Vt`` of shape (k, n_features). Signs are
        fixed as scikit-learn's PCA fixes them: the largest-magnitude entry of each
        row of ``Vt`` is positive.

    See Also
    --------
    scipy.linalg.svd : The dense LAPACK SVD.
    sklearn.utils.extmath.randomized_svd : scikit-learn's randomized SVD.
    low_rank_approximation : The best rank-k approximation itself.
    choose_solver : The solver that ``solver="auto"`` picks.

    Notes
    -----
    The ``"auto"`` policy is documented, as one table, by :func:`choose_solver`.
    In short: sparse matrices go to ARPACK; very tall or wide dense data to the
    Gram matrix of the short side (up to 4000 on the short side, or any short
    side when more than a tenth of the components are asked for); a few
    components of other dense data to ARPACK (SciPy finishes it with a
    Rayleigh–Ritz step on X, so its singular values are accurate to about
    ``eps·σ₁``); energy targets on large data to the growing randomized
    sketch (dense data switch to LAPACK once the sketch would pass 3 % of the
    short side); everything else to LAPACK. Problems below about ``5e7`` flops
    (``1e9`` for the Gram path) run BLAS on one thread: NumPy and SciPy each load
    their own OpenBLAS, whose idle threads otherwise contend for the cores. The
    limit is taken by one call at a time, so concurrent callers never leave the
    process with a changed thread count.

    The Gram guard: the Gram matrix is formed in float64 (float32 data
    included) over blocks of at most 16384 rows summed pairwise, so its
    eigenvalues carry an absolute error of about ``eps₆₄·σ₁²·(1 + log₂ B)`` for
    ``B = ⌈m/16384⌉`` blocks, and
    ``σₖ`` a relative error of about ``eps₆₄·(σ₁/σₖ)²·(1 + log₂ B)``. ``"auto"``
    keeps the Gram result only if that is at most ``eps^(2/3)`` of the data's
    dtype (3.7e-11 in float64, 2.4e-5 in float32).

    References
    ----------
    .. [1] N. Halko, P.-G. Martinsson and J. A. Tropp, "Finding structure with
       randomness: probabilistic algorithms for constructing approximate matrix
       decompositions", SIAM Review 53(2), 2011. :doi:`10.1137/090771806`
    .. [2] L. N. Trefethen and D. Bau, *Numerical Linear Algebra*, SIAM, 1997,
       lectures 4, 5 and 31.

    Examples
    --------
    >>> import numpy as np
    >>> from sksvd.linalg import svd
    >>> X = np.array([[3.0, 0.0], [4.0, 5.0]])
    >>> U, s, Vt = svd(X)
    >>> np.round(s ** 2, 6)
    array([45.,  5.])
    >>> bool(np.allclose(U * s @ Vt, X))
    True
    >>> svd(X, 1, compute_u=False).U is None
    True

    A few values of a large sparse matrix to 1 % (block Krylov), against the
    exact ones:

    >>> import scipy.sparse as sp
    >>> A = sp.random(5000, 1000, density=0.01, format="csr", random_state=0)
    >>> fast = svd(A, 5, tol=1e-2, random_state=0)
    >>> fast.solver
    'block_krylov'
    >>> exact = svd(A, 5, random_state=0).s
    >>> bool(np.all(fast.s <= exact * (1 + 1e-12)))
    True
    >>> bool(np.all(np.abs(fast.s / exact - 1) <= 1e-2))
    True
    """
    refuse(X, "sksvd.linalg.svd")
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    if n_components is None and solver in KRYLOV_SOLVERS:
        raise ValueError(
            f"solver={solver!r} computes a few singular triplets; pass an integer "
            "n_components, or use solver='full' for all of them."
        )
    if n_components is not None:
        check_rank(n_components, X.shape, solver)
    return decompose(
        X,
        n_components,
        solver=solver,
        compute_u=compute_u,
        random_state=random_state,
        n_oversamples=n_oversamples,
        n_iter=n_iter,
        tol=tol,
    )
