"""
Searching the rank in a pipeline, on a DataFrame
================================================

The rank of a truncated SVD is a hyper-parameter like any other. Here
:class:`~sksvd.TruncatedSVDCompressor` compresses the 64 pixel columns of the
digits, a classifier follows, and :class:`~sklearn.model_selection.GridSearchCV`
searches the rank. With ``set_output(transform="pandas")`` the columns keep names
from one step to the next.
"""

# %%
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from sksvd import TruncatedSVDCompressor

digits = load_digits(as_frame=True)
X = digits.data / 16.0
y = digits.target
print(f"{type(X).__name__} with columns {list(X.columns[:3])} ...")

pipeline = make_pipeline(
    TruncatedSVDCompressor(random_state=0), LogisticRegression(max_iter=5000)
).set_output(transform="pandas")
ranks = [1, 2, 4, 8, 12, 16, 24, 32, 48]
search = GridSearchCV(pipeline, {"truncatedsvdcompressor__n_components": ranks}, cv=5)
search.fit(X, y)

# %%
# The scores and the chosen rank
# ------------------------------
results = pd.DataFrame(search.cv_results_)
table = results[
    ["param_truncatedsvdcompressor__n_components", "mean_test_score", "std_test_score"]
].set_axis(["rank", "accuracy", "std"], axis=1)
print(table.round(3).to_string(index=False))
best = search.best_estimator_
compressor = best[0]
print(
    f"best rank {compressor.n_components_}, keeping "
    f"{compressor.explained_energy_ratio_.sum():.1%} of the energy in "
    f"{compressor.compression_ratio_:.1%} of the numbers"
)
names = best[-1].feature_names_in_
print(f"the classifier sees {len(names)} columns: {names[0]} ... {names[-1]}")

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.errorbar(table["rank"], table["accuracy"], yerr=table["std"], marker="o")
ax.set_xscale("log", base=2)
ax.set_xlabel("rank kept")
ax.set_ylabel("5-fold accuracy")
ax.set_title("Accuracy saturates well before the 64 pixels")
fig.tight_layout()
