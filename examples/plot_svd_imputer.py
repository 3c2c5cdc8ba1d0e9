"""
Filling missing entries with a low-rank model
=============================================

A ratings-like matrix: 150 users rate 30 items, and their tastes are driven by
four hidden factors, plus noise. 30 % of the ratings are missing at random.
:class:`~sksvd.SVDImputer` fills the gaps from the low-rank structure the
observed ratings share, with the rank chosen by cross-validation on held-out
ratings; scikit-learn's imputers fill each column from its mean, from the
nearest users, or from a regression on the other columns.
"""

# %%
# The data
# --------
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from sksvd import SVDImputer

rng = np.random.default_rng(0)
tastes = rng.standard_normal((150, 4))
profiles = rng.standard_normal((4, 30))
ratings = 3.0 + tastes @ profiles * 0.6 + 0.2 * rng.standard_normal((150, 30))
missing = rng.random(ratings.shape) < 0.3
observed = np.where(missing, np.nan, ratings)

# %%
# Four imputers, same gaps
# ------------------------
# The error is measured on the removed ratings, against their true values.
imputers = {
    "mean (SimpleImputer)": SimpleImputer(),
    "nearest users (KNNImputer)": KNNImputer(),
    "regressions (IterativeImputer)": IterativeImputer(max_iter=50, random_state=0),
    "low rank (SVDImputer)": SVDImputer(random_state=0),
}
errors = {}
for name, imputer in imputers.items():
    start = time.perf_counter()
    filled = imputer.fit_transform(observed)
    seconds = time.perf_counter() - start
    errors[name] = np.sqrt(np.mean((filled[missing] - ratings[missing]) ** 2))
    print(f"{name:>32}: RMSE {errors[name]:.3f} in {seconds:.2f} s")

svd = imputers["low rank (SVDImputer)"]
print("rank chosen by cross-validation:", svd.rank_)

# %%
# The rank, chosen on held-out ratings
# ------------------------------------
# Each candidate rank is scored by hiding a fifth of the observed ratings at a
# time and imputing them. The error falls until the four factors are in, then
# rises slowly as further components fit the noise; the one-standard-error
# rule picks the smallest rank within reach of the best.
results = svd.cv_results_
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
left.errorbar(
    results["rank"],
    -results["mean_test_score"],
    yerr=results["std_test_score"],
    marker="o",
)
left.axvline(svd.rank_, color="k", linestyle="--", label=f"chosen: {svd.rank_}")
left.set_xlabel("rank")
left.set_ylabel("RMSE on held-out ratings")
left.set_yscale("log")
left.legend()
names = list(errors)
right.barh(names, [errors[name] for name in names])
right.set_xlabel("RMSE on the missing ratings")
fig.tight_layout()
plt.show()

# %%
# New users
# ---------
# ``transform`` fills a new user's gaps from the fitted components, by least
# squares on the ratings they gave, without refitting.
new_user = 3.0 + rng.standard_normal(4) @ profiles * 0.6
partial = new_user.copy()
partial[rng.random(30) < 0.5] = np.nan
completed = svd.transform(partial[np.newaxis])[0]
gaps = np.isnan(partial)
print(
    "new user's gaps: RMSE",
    round(float(np.sqrt(np.mean((completed[gaps] - new_user[gaps]) ** 2))), 3),
)
