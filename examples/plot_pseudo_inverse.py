"""
The pseudo-inverse and the minimum-norm solution
================================================

A system with more unknowns than equations has infinitely many solutions, and a
singular matrix has no inverse. The Moore–Penrose pseudo-inverse ``A⁺ = V Σ⁺ Uᵀ``
answers both: ``x⁺ = A⁺ b`` is the least-squares solution of least Euclidean
norm. This example computes it with :func:`sksvd.linalg.pinv` and
:func:`sksvd.linalg.lstsq`, and checks what makes it special.
"""

# %%
# A singular matrix
# -----------------
# ``A = [[1, 3], [2, 6]]`` has rank one: its second column is three times its
# first. It has no inverse, but its pseudo-inverse exists, and for a rank-one
# matrix it is ``Aᵀ / ‖A‖²_F``.
import matplotlib.pyplot as plt
import numpy as np

from sksvd.linalg import lstsq, null_space, pinv

A = np.array([[1.0, 3.0], [2.0, 6.0]])
A_pinv = pinv(A)
print("A⁺ =\n", A_pinv)
print("Aᵀ/‖A‖²_F =\n", A.T / np.sum(A**2))
print("A A⁺ A == A:", np.allclose(A @ A_pinv @ A, A))

# %%
# Two equations, three unknowns
# -----------------------------
# ``x₁ + x₂ + x₃ = 3`` and ``x₁ − x₃ = 0`` leave a line of solutions. ``lstsq``
# returns the point of that line nearest the origin; adding any multiple of the
# null-space direction gives another solution, always longer.
A = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, -1.0]])
b = np.array([3.0, 0.0])
x, residues, rank, s = lstsq(A, b)
direction = null_space(A)[:, 0]
print(f"minimum-norm solution: {x.round(6)}, rank {rank}")
print(f"null-space direction:  {direction.round(4)}")
print(f"x is orthogonal to it: {abs(x @ direction) < 1e-12}")

t = np.linspace(-3, 3, 121)
norms = [np.linalg.norm(x + step * direction) for step in t]
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(t, norms)
ax.axvline(0, color="k", lw=0.8, ls=":")
ax.set_xlabel("step t along the null space: x⁺ + t·n")
ax.set_ylabel("‖x‖")
ax.set_title("Every solution of Ax = b; the pseudo-inverse picks t = 0")
fig.tight_layout()

# %%
# Cutting off small singular values
# ---------------------------------
# A tiny singular value is exact for the matrix but its reciprocal amplifies the
# noise in ``b``. The default cut-off (:func:`sksvd.linalg.default_rcond`) drops
# only what is numerically zero for the matrix; when ``b`` is noisier than that,
# choose ``rcond`` from the noise level (or ``max_rank``) to drop such
# directions too.
rng = np.random.default_rng(0)
A = rng.standard_normal((20, 5)) @ np.diag([1.0, 1.0, 1.0, 1.0, 1e-9])
b = A @ np.ones(5) + 1e-6 * rng.standard_normal(20)
for label, kwargs in [
    ("default cut-off", {}),
    ("rcond=1e-6", {"rcond": 1e-6}),
    ("max_rank=4", {"max_rank": 4}),
]:
    x, _, rank, _ = lstsq(A, b, **kwargs)
    print(f"{label:>15}: rank {rank}, ‖x‖ = {np.linalg.norm(x):.3g}")
