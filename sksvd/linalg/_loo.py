"""Exact leave-one-out predictions of truncated least squares at every rank.

Leaving sample ``i`` out (and re-centring) changes the weighted scatter matrix
of the design by a rank-one downdate, ``S₋ᵢ = S − ρᵢ aᵢaᵢᵀ``, where ``aᵢ`` is the
sample's centred row. In the basis of the right singular vectors of the whole
design, ``S = V diag(d) Vᵀ`` with ``d = σ²``, the downdated matrix is
``V (diag(d) − ρᵢ zᵢzᵢᵀ) Vᵀ`` with ``zᵢ = Vᵀaᵢ``: a diagonal-plus-rank-one
eigenproblem (Golub 1973; Bunch, Nielsen and Sorensen 1978). Its eigenvalues
are the roots of the secular equation

.. math::

    f(\\lambda) = 1 - \\rho \\sum_k \\frac{z_k^2}{d_k - \\lambda} = 0 ,

one in each interval ``(d_{j+1}, d_j)``, with eigenvectors
``q_j ∝ (diag(d) − λ_j)⁻¹ z``. The refitted rank-``k`` model predicts the
left-out sample from the ``k`` leading eigenpairs and the downdated cross
product ``h = Vᵀ(Aᵀb) − ρᵢ zᵢ bᵢ``:
``aᵢᵀβ₋ᵢ(k) = γᵢ Σⱼ≤ₖ (qⱼᵀz)(qⱼᵀh)/λⱼ``, and with ``λⱼ = dⱼ + ηⱼ`` each term
is ``T/(Q λⱼ)`` with ``Q = ρ Σ z²/(d − λ)²`` and ``T = Σ z h/(d − λ)``.

Two ways to the roots, both exact to rounding:

- **Moments (BLAS-3).** For ``k ≠ j``, ``1/(d_k − d_j − η)`` is a geometric
  series in ``η/(d_k − d_j)``, so every sum above is a power series in ``η``
  whose coefficients, for all samples and roots at once, are matrix products
  of ``ρz²`` (and ``z ⊙ σ ⊙ Uᵀb``) with the fixed matrices
  ``(d_k − d_j)^{-(m+1)}``. Newton's method then solves each secular equation
  on ``(n_samples, k)`` arrays. A root is accepted where ``|η| ≤ 0.2·g_j``
  (``g_j`` the distance to the nearest other pole): the series' remainder after
  ``m = 26`` terms is then below ``(m+1)·0.2^m/0.64 ≈ 3e-17`` of the sums'
  magnitude, under float64's own rounding.
- **Secular iteration.** Any other root (a sample with high leverage on a
  direction, close singular values) is solved directly, relative to its nearer
  pole so that ``d_k − λ_j`` keeps its accuracy, by a safeguarded iteration on
  a model with both neighbouring poles (the "middle way" of Li; LAPACK's
  ``dlaed4`` uses the same idea), stopped when ``|f|`` is at its own rounding
  level.

Singular values repeated to a few ulps break the one-root-per-interval rule:
each cluster is merged into one pole first (deflation, as LAPACK's ``dlaed2``),
its other eigenpairs staying in place with zero terms. A sample whose iteration
does not converge is solved by LAPACK's ``eigh`` of the ``r × r`` matrix.
"""

import numpy as np

_EPS = float(np.finfo(np.float64).eps)
# Elements handled at once by the elementwise stages: 16 MiB per float64 array.
_CHUNK_ELEMENTS = 2**21
_MAX_ITERATIONS = 40
# Terms of the moment series, and the largest |η|/gap it is trusted for: the
# remainder (m+1)·t^m/(1 − t)² is then 2.8e-17, an eighth of float64's eps.
# (On 20000 × 100 Gaussian data 4 % of the roots lie beyond that reach.)
MOMENTS = 26
_MOMENT_REACH = 0.2
# Newton steps from the first-order root: at |η| ≤ 0.2·gap the first-order
# error is about 0.2·|η|, and each step squares the relative error.
_NEWTON_STEPS = 4
# A squared coordinate this small relative to its pole leaves the root in place.
_TINY = 1e-280


