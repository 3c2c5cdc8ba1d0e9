"""
Weighted PCA: survey weights and counted rows
=============================================

:class:`~sksvd.PCAViaSVD` takes ``sample_weight`` as frequency weights: a sample
of weight 2 counts as two samples. Two uses follow from that.

- **Counted rows.** Data stored as distinct rows with a count (a contingency
  table, deduplicated logs) give exactly the model of the expanded data, without
  expanding it.
- **Survey weights.** A sample that over-represents a group gives that group's
  shape too much say; weighting each respondent by the share of the population
  they stand for corrects the principal axes.

scikit-learn's :class:`~sklearn.decomposition.PCA` has no ``sample_weight``.
"""

# %%
# A population and a biased sample
# --------------------------------
# Two groups with different correlation between the two measurements. The
# population is 80 % group A; the sample drawn from it is 80 % group B.
import matplotlib.pyplot as plt
import numpy as np

from sksvd import PCAViaSVD

rng = np.random.default_rng(0)


def group(n, angle, spread):
    """n points along a direction at ``angle`` degrees, with a given spread."""
    theta = np.radians(angle)
    rotation = np.array(
        [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
    )
    return (rng.standard_normal((n, 2)) * spread) @ rotation.T


population = np.vstack([group(80_000, 20, [3.0, 0.6]), group(20_000, 70, [3.0, 0.6])])
sample = np.vstack([group(100, 20, [3.0, 0.6]), group(400, 70, [3.0, 0.6])])
in_b = np.arange(500) >= 100
# The share of the population each respondent stands for: 80 % / 100 people in
# group A, 20 % / 400 people in group B, scaled so that the weights sum to the
# sample size.
weights = np.where(in_b, 0.2 / 400, 0.8 / 100) * 500

truth = PCAViaSVD(1).fit(population)
plain = PCAViaSVD(1).fit(sample)
weighted = PCAViaSVD(1).fit(sample, sample_weight=weights)


def angle(model):
    x, y = model.components_[0]
    return np.degrees(np.arctan2(y, x)) % 180


for name, model in [("population", truth), ("sample", plain), ("weighted", weighted)]:
    print(f"{name:>10}: first axis at {angle(model):5.1f} degrees")

# %%
# The unweighted axis leans toward group B's direction; the weighted one is
# back near the population's.
fig, ax = plt.subplots(figsize=(5, 5))
ax.scatter(*sample[~in_b].T, s=8, label="group A (under-sampled)")
ax.scatter(*sample[in_b].T, s=8, label="group B (over-sampled)")
for name, model, style in [
    ("population", truth, "k-"),
    ("unweighted", plain, "r--"),
    ("weighted", weighted, "g-."),
]:
    direction = model.components_[0] * 8
    ax.plot(*np.column_stack([-direction, direction]), style, label=name)
ax.set_aspect("equal")
ax.legend(loc="lower right")
ax.set_title("First principal axis")
plt.show()

# %%
# Counted rows
# ------------
# A table of distinct rows and how often each was seen gives the same model as
# the rows repeated, to rounding, on every solver.
distinct = np.round(sample[:50], 1)
counts = rng.integers(1, 6, size=50)
expanded = np.repeat(distinct, counts, axis=0)
from_counts = PCAViaSVD(matrix="correlation").fit(distinct, sample_weight=counts)
from_rows = PCAViaSVD(matrix="correlation").fit(expanded)
print("rows:", expanded.shape[0], "=", from_counts.n_samples_)
print(
    "largest difference in explained variance:",
    np.max(np.abs(from_counts.explained_variance_ - from_rows.explained_variance_)),
)
