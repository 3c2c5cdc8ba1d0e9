"""
Principal components of height and weight
==========================================

Height and weight of adults rise together: tall people tend to be heavier. A
principal component analysis of the two finds that shared "size" direction and
tells how much of the variation it carries. This example fits
:class:`~sksvd.PCAViaSVD` to data from :func:`~sksvd.datasets.make_height_weight`,
reads the first component as a weight-per-height direction, compares the
covariance and the correlation matrices, and uses the components inside a
:class:`~sklearn.pipeline.Pipeline` with pandas output.
"""

# %%
# The data
# --------
# A thousand adults from a model with realistic parameters: heights by sex from
# survey means, and a body-mass index independent of height.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from sksvd import PCAViaSVD
from sksvd.datasets import make_height_weight

people = make_height_weight(1000, random_state=0)
print(people.describe().round(1).loc[["mean", "std"]])
print(f"correlation: {people.corr().iloc[0, 1]:.2f}")

# %%
# The first component is the size direction
# -----------------------------------------
# On the covariance matrix, the first axis points along (height, weight) in
# their own units: moving along it, weight changes by the slope below for each
# centimetre of height. This is the major axis of the cloud (a total least
# squares line), steeper than the regression of weight on height, and in mixed
# units its slope depends on the units chosen.
pca = PCAViaSVD(matrix="covariance").fit(people)
first = pca.components_[0]
print(f"first axis: {first.round(3)} (cm, kg)")
print(f"slope along it: {first[1] / first[0]:.2f} kg per cm")
print(f"variance split: {pca.explained_variance_ratio_.round(3)}")

# %%
# Covariance against correlation
# ------------------------------
# Weight varies about twice as much in its units as height does in its own, so
# the covariance analysis leans towards weight. Scaling each variable to unit
# variance ("correlation") weighs them equally: with two variables the axes are
# then always the diagonals, and the split is ``(1 ± r) / 2``.
pca_corr = PCAViaSVD(matrix="correlation").fit(people)
r = people.corr().iloc[0, 1]
print(f"correlation PCA split: {pca_corr.explained_variance_ratio_.round(3)}")
print(f"(1 + r)/2, (1 - r)/2:  {np.round([(1 + r) / 2, (1 - r) / 2], 3)}")
print("loadings (correlation of each variable with each component):")
print(np.round(pca_corr.loadings_, 3))

# %%
# A picture of the axes
# ---------------------
# The arrows are the principal axes scaled by two standard deviations.
fig, ax = plt.subplots(figsize=(6, 5))
ax.scatter(people["height_cm"], people["weight_kg"], s=6, alpha=0.4)
for axis, variance in zip(pca.components_, pca.explained_variance_, strict=True):
    end = pca.mean_ + 2 * np.sqrt(variance) * axis
    ax.annotate("", xy=end, xytext=pca.mean_, arrowprops={"arrowstyle": "->", "lw": 2})
ax.set_xlabel("height (cm)")
ax.set_ylabel("weight (kg)")
ax.set_title("Principal axes of height and weight (arrows: 2 sd)")
ax.set_aspect("equal")
fig.tight_layout()

# %%
# Components in a pipeline
# ------------------------
# Body surface area (Mosteller's formula, √(height·weight/3600) in m²) depends on
# overall size, so the first component alone predicts it well. With
# ``set_output(transform="pandas")`` the regressor sees named columns.
surface = np.sqrt(people["height_cm"] * people["weight_kg"] / 3600)
pipeline = make_pipeline(PCAViaSVD(1, matrix="correlation"), LinearRegression())
pipeline.set_output(transform="pandas")
scores = cross_val_score(pipeline, people, surface, cv=5, scoring="r2")
pipeline.fit(people, surface)
print(f"columns seen by the regressor: {list(pipeline[-1].feature_names_in_)}")
print(f"R² of body surface area from the first component: {scores.mean():.3f}")
