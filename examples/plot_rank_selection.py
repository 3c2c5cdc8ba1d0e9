"""
Choosing the rank of a regression on collinear features
=======================================================

When features are nearly collinear, ordinary least squares spreads weight over
directions the data barely determines, and its predictions suffer. Keeping only
the leading singular directions (``max_rank``) trades a little bias for much less
variance. :class:`~sksvd.MinNormLeastSquaresCV` scores every rank from one SVD:
exact leave-one-out (each sample left out, the centring and singular basis
recomputed, by rank-one downdates of one SVD), or one SVD per fold.
"""

# %%
# Collinear data
# --------------
# Thirty features measured with noise, all driven by five hidden factors.
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score, train_test_split

from sksvd import MinNormLeastSquares, MinNormLeastSquaresCV

rng = np.random.default_rng(0)
latent = rng.standard_normal((400, 5))
X = latent @ rng.standard_normal((5, 30)) + 0.3 * rng.standard_normal((400, 30))
y = latent @ rng.standard_normal(5) + 0.5 * rng.standard_normal(400)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# Leave-one-out from one SVD
# --------------------------
start = time.perf_counter()
model = MinNormLeastSquaresCV().fit(X_train, y_train)
elapsed = time.perf_counter() - start
results = pd.DataFrame(model.cv_results_)
results["loo_mse"] = -results["mean_test_score"]
print(results[["rank", "loo_mse"]].iloc[[0, 2, 4, 6, 9, 19, 29]].round(4))
print(f"best rank {model.best_rank_}, in {elapsed * 1000:.1f} ms for 30 ranks")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.semilogy(results["rank"], results["loo_mse"], "o-", ms=3)
ax.axvline(model.best_rank_, color="k", ls=":", lw=0.8)
ax.set_xlabel("rank kept")
ax.set_ylabel("leave-one-out MSE")
ax.set_title("Error falls until the hidden dimension, then flattens")
fig.tight_layout()

# %%
# Against ordinary least squares
# ------------------------------
# On held-out data the truncated solution beats the full one. A 5-fold estimate
# (one SVD per fold) lands on the same flat stretch just past the hidden
# dimension: any rank there predicts about equally well.
ols = LinearRegression().fit(X_train, y_train)
print(
    f"held-out R²: rank {model.best_rank_}: {model.score(X_test, y_test):.4f}, "
    f"least squares: {ols.score(X_test, y_test):.4f}"
)
folds = KFold(5, shuffle=True, random_state=0)
k_fold = MinNormLeastSquaresCV(cv=folds).fit(X_train, y_train)
print(f"5-fold choice: rank {k_fold.best_rank_}")
scores = cross_val_score(MinNormLeastSquares(max_rank=k_fold.best_rank_), X, y, cv=5)
print(f"cross-validated R² at that rank: {scores.mean():.4f}")
