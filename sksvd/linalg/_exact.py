"""Dense solvers that compute singular values to working precision, or say they can't.

``full`` and ``qr`` are backward stable: the computed factors are the exact SVD of a
matrix within a small multiple of ``eps·‖X‖`` of ``X``. ``gram`` squares the matrix,
which is fast for very tall or very wide data but costs accuracy in the small singular
values; it reports the size of that loss so the dispatcher can refuse it.
"""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

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


def qr_svd(X, n_components, compute_u):
    """SVD of the triangular factor of a Householder QR of the tall orientation.

    For tall ``X = QR`` the SVD ``R = Ũ Σ Vᵀ`` gives ``X = (QŨ) Σ Vᵀ``; for wide
    ``X`` the same is applied to ``Xᵀ``. The cost is linear in the long dimension
    and the method is backward stable, so singular values are as accurate as
    LAPACK's direct SVD. ``U`` (or, for wide data, the long factor ``Vt``) is the
    only ``long side × k`` product, and is skipped when not needed.
    """
    X = _dense(X)
    k = n_components
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
        U_r, s, Vt = lapack_svd(R)
        U = Q @ U_r[:, :k] if compute_u else None
        return SVDResult(U, s[:k], np.ascontiguousarray(Vt[:k]))
    # Wide: X.T = QR, so X = Rᵀ Qᵀ and SVD(Rᵀ) = U Σ Ṽᵀ gives Vt = (Q Ṽ)ᵀ.
    Q, R = la.qr(X.T, mode="economic", check_finite=False)
    U, s, Vt_r = lapack_svd(R.T)
    Vt = (Q @ Vt_r[:k].T).T
    U = np.ascontiguousarray(U[:, :k]) if compute_u else None
    return SVDResult(U, s[:k], np.ascontiguousarray(Vt))


def gram_svd(X, n_components, compute_u):
    """SVD from the symmetric eigendecomposition of the smaller Gram matrix.

    For tall ``X`` the eigenpairs of ``XᵀX = V Σ² Vᵀ`` give ``Σ`` and ``V``, and
    ``U = X V Σ⁻¹``; wide data uses ``XXᵀ`` the same way. Only the ``k`` largest
    eigenpairs are computed (LAPACK ``syevr`` on an index range).

    Squaring doubles the condition number's exponent: eigenvalues carry an absolute
    error of about ``eps·σ₁²``, so ``σᵢ`` has relative error about
    ``eps·(σ₁/σᵢ)²``, and the columns of ``X V Σ⁻¹`` lose orthogonality by about the
    same amount. When that loss could exceed ``√eps`` (``σₖ < eps^(1/4)·σ₁``) the
    long factor is re-orthonormalised by a QR decomposition of ``X V``: for a
    well-separated spectrum ``X V = U Σ`` has a diagonal triangular factor, so this
    keeps the recoverable columns and completes the numerically zero ones to an
    orthonormal set.

    Returns
    -------
    result : SVDResult
    relative_error : float
        The estimate ``eps·(σ₁/σ_k)²`` of the worst relative error among the
        returned singular values (``inf`` when ``σ_k`` is zero), used by the
        dispatcher's accuracy guard.
    """
    k = n_components
    n_samples, n_features = X.shape
    transposed = n_samples < n_features
    A = X.T if transposed else X  # A is tall: p × q with q = min(m, n)
    scale = gram_scale(A)
    if scale != 1.0:
        A = A / scale
    G = A.T @ A
    G = G.toarray() if sp.issparse(G) else np.asarray(G)
    s, V, relative_error = gram_eigh(G, k, X.dtype)
    eps = float(np.finfo(X.dtype).eps)

    long_factor = None
    if transposed or compute_u:
        Y = np.asarray(A @ V)
        if s[-1] > 0 and s[-1] >= eps**0.25 * s[0]:
            long_factor = Y / s
        else:
            Q, R = la.qr(Y, mode="economic", check_finite=False, overwrite_a=True)
            signs = np.sign(np.diag(R))
            signs[signs == 0] = 1
            long_factor = Q * signs
    s = s * scale if scale != 1.0 else s
    if transposed:
        U = np.ascontiguousarray(V) if compute_u else None
        return SVDResult(U, s, np.ascontiguousarray(long_factor.T)), relative_error
    return SVDResult(long_factor, s, np.ascontiguousarray(V.T)), relative_error


# Up to this order the whole eigendecomposition by NumPy costs little; beyond,
# SciPy's syevr computes only the k leading pairs.
NUMPY_EIGH_MAX = 1000


def gram_eigh(G, n_components, dtype):
    """Leading singular values and right vectors from a Gram matrix ``G = AᵀA``.

    Only the ``k`` largest eigenpairs are computed (``syevr`` on an index range).
    Returns ``s`` (in ``dtype``), ``V`` of shape (q, k) and the estimate
    ``eps·(σ₁/σₖ)²`` of the worst relative error among the returned singular
    values (``inf`` when ``σₖ`` is zero), which the dispatcher's guard reads.
    ``G`` is overwritten.
    """
    q, k = G.shape[0], n_components
    if q <= NUMPY_EIGH_MAX:
        # NumPy's LAPACK, like the NumPy product that formed G: alternating
        # between NumPy's and SciPy's OpenBLAS builds makes their idle threads
        # contend (the pair ran 2× slower than either alone on 2 cores).
        w, V = np.linalg.eigh(G)
        w, V = w[::-1][:k], V[:, ::-1][:, :k]
    else:
        w, V = la.eigh(
            G, subset_by_index=[q - k, q - 1], check_finite=False, overwrite_a=True
        )
        w, V = w[::-1], V[:, ::-1]
    # Eigenvectors inside tight eigenvalue clusters can lose some orthogonality
    # (350·eps seen at a relative gap of 1e-12); a QR of the q × k V restores it
    # at a cost of q·k², negligible beside forming the Gram matrix.
    V, R = np.linalg.qr(V)
    V *= np.where(np.diag(R) < 0, -1.0, 1.0)
    # Rounding can leave eigenvalues of a positive semidefinite matrix slightly
    # negative; those are zero singular values.
    s = np.sqrt(np.clip(w, 0, None)).astype(dtype, copy=False)
    return s, V, gram_relative_error(s, dtype)


def gram_relative_error(s, dtype):
    """``eps·(σ₁/σₖ)²``: the Gram path's worst relative error in ``s`` (descending).

    ``inf`` when ``σₖ`` is zero or the condition number exceeds √(float max).
    """
    with np.errstate(over="ignore"):
        ratio = np.float64(s[0]) / np.float64(s[-1]) if s[-1] > 0 else np.inf
        return float(np.finfo(dtype).eps * ratio**2)


def gram_scale(A):
    """1, or the largest magnitude of A when its squares would leave the normal range.

    Products of entries up to ``c`` summed over ``p`` rows stay finite while
    ``p·c² < max``, and an entry of relative size eps stays a normal number when
    squared while ``eps·c² > tiny``; outside that, A is divided by ``c`` first.
    """
    values = A.data if sp.issparse(A) else A
    if values.size == 0:
        return 1.0
    # max and min rather than max(abs): no temporary the size of A.
    largest = max(float(values.max()), -float(values.min()))
    info = np.finfo(A.dtype)
    if largest == 0.0:
        return 1.0
    fits = largest < np.sqrt(float(info.max) / (4 * A.shape[0]))
    normal = largest > np.sqrt(float(info.tiny) / float(info.eps))
    return 1.0 if fits and normal else largest
