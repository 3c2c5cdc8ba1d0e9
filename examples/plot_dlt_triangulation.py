"""
Triangulating a point from two views (DLT)
==========================================

Two calibrated cameras see the same 3-D point. Each image measurement gives two
linear equations in the point's homogeneous coordinates ``X``, and the four
together form a homogeneous system ``A X = 0``. Its least-squares solution, the
unit vector minimising ``‖A X‖``, is the right singular vector of the smallest
singular value: :func:`sksvd.linalg.null_vector`, which computes ``V`` alone.
"""

# %%
# Two cameras and a point
# -----------------------
# ``P = K [R | t]`` projects homogeneous world points to homogeneous pixels.
import matplotlib.pyplot as plt
import numpy as np

from sksvd.linalg import null_vector

K = np.array([[800.0, 0.0, 320.0], [0.0, 800.0, 240.0], [0.0, 0.0, 1.0]])


def camera(angle, position):
    """A camera at ``position`` turned by ``angle`` (radians) about the y axis."""
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])
    return K @ np.hstack([R, -R @ np.asarray(position)[:, None]])


P1 = camera(0.0, [0.0, 0.0, 0.0])
P2 = camera(-0.3, [1.0, 0.0, 0.0])
point = np.array([0.4, -0.2, 5.0, 1.0])


def project(P, X):
    x = P @ X
    return x / x[2]


# %%
# The linear system
# -----------------
# From ``x × (P X) = 0`` each view gives the rows ``x·p₃ − p₁`` and ``y·p₃ − p₂``
# (``pᵢ`` the rows of ``P``, ``(x, y)`` the pixel).
def triangulate(x1, x2):
    A = np.array(
        [
            x1[0] * P1[2] - P1[0],
            x1[1] * P1[2] - P1[1],
            x2[0] * P2[2] - P2[0],
            x2[1] * P2[2] - P2[1],
        ]
    )
    X = null_vector(A)
    return X / X[3]


x1, x2 = project(P1, point), project(P2, point)
print("exact pixels, recovered point:", triangulate(x1, x2)[:3].round(6))

# %%
# With pixel noise
# ----------------
# Measurements carry noise; the DLT solution degrades gracefully. The error of
# the recovered point grows linearly with the pixel noise.
rng = np.random.default_rng(0)
noise_levels = [0.1, 0.3, 1.0, 3.0]
errors = []
for sigma in noise_levels:
    trials = [
        np.linalg.norm(
            triangulate(
                x1 + np.append(sigma * rng.standard_normal(2), 0.0),
                x2 + np.append(sigma * rng.standard_normal(2), 0.0),
            )[:3]
            - point[:3]
        )
        for _ in range(200)
    ]
    errors.append(np.median(trials))
    print(f"pixel noise {sigma:>4} px: median 3-D error {errors[-1] * 100:.2f} cm")

fig, ax = plt.subplots(figsize=(5, 3.5))
ax.loglog(noise_levels, np.array(errors) * 100, "o-")
ax.set_xlabel("pixel noise (px)")
ax.set_ylabel("median 3-D error (cm)")
ax.set_title("DLT triangulation, point 5 m away")
fig.tight_layout()
