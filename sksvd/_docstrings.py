"""Parameter and attribute text shared by several docstrings, written once.

A class decorated with :func:`fill_shared_docs` has each ``%(name)s`` in its
docstring, and in the docstrings of the methods it defines, replaced by the
entry ``name`` below. The entries are written as they sit in a class docstring:
the first line after four spaces of indentation, the following lines indented
by eight (by twelve in a method's docstring, where they are indented further).
"""

_SHARED = {
    "svd_solver": """\
solver : {"auto", "full", "qr", "gram", "randomized", "lanczos", "arpack", \
        "propack", "block_krylov", "dask"}, default="auto"
        The engine's solver; see :func:`sksvd.linalg.svd` and
        :func:`sksvd.linalg.choose_solver` for what ``"auto"`` picks. A solver
        that cannot take the input given (``"dask"`` for NumPy or sparse data,
        any other for a dask array) is refused with a ValueError.""",
    "n_oversamples": """\
n_oversamples : int, default=10
        Extra sketch columns for the randomized solver.""",
    "n_iter": """\
n_iter : int or "auto", default="auto"
        Power iterations for the randomized solver; ``"auto"`` is 7 when fewer
        than a tenth of ``min(n_samples, n_features)`` components are asked
        for, 4 otherwise.""",
    "random_state": """\
random_state : int, RandomState instance or None, default=None
        Seeds the randomized and Krylov solvers; pass an int for repeatable
        fits.""",
    "fit_intercept": """\
fit_intercept : bool, default=True
        Fit an intercept. X and y are then centred (with the sample weights), so
        the intercept is not part of the minimised norm, as in scikit-learn. This
        differs from :func:`sksvd.linalg.lstsq` on ``[1, X]``, which would shrink
        the intercept too: on wide data (more features than samples) the two give
        different coefficients.""",
    "rcond": """\
rcond : float, default=None
        Singular values ``σᵢ ≤ rcond·σ₁`` of the centred design are treated as
        zero. None uses :func:`sksvd.linalg.default_rcond`: ``eps·max(m, n)`` for
        float64 data, ``10·eps₃₂`` for float32 data (with the SVD run in float64).
        Sparse X without ``max_rank`` is solved by LSMR, which computes no
        singular values: a given ``rcond`` is then refused with a ValueError.""",
    "lstsq_solver": """\
solver : {"auto", "full", "qr"}, default="auto"
        ``"qr"``: Householder QR, then the SVD of the triangular factor (cost
        linear in the number of samples); ``"full"``: LAPACK's SVD (both densify
        sparse X). ``"auto"`` follows the engine's least-squares policy: the Gram
        matrix ``AᵀA`` for tall data (``n_samples ≥ 16·n_features``) when its
        estimated relative error is at most 1e-12 (a well-conditioned design);
        for such data with an estimate up to 1e-2 (κ up to about 10⁶),
        CholeskyQR2 from the same Gram matrix (``solver_ == "qr"``: a QR as
        exact as Householder's, in BLAS-3); else, without ``max_rank`` and with
        ``0 < rcond < 1``, LAPACK's ``gelsd`` with the same cut-off; otherwise
        QR (``n_samples ≥ 2·n_features``) or LAPACK's SVD. The design is
        solved in float64 (float32 X included). Sparse X: LSMR, or ARPACK with a
        ``max_rank`` below ``min(n_samples, n_features)``; dask arrays: TSQR.""",
    "frequency_weights": """\
sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights: a weight of 2 counts a sample twice, so integer
        weights give the model of the data with each row repeated that many
        times, exactly; real weights are allowed. Means and variances are
        weighted and variances divide by ``Σw − 1`` (``ddof=1`` on the weighted
        count), which must be positive. Zero weights leave samples out.""",
    "row_weights": """\
sample_weight : array-like of shape (n_samples,), default=None
        Non-negative row weights: the factorisation is that of ``diag(√w) X``,
        so an integer weight equals the row repeated that many times (the
        singular values, components, energy ratios and variances, exactly).""",
    "solver_": """\
solver_ : str
        The solver (or least-squares route) that ran: the one ``"auto"`` chose,
        after its accuracy guard.""",
    "n_features_in_": """\
n_features_in_ : int
        Number of features seen during fit.""",
    "feature_names_in_": """\
feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.""",
}


def fill_shared_docs(obj):
    """Replace each ``%(name)s`` in ``obj``'s docstrings by its shared text."""
    obj.__doc__ = _filled(obj.__doc__, obj.__name__, indent="")
    for name, member in vars(obj).items():
        doc = getattr(member, "__doc__", None)
        if callable(member) and doc and "%(" in doc:
            member.__doc__ = _filled(doc, f"{obj.__name__}.{name}", indent="    ")
    return obj


def _filled(doc, owner, indent):
    for name, text in _SHARED.items():
        doc = doc.replace(f"%({name})s", text.replace("\n", "\n" + indent))
    if "%(" in doc:
        raise ValueError(f"unknown shared docstring entry in {owner}")
    return doc
