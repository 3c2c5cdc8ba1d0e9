"""
PCA of data that is never in memory, with dask
==============================================

A dask array describes data chunk by chunk; :class:`~sksvd.PCAViaSVD` fits it
with two passes (statistics, then a TSQR of the centred data), keeps only a few
chunks in memory at a time, and returns NumPy attributes. ``transform`` stays
lazy. Here a million rows of 20 correlated sensor readings are generated chunk by
chunk: in a real pipeline they would come from zarr or HDF5 files.
"""

# %%
# A million rows, generated chunk by chunk
# ----------------------------------------
# Three hidden factors drive 20 sensors with different gains and offsets.
import time

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

from sksvd import PCAViaSVD

n_rows, n_sensors, chunk = 1_000_000, 20, 100_000
rng = np.random.default_rng(0)
loadings = rng.standard_normal((3, n_sensors)) * [[3.0], [2.0], [1.0]]
offsets = rng.uniform(10, 100, n_sensors)
gains = rng.uniform(0.5, 5, n_sensors)


def sensor_block(block_info=None):
    """One chunk of readings, reproducible from its position."""
    (start, stop), _ = block_info[None]["array-location"]
    block_rng = np.random.default_rng(start)
    factors = block_rng.standard_normal((stop - start, 3))
    noise = 0.3 * block_rng.standard_normal((stop - start, n_sensors))
    return (factors @ loadings + noise) * gains + offsets


X = da.map_blocks(
    sensor_block,
    chunks=((chunk,) * (n_rows // chunk), (n_sensors,)),
    dtype=np.float64,
)
print(
    f"{X.shape[0]:,} × {X.shape[1]} float64 = {X.nbytes / 1e6:.0f} MB, "
    f"{X.numblocks[0]} chunks"
)

# %%
# Fit on the correlation matrix
# -----------------------------
# The sensors have different units and gains, so each is scaled to unit
# variance; the three factors then stand out from the noise.
with dask.config.set(scheduler="threads"):
    start = time.perf_counter()
    pca = PCAViaSVD(5, matrix="correlation").fit(X)
    print(f"fit in {time.perf_counter() - start:.1f} s with solver {pca.solver_!r}")
print("variance ratios:", pca.explained_variance_ratio_.round(3))
print("attributes are NumPy:", type(pca.components_).__name__)

# %%
# Lazy scores
# -----------
# ``transform`` builds a task graph; computing a slice reads only the chunks it
# needs.
scores = pca.transform(X)
print(type(scores).__name__, scores.shape)
print(scores[:3].compute().round(2))

fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(np.arange(1, 6), pca.explained_variance_ratio_)
ax.set_xlabel("component")
ax.set_ylabel("explained variance ratio")
ax.set_title("Three factors behind twenty sensors")
fig.tight_layout()
