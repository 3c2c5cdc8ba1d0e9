"""
Compressing the digits and choosing the rank by cross-validation
================================================================

Each of scikit-learn's 1,797 handwritten digits is an 8 × 8 image, a row of 64 pixel
intensities. Stacked, they form a 1797 × 64 matrix whose rows are far from
independent: a few dozen singular directions carry almost all of it. This example
compresses that matrix with :class:`~sksvd.TruncatedSVDCompressor`, reads off what
the compression keeps, and then lets :class:`~sklearn.model_selection.GridSearchCV`
choose the rank that a classifier downstream needs.

It runs offline in a few seconds: the digits ship with scikit-learn.
"""

# %%
# Keep 95 % of the energy
# -----------------------
# A float ``n_components`` asks for the smallest rank whose components keep that
# fraction of ``‖X‖²_F``. The fitted compressor reports the rank it found, how many
# numbers the factors take against the matrix, and the Frobenius error of the
# rank-k matrix, read off the spectrum without a second pass over the data.
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from sksvd import TruncatedSVDCompressor

digits = load_digits(as_frame=True)
X = digits.data / 16.0  # pixel intensities in [0, 1]
y = digits.target

compressor = TruncatedSVDCompressor(n_components=0.95).fit(X)
X_k = compressor.inverse_transform(compressor.transform(X))
relative_error = compressor.reconstruction_error_ / np.linalg.norm(X)
print(f"rank kept for 95% of the energy: {compressor.n_components_} of {X.shape[1]}")
print(f"numbers stored / matrix entries: {compressor.compression_ratio_:.1%}")
print(f"relative Frobenius error:        {relative_error:.3f}")
print(
    f"checked against the rank-k matrix: {np.linalg.norm(X - X_k):.4f} "
    f"= {compressor.reconstruction_error_:.4f}"
)

# %%
# The energy of each component
# ----------------------------
# ``explained_energy_ratio_`` is ``σᵢ² / ‖X‖²_F``. It never increases along the
# components, so its cumulative sum reads as "how much of the matrix the first k
# components keep".
energy = pd.Series(
    np.cumsum(compressor.explained_energy_ratio_),
    index=pd.RangeIndex(1, compressor.n_components_ + 1, name="rank"),
    name="cumulative energy",
)
print(energy.iloc[[0, 1, 4, 9, -1]].round(3).to_string())

# %%
# Let the classifier choose the rank
# ----------------------------------
# Inside a :class:`~sklearn.pipeline.Pipeline` the rank is a hyper-parameter like
# any other. ``set_output(transform="pandas")`` keeps named columns flowing to the
# classifier.
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)
pipeline = make_pipeline(
    TruncatedSVDCompressor(random_state=0), LogisticRegression(max_iter=5000)
).set_output(transform="pandas")
search = GridSearchCV(
    pipeline, {"truncatedsvdcompressor__n_components": [2, 5, 10, 20, 40]}, cv=3
)
search.fit(X_train, y_train)

results = pd.DataFrame(search.cv_results_)[
    ["param_truncatedsvdcompressor__n_components", "mean_test_score"]
].rename(columns={"param_truncatedsvdcompressor__n_components": "rank"})
print(results.round(3).to_string(index=False))
best_rank = search.best_params_["truncatedsvdcompressor__n_components"]
print(f"best rank: {best_rank}; held-out accuracy: {search.score(X_test, y_test):.3f}")

# %%
# A handful of components already separate the ten digits well, and past about
# twenty the classifier gains little: most of the 64 pixels are redundant.
