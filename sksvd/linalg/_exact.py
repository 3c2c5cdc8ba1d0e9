"""The exact dense solvers: LAPACK's SVD and QR-then-SVD.

Both are backward stable: the computed factors are the exact SVD of a matrix within
a small multiple of ``eps·‖X‖`` of ``X``.
"""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.linalg import blas

from sksvd.linalg._checks import check_singular_values_fit
from sksvd.linalg._gram import pairwise_sum
from sksvd.linalg._result import SVDResult


def _dense(X):
    return X.toarray() if sp.issparse(X) else X


def lapack_svd(X):
    """Thin SVD by LAPACK ``gesdd``, retried with ``gesvd`` if it does not converge.

    ``gesdd`` (divide and conquer) is the fast driver but can fail to converge on
    some matrices; ``gesvd`` (QR iteration) is slower and more robust, the same
    fallback NumPy users apply by hand.
    """
    try:
        return la.svd(X, full_matrices=False, check_finite=False, lapack_driver="gesdd")
    except la.LinAlgError:
        return la.svd(X, full_matrices=False, check_finite=False, lapack_driver="gesvd")


def numpy_svd(X, compute_uv=True):
    """Thin SVD by NumPy's ``gesdd``, for small matrices formed by NumPy's BLAS.

    NumPy and SciPy each load their own OpenBLAS, and the idle threads of the
    one just used spin against the other's: a 40 × 1000 SVD took 20 ms right
    after a NumPy product against 5 ms by NumPy's own. For small matrices
    only: NumPy factors float32 in float64 and copies its input, which costs
    memory of the data's size on a large one (the exact SVD of dense data
    stays :func:`lapack_svd`). Where ``gesdd`` does not converge, SciPy's
    ``gesvd``; a non-finite matrix (an overflow on the way) is refused.
    """
    if not np.all(np.isfinite(X)):
        raise ValueError(
            "A matrix formed from X holds NaN or infinity: its entries "
            f"overflowed {X.dtype.name} on the way; pass X as float64, or "
            "divide it by a constant first."
        )
    try:
        return np.linalg.svd(X, full_matrices=False, compute_uv=compute_uv)
    except np.linalg.LinAlgError:
        return la.svd(
            X,
            full_matrices=False,
            compute_uv=compute_uv,
            check_finite=False,
            lapack_driver="gesvd",
        )


def full_svd(X, n_components, compute_u):
    """Exact SVD through LAPACK, truncated to ``n_components``.

    With ``compute_u=False`` on tall data the ``n_samples × n_features`` matrix ``U``
    is never formed: the right singular vectors come from the triangular factor of
    a QR decomposition, which is what ``gesdd`` itself does first on tall input.
    """
    X = _dense(X)
    n_samples, n_features = X.shape
    if not compute_u and n_samples > n_features:
        return qr_svd(X, n_components, compute_u=False)
    U, s, Vt = lapack_svd(X)
    k = n_components
    U = np.ascontiguousarray(U[:, :k]) if compute_u else None
    return SVDResult(U, s[:k], np.ascontiguousarray(Vt[:k]))


def qr_svd(X, n_components, compute_u, every=False):
    """SVD of the triangular factor of a Householder QR of the tall orientation.

    For tall ``X = QR`` the SVD ``R = Ũ Σ Vᵀ`` gives ``X = (QŨ) Σ Vᵀ``; for wide
    ``X`` the same is applied to ``Xᵀ``. The cost is linear in the long dimension
    and the method is backward stable, so singular values are as accurate as
    LAPACK's direct SVD. ``U`` (or, for wide data, the long factor ``Vt``) is the
    only ``long side × k`` product, and is skipped when not needed.

    With ``every``, all singular values and all of the short-side factor are
    returned (they cost nothing more); the long-side factor keeps
    ``n_components`` vectors.
    """
    X = _dense(X)
    k = n_components
    n = min(X.shape) if every else k
    n_samples, n_features = X.shape
    if n_samples >= n_features:
        if compute_u:
            Q, R = la.qr(X, mode="economic", check_finite=False)
        else:
            # "raw" keeps LAPACK's Householder vectors in the copy of X it factors
            # and returns the economic R; mode="r" would return a padded m × n R.
            # Factoring our own Fortran-ordered copy in place keeps the peak at
            # one copy of X (SciPy would otherwise copy twice).
            _, R = la.qr(
                np.array(X, order="F"), mode="raw", overwrite_a=True, check_finite=False
            )
        _check_triangle(R)
        U_r, s, Vt = lapack_svd(R)
        U = Q @ U_r[:, :k] if compute_u else None
        return SVDResult(U, s[:n], np.ascontiguousarray(Vt[:n]))
    # Wide: X.T = QR, so X = Rᵀ Qᵀ and SVD(Rᵀ) = U Σ Ṽᵀ gives Vt = (Q Ṽ)ᵀ.
    Q, R = la.qr(X.T, mode="economic", check_finite=False)
    _check_triangle(R)
    U, s, Vt_r = lapack_svd(R.T)
    Vt = (Q @ Vt_r[:k].T).T
    U = np.ascontiguousarray(U[:, :n]) if compute_u else None
    return SVDResult(U, s[:n], np.ascontiguousarray(Vt))