def leave_one_out_predictions(s, Zeta, P, b, root_rho, ranks, rcond):
    """The left-out samples' predictions (centred part) at every candidate rank.

    Parameters
    ----------
    s : ndarray of shape (r,)
        Every positive singular value of the centred, weighted design, in
        decreasing order (those below its cut-off too: a downdate mixes all
        directions).
    Zeta : ndarray of shape (n_samples, r)
        ``ζᵢ = √ρᵢ·zᵢ``, with ``zᵢ = Vᵀaᵢ`` each sample's centred (unweighted)
        row on the right singular vectors. From the left singular vectors,
        ``ζᵢ = √(ρᵢ/wᵢ)·σ ⊙ Uᵢ``, which keeps the relative accuracy of each
        coordinate (``aᵢ V`` would have an absolute error of ``eps·σ₁``).
    P : ndarray of shape (r, n_targets)
        ``Uᵀb̃``, the projections of the centred, weighted targets.
    b : ndarray of shape (n_samples, n_targets)
        The centred (unweighted) targets ``yᵢ − ȳ``.
    root_rho : ndarray of shape (n_samples,)
        ``√ρᵢ > 0``, the downdate's weight: ``ρᵢ = wᵢW/(W − wᵢ)`` with an
        intercept, ``wᵢ`` without.
    ranks : ndarray of int
        The candidate ranks, each between 1 and r.
    rcond : float
        Relative cut-off of the refits: roots with ``√λⱼ ≤ rcond·√λ₁`` are
        dropped, as the refit's own cut-off would drop them.

    Returns
    -------
    ndarray of shape (n_samples, len(ranks), n_targets)
        ``aᵢᵀβ₋ᵢ(k)``, where ``β₋ᵢ(k)`` are the rank-``k`` minimum-norm
        coefficients refitted without sample ``i``; the caller scales by ``γᵢ``
        and adds the left-out means.
    """
    n_samples = Zeta.shape[0]
    ranks = np.asarray(ranks, dtype=int)
    n_roots = int(ranks.max(initial=0))
    out = np.zeros((n_samples, ranks.size, P.shape[1]))
    if n_roots == 0 or n_samples == 0:
        return out
    # The terms do not change when s and ζ are divided by the same number:
    # divided by σ₁, no square over- or underflows whatever the data's scale.
    size = float(s[0])
    s = np.asarray(s, dtype=np.float64) / size
    Zeta = Zeta / size
    clusters = _Clusters(s**2)
    poles = _Poles(clusters.d, clusters.roots_for(n_roots))
    cross = s[:, np.newaxis] * P  # Vᵀ(Aᵀb̃) in the basis of V: σ ⊙ P
    step = max(1, _CHUNK_ELEMENTS // (poles.n_roots * (MOMENTS + 1) * (1 + P.shape[1])))
    for start in range(0, n_samples, step):
        rows = slice(start, min(start + step, n_samples))
        w2, products = clusters.merge(Zeta[rows], cross)
        lam, terms = _roots_and_terms(poles, w2, products, b[rows], root_rho[rows])
        lam, terms = clusters.expand(lam, terms, n_roots)
        out[rows] = _cumulate(lam, terms, ranks, rcond)
    return out


class _Clusters:
    """Singular values repeated to a few ulps, each merged into one pole.

    Within a cluster of ``m`` equal poles, a rotation of the coordinates leaves
    one of weight ``‖ζ_C‖`` and ``m − 1`` of weight zero, whose eigenpairs stay
    ``(d_C, ·)`` with a zero term (LAPACK's ``dlaed2`` deflates the same way).
    The merged problem has distinct poles, one root in each interval; the
    eigenvalues in decreasing order are then, for each merged pole, its
    ``m − 1`` deflated copies and the root just below it.
    """

    def __init__(self, d):
        # A pole joins the cluster above it when within 64 ulps of it.
        joins = np.zeros(d.size, dtype=bool)
        joins[1:] = d[:-1] - d[1:] <= 64 * _EPS * d[:-1]
        self.label = np.cumsum(~joins) - 1  # cluster of each pole
        starts = np.flatnonzero(~joins)
        self.d = d[starts]
        self.size = np.diff(np.append(starts, d.size))
        self.repeated = bool(np.any(self.size > 1))

    def roots_for(self, n_roots):
        """Merged roots needed for the ``n_roots`` leading eigenvalues."""
        # The merged root j comes after every copy up to and including its
        # cluster's: at position cumsum(size)[j] − 1.
        positions = np.cumsum(self.size) - 1
        return int(np.searchsorted(positions, n_roots - 1) + 1)

    def merge(self, Zeta, cross):
        """``ζ̂²`` (rows, r̂) and ``Σ_C ζ_k σ_k P_k`` (rows, r̂, n_targets)."""
        products = Zeta[:, :, None] * cross[None]
        if not self.repeated:
            return Zeta**2, products
        n_clusters = self.d.size
        w2 = np.zeros((Zeta.shape[0], n_clusters))
        np.add.at(w2.T, self.label, (Zeta**2).T)
        merged = np.zeros((Zeta.shape[0], n_clusters, cross.shape[1]))
        np.add.at(merged.transpose(1, 0, 2), self.label, products.transpose(1, 0, 2))
        return w2, merged

    def expand(self, lam, terms, n_roots):
        """The ``n_roots`` leading eigenvalues and terms, deflated copies included."""
        if not self.repeated:
            return lam[:, :n_roots], terms[:, :n_roots]
        K = lam.shape[1]
        positions = (np.cumsum(self.size) - 1)[:K]
        full_lam = np.repeat(self.d[:K], self.size[:K])[np.newaxis]
        full_lam = np.repeat(full_lam, lam.shape[0], axis=0)
        full_terms = np.zeros((lam.shape[0], full_lam.shape[1], terms.shape[2]))
        full_lam[:, positions] = lam
        full_terms[:, positions] = terms
        return full_lam[:, :n_roots], full_terms[:, :n_roots]


class _Poles:
    """The fixed data of every secular equation: the poles and their series."""

    def __init__(self, d, n_roots):
        r = d.size
        self.d, self.n_roots, self.r = d, n_roots, r
        self.upper = d[:n_roots]
        self.lower = np.append(d[1:], 0.0)[:n_roots]
        delta = d[:, np.newaxis] - self.upper[np.newaxis, :]  # d_k − d_j, (r, K)
        own = np.arange(r)[:, np.newaxis] == np.arange(n_roots)[np.newaxis, :]
        with np.errstate(divide="ignore"):
            inverse = np.where(own, 0.0, 1.0 / np.where(own, 1.0, delta))
        # Distance from d_j to the nearest other pole (d_j itself when alone).
        gap = np.min(np.where(own, np.inf, np.abs(delta)), axis=0)
        self.gap = np.where(np.isfinite(gap), gap, self.upper)
        # The series run in u = η/g_j: column m·K + j holds
        # g_j^m/(d_k − d_j)^{m+1} = (d_k − d_j)⁻¹(g_j/(d_k − d_j))^m, m = 0 … MOMENTS,
        # whose ratio is at most 1 in size: no power overflows.
        ratio = inverse * self.gap[np.newaxis, :]
        powers = [inverse]
        for _ in range(MOMENTS):
            powers.append(powers[-1] * ratio)
        self.series = np.concatenate(powers, axis=1)


def _roots_and_terms(poles, w2, products, b, root_rho):
    """``λ`` (rows, K) and the terms ``(qⱼᵀz)(qⱼᵀh)/λⱼ`` (rows, K, n_targets).

    ``w2 = ζ²`` and ``products = ζ ⊙ σP`` on the (merged) poles; with them
    ``ζ ⊙ h = products − √ρ·w2·b``.
    """
    K = poles.n_roots
    lam, terms, solved = _moment_terms(poles, w2, products, b, root_rho)
    todo = np.argwhere(~solved)
    if todo.size:
        rows, roots = todo[:, 0], todo[:, 1]
        # The series' unconverged roots are still good first guesses.
        pair_lam, pair_terms, failed = _secular_pairs(
            poles,
            w2[rows],
            products[rows],
            b[rows],
            root_rho[rows],
            roots,
            lam[rows, roots],
        )
        lam[rows, roots], terms[rows, roots] = pair_lam, pair_terms
        if np.any(failed):
            redo = np.unique(rows[failed])
            lam[redo], terms[redo] = _direct_terms(
                poles.d, w2[redo], products[redo], b[redo], root_rho[redo], K
            )
    return lam, terms


def _moment_terms(poles, w2, products, b, root_rho):
    """The roots that the moment series reaches, and their terms.

    Returns ``λ``, the terms and a mask of the (row, root) pairs solved here.
    """
    K, M = poles.n_roots, MOMENTS
    n_rows, n_targets = products.shape[0], products.shape[2]
    d_j = poles.upper
    # M_m = Σ_{k≠j} ζ_k² g_j^m/(d_k − d_j)^{m+1}, m = 0 … M: one matrix
    # product, laid out (m, row, root) so that each Horner step reads
    # contiguous memory. With u = η/g_j, S(η) = Σ_{k≠j} ζ_k²/(d_k − λ) =
    # Σ_m u^m M_m.
    moments = np.ascontiguousarray(
        (w2 @ poles.series).reshape(n_rows, M + 1, K).transpose(1, 0, 2)
    )
    # The same for Σ_{k≠j} ζ_k σ_k P_k/(d_k − λ), m < M, per target.
    flat = products.transpose(0, 2, 1).reshape(n_rows * n_targets, -1)
    cross_moments = np.ascontiguousarray(
        (flat @ poles.series[:, : M * K])
        .reshape(n_rows, n_targets, M, K)
        .transpose(1, 2, 0, 3)
    )
    own = w2[:, :K]  # ζ_j²
    own_cross = products[:, :K, :]  # ζ_j σ_j P_j
    gap = poles.gap
    rb = root_rho[:, None] * b  # √ρ·b, (rows, T)

    def series(coefficients, u, derivative=False):
        """Σ_m u^m c_m by Horner (c_m = coefficients[m]), and d/du of it."""
        value = np.zeros_like(u)
        slope = np.zeros_like(u) if derivative else None
        for m in range(coefficients.shape[0] - 1, -1, -1):
            if derivative:
                slope = slope * u + value
            value = value * u + coefficients[m]
        return value, slope

    S_coefficients = moments[:M]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # Newton on g(u) = u(1 − S) + ζ_j²/g_j, from the first-order root;
        # it converges quadratically inside the series' reach.
        target = own / gap
        u = -target / (1.0 - moments[0])
        for _ in range(_NEWTON_STEPS):
            S, dS = series(S_coefficients, u, derivative=True)
            step = (u * (1.0 - S) + target) / (1.0 - S - u * dS)
            u = u - step
        S, dS = series(S_coefficients, u, derivative=True)
        # The size of one more step, for the convergence test.
        step = (u * (1.0 - S) + target) / (1.0 - S - u * dS)
        eta = u * gap
        # Σ_{k≠j} ζ_k²/(d_k − λ)² = Σ_m (m+1) u^m M_{m+1} / g_j.
        factors = np.arange(1, M + 1)[:, None, None]
        dS_full, _ = series(moments[1 : M + 1] * factors, u)
        Q = own / eta**2 + dS_full / gap  # Σ ζ²/(d − λ)²
        R = np.stack(
            [series(cross_moments[t], u)[0] for t in range(n_targets)],
            axis=2,
        )
        # T = Σ ζ h/(d − λ): the own pole's term, then the series.
        T = (own_cross - own[:, :, None] * rb[:, None, :]) / (-eta[:, :, None])
        T = T + R - rb[:, None, :] * S[:, :, None]
        absolute = own / np.abs(eta) + np.abs(S)
        lam = _zero_at_rounding(d_j + eta, absolute, Q, poles.r)
        # (qᵀz)(qᵀh)/λ = (Σ z²/e)(Σ z h/e)/(Σ z²/e²)/λ = T/(√ρ·Q·λ), since
        # Σ ζ²/e = 1 at the root.
        denominator = root_rho[:, None] * Q * np.where(lam > 0, lam, 1.0)
        terms = np.where((lam > 0)[:, :, None], T / denominator[:, :, None], 0.0)
    reach = np.abs(u) <= _MOMENT_REACH
    converged = ~(np.abs(step) > 8 * _EPS * np.abs(u))
    bracketed = (d_j + eta > poles.lower) & (eta < 0) & (1.0 - moments[0] > 0)
    solved = (
        reach
        & converged
        & bracketed
        & (own > _TINY * d_j)
        & np.all(np.isfinite(terms), axis=2)
    )
    # A coordinate so small that its root's shift underflows: the eigenpair
    # is (d_j, e_j), whose term is z_j h_j/d_j.
    deflated = own <= _TINY * d_j
    lam = np.where(deflated, d_j, lam)
    with np.errstate(divide="ignore", invalid="ignore"):
        kept_term = (own_cross - own[:, :, None] * rb[:, None, :]) / (
            root_rho[:, None, None] * d_j[:, None]
        )
    terms = np.where(deflated[:, :, None], np.nan_to_num(kept_term), terms)
    done = solved | deflated
    return lam, np.where(done[:, :, None], terms, 0.0), done


def _zero_at_rounding(lam, absolute_sum, slope, r):
    """Roots within their own rounding error of zero become 0.

    Where leaving a sample out lowers the rank, a root is zero (or at the
    level of the singular values below the cut-off), and ``1 − Σζ²/(d − λ)``
    cancels there: its rounding error, about ``eps·Σ|ζ²/(d − λ)|``, over its
    slope ``Σζ²/(d − λ)²`` bounds how far from zero the computed root may be.
    """
    uncertainty = 16 * r * _EPS * absolute_sum / slope
    return np.where(lam <= uncertainty, 0.0, lam)


def _cumulate(lam, terms, ranks, rcond):
    """Sum the leading terms at each rank, dropping roots below the cut-off."""
    kept = (lam > (rcond**2) * lam[:, :1]) & (lam > 0)
    cumulative = np.cumsum(np.where(kept[:, :, None], terms, 0.0), axis=1)
    return cumulative[:, ranks - 1]


def _secular_pairs(poles, w2, products, b, root_rho, roots, guess):
    """Root ``roots[p]`` of sample ``p``'s secular equation, and its term.

    Returns ``λ`` (pairs,), the terms (pairs, n_targets) and a mask of the
    pairs whose iteration did not converge.
    """
    n_pairs = w2.shape[0]
    lam = np.empty(n_pairs)
    terms = np.empty((n_pairs, products.shape[2]))
    failed = np.empty(n_pairs, dtype=bool)
    step = max(1, _CHUNK_ELEMENTS // poles.r)
    for start in range(0, n_pairs, step):
        part = slice(start, min(start + step, n_pairs))
        lam[part], terms[part], failed[part] = _secular_iteration(
            poles,
            w2[part],
            products[part]
            - (root_rho[part, None] * w2[part])[:, :, None] * b[part][:, None, :],
            root_rho[part],
            roots[part],
            guess[part],
        )
    return lam, terms, failed


def _secular_iteration(poles, z2, zh, root_rho, roots, guess):
    """The iteration for ``ζ²`` (pairs, r) and ``ζ ⊙ h`` (pairs, r, n_targets)."""
    d, r = poles.d, poles.r
    upper, lower = poles.upper[roots], poles.lower[roots]
    # Poles at or above the root's interval (k ≤ j) form ψ, the others φ.
    left = (np.arange(r)[None, :] <= roots[:, None]).astype(np.float64)
    right = 1.0 - left
    last = lower == 0.0  # no pole below the last root

    def sums(pairs, delta, eta):
        # e = d_k − λ = (d_k − origin) − η: accurate near the origin pole.
        e = delta - eta[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = z2[pairs] / e
            t2 = t / e
        # Summed apart, not as a difference: ψ holds the nearby pole's large
        # term, which would swamp φ.
        side, other = left[pairs], right[pairs]
        psi = np.einsum("pr,pr->p", t, side)
        psi_d = np.einsum("pr,pr->p", t2, side)
        phi = np.einsum("pr,pr->p", t, other)
        phi_d = np.einsum("pr,pr->p", t2, other)
        return psi, psi_d, phi, phi_d, e

    # The nearer pole, from the sign of f at the interval's midpoint.
    everything = np.arange(z2.shape[0])
    middle = 0.5 * (upper + lower)
    delta_upper = d[None, :] - upper[:, None]
    psi, _, phi, _, _ = sums(everything, delta_upper, middle - upper)
    at_upper = 1.0 - psi - phi > 0  # f decreases: the root is right of it
    origin = np.where(at_upper, upper, lower)
    delta = np.where(at_upper[:, None], delta_upper, d[None, :] - lower[:, None])
    # The bracket of η = λ − origin.
    lo = np.where(at_upper, middle - upper, 0.0)
    hi = np.where(at_upper, 0.0, middle - lower)
    gap_a = upper - origin  # the upper pole, relative to the origin
    gap_b = np.where(last, 0.0, lower - origin)  # the lower pole, if any
    # Start from the guess where it lies in the half-bracket, else its middle.
    start = guess - origin
    eta = np.where((start > lo) & (start < hi), start, 0.5 * (lo + hi))
    converged = np.zeros(z2.shape[0], dtype=bool)
    for _ in range(_MAX_ITERATIONS):
        active = np.flatnonzero(~converged)
        if active.size == 0:
            break
        x = eta[active]
        psi, psi_d, phi, phi_d, _ = sums(active, delta[active], x)
        f = 1.0 - psi - phi
        a_lo = np.where(f > 0, np.maximum(lo[active], x), lo[active])
        a_hi = np.where(f < 0, np.minimum(hi[active], x), hi[active])
        lo[active], hi[active] = a_lo, a_hi
        # ψ ≈ a1 + b1/(Δa − η), φ ≈ a2 + b2/(Δb − η), matching value and slope.
        ga, gb, no_pole = gap_a[active], gap_b[active], last[active]
        e_a, e_b = ga - x, gb - x
        b1 = psi_d * e_a**2
        a1 = psi - psi_d * e_a
        b2 = np.where(no_pole, 0.0, phi_d * e_b**2)
        a2 = phi - np.where(no_pole, 0.0, phi_d * e_b)
        c = 1.0 - a1 - a2
        # c η² − β η + a0 = 0 (one of Δa, Δb is zero).
        beta = c * (ga + gb) - b1 - b2
        a0 = -(b1 * gb + b2 * ga)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            disc = np.sqrt(np.maximum(beta**2 - 4 * c * a0, 0.0))
            q = 0.5 * (beta + np.where(beta >= 0, disc, -disc))
            first, second = q / c, a0 / q
        # Closed: a converged iterate is an end of its own bracket.
        inside_first = (first >= a_lo) & (first <= a_hi)
        inside_second = (second >= a_lo) & (second <= a_hi)
        new = np.where(
            inside_first, first, np.where(inside_second, second, 0.5 * (a_lo + a_hi))
        )
        # Converged when f is zero to its own rounding error (dlaed4's test),
        # or the step is below the iterate's last bits.
        small_f = np.abs(f) <= 8 * r * _EPS * (1.0 + np.abs(psi) + np.abs(phi))
        small_step = np.abs(new - x) <= 4 * _EPS * np.abs(x)
        eta[active] = np.where(small_f, x, new)
        converged[active] = small_f | small_step
    psi, psi_d, phi, phi_d, e = sums(everything, delta, eta)
    lam = origin + eta
    lam = _zero_at_rounding(lam, np.abs(psi) + np.abs(phi), psi_d + phi_d, r)
    positive = lam > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # (qᵀz)(qᵀh)/λ = (Σ ζ²/e)(Σ ζ h/e)/(Σ ζ²/e²)/(√ρ·λ), Σ ζ²/e = ψ + φ.
        summed = np.einsum("pr,prt->pt", 1.0 / e, zh)
        scale = (psi + phi) / (psi_d + phi_d) / np.where(positive, lam, 1.0)
        scale = scale / root_rho
        terms = np.where(positive[:, None], scale[:, None] * summed, 0.0)
    failed = ~converged | ~np.all(np.isfinite(terms), axis=1)
    return lam, terms, failed


def _direct_terms(d, w2, products, b, root_rho, n_roots):
    """The same terms from LAPACK's eigendecomposition of ``diag(d) − ζζᵀ``.

    Its eigenvalues are accurate to a few ulps of ``d₁`` (not of each
    eigenvalue), so those below ``16·r·eps·d₁`` count as zero.
    """
    n_rows, r = w2.shape
    lam = np.empty((n_rows, n_roots))
    terms = np.empty((n_rows, n_roots, products.shape[2]))
    step = max(1, _CHUNK_ELEMENTS // (r * r))
    for start in range(0, n_rows, step):
        rows = slice(start, min(start + step, n_rows))
        zeta = np.sqrt(w2[rows])
        zh = (
            products[rows]
            - (root_rho[rows, None] * w2[rows])[:, :, None] * (b[rows][:, None, :])
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(zeta[:, :, None] > 0, zh / zeta[:, :, None], 0.0)
        M = np.diag(d)[np.newaxis] - zeta[:, :, None] * zeta[:, None, :]
        values, vectors = np.linalg.eigh(M)
        # eigh sorts increasingly: the leading roots are the last columns.
        values = values[:, ::-1][:, :n_roots]
        values = np.where(values <= 16 * r * _EPS * d[0], 0.0, values)
        vectors = vectors[:, :, ::-1][:, :, :n_roots]
        qz = np.einsum("irk,ir->ik", vectors, zeta)
        qh = np.einsum("irk,irt->ikt", vectors, h)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = root_rho[rows, None] * values
            found = qz[:, :, None] * qh / scale[:, :, None]
        lam[rows] = values
        terms[rows] = np.where((values > 0)[:, :, None], found, 0.0)
    return lam, terms