def _check_triangle(R):
    """Refuse a QR factor that overflowed: no entry of R exceeds σ₁.

    ``|rᵢⱼ| ≤ ‖R eⱼ‖ = ‖X eⱼ‖ ≤ σ₁``, so an entry beyond the dtype (or NaN,
    an overflow cancelled on the way) means σ₁ is beyond it too.
    """
    with np.errstate(invalid="ignore"):
        largest = float(np.max(np.abs(R), initial=0.0))
    check_singular_values_fit(largest, R.dtype)


def cholesky_qr_svd(Z, G, unit, n, k, compute_u):
    """SVD of tall float64 Z through CholeskyQR2, from ``G = ZᵀZ/unit²``; or None.

    ``R₁ = chol(G)``, ``Q₁ = (Z/unit) R₁⁻¹`` (in place, in Z), then
    ``R₂ = chol(Q₁ᵀQ₁)``: ``Z = (Q₁R₂⁻¹)(R₂R₁·unit)`` is a QR factorisation whose
    Q is orthonormal and whose residual is of the order of ``eps·‖Z‖``, as a
    Householder QR's, provided ``eps·κ(Z)²`` is well below 1 (the caller checks
    it). Then the SVD of the triangular factor, as in :func:`qr_svd`: ``n``
    singular values and right vectors, ``k`` left vectors. ``Z`` is overwritten.
    None when a Cholesky factorisation fails (the matrix was not that well
    conditioned after all).

    References
    ----------
    Y. Yamamoto, Y. Nakatsukasa, Y. Yanagisawa and T. Fukaya, "Roundoff error
    analysis of the CholeskyQR2 algorithm", ETNA 44 (2015) 306-326.
    """
    factored = cholesky_qr2(np.asfortranarray(Z.T), G, unit)
    if factored is None:
        return None
    Q1t, R2, R = factored
    U_r, s, Vt = lapack_svd(R)
    U = None
    if compute_u:
        # Q = Q₁R₂⁻¹, so Q U_r = Q₁ (R₂⁻¹ U_r).
        U = Q1t.T @ la.solve_triangular(R2, U_r[:, :k], check_finite=False)
    return SVDResult(U, s[:n], np.ascontiguousarray(Vt[:n]))


def cholesky_qr_values(blocks, G, unit, n):
    """Singular values and right vectors of tall float64 Z by CholeskyQR2, by rows.

    As :func:`cholesky_qr_svd` without U: ``Q₁ = (Z/unit) R₁⁻¹`` is formed one
    block of rows at a time (``blocks`` yields Z's rows as new float64 arrays,
    which are overwritten), and only ``Q₁ᵀQ₁`` is kept, summed pairwise over
    the blocks. Each block's triangular solve runs while the block is in
    cache, and no copy of Z is made. None when a Cholesky factorisation fails.
    """
    try:
        R1 = la.cholesky(G, lower=False, check_finite=False)
    except la.LinAlgError:
        return None

    def grams():
        for block in blocks:
            if unit != 1.0:
                block /= unit
            # Q₁ᵀ = R₁⁻ᵀ Zᵀ on the block's transpose (Fortran order), in place.
            Q1t = blas.dtrsm(
                1.0, R1, block.T, side=0, lower=0, trans_a=1, overwrite_b=1
            )
            yield blas.dsyrk(1.0, Q1t, trans=0, lower=0)

    G2 = pairwise_sum(grams())
    if G2 is None:
        return None
    try:
        R2 = la.cholesky(G2, lower=False, check_finite=False)
    except la.LinAlgError:
        return None
    R = (R2 @ R1) * unit
    if not np.all(np.isfinite(R)):
        return None
    _, s, Vt = lapack_svd(R)
    return SVDResult(None, s[:n], np.ascontiguousarray(Vt[:n]))


def cholesky_qr2(Zt, G, unit):
    """CholeskyQR2 of Z from ``G = ZᵀZ/unit²``, on ``Zᵀ`` (Fortran order, overwritten).

    Returns ``(Q₁ᵀ, R₂, R)`` with ``Q₁ = (Z/unit) R₁⁻¹``, ``R₁ = chol(G)``,
    ``R₂ = chol(Q₁ᵀQ₁)`` and ``R = R₂R₁·unit``, so ``Z = (Q₁R₂⁻¹) R``; None when
    a Cholesky factorisation fails or R is not finite.
    """
    if unit != 1.0:
        Zt /= unit  # divided, not multiplied by 1/unit: that overflows for subnormals
    try:
        R1 = la.cholesky(G, lower=False, check_finite=False)
        # Q₁ᵀ = R₁⁻ᵀ Zᵀ, solved in place.
        Q1t = blas.dtrsm(1.0, R1, Zt, side=0, lower=0, trans_a=1, overwrite_b=1)
        # Q₁ᵀQ₁ by SciPy's BLAS, like the solve before it: alternating with
        # NumPy's OpenBLAS build makes their idle threads contend.
        G2 = blas.dsyrk(1.0, Q1t, trans=0, lower=0)
        R2 = la.cholesky(G2, lower=False, check_finite=False)
    except la.LinAlgError:
        return None
    R = (R2 @ R1) * unit
    return (Q1t, R2, R) if np.all(np.isfinite(R)) else None
