"""
Bytes on disk: truncated SVD against JPEG
=========================================

Counting stored numbers flatters the SVD: what a user pays is bytes on disk. Here
every point is a real file. For the SVD, :func:`sksvd.image.compress_image`
quantizes the factors to 8 bits per entry and :meth:`~sksvd.image.CompressedImage.save`
deflates them; for JPEG, Pillow writes the image at one quality.
:func:`sksvd.image.rate_distortion` measures both on the same image and reports
the peak signal-to-noise ratio (PSNR) of each file against the original.

Two images show the two sides of the comparison: a photograph, whose detail is
spread over hundreds of small singular values, and a line-art tartan whose
pattern has rank three but sharp edges, which JPEG's 8 × 8 cosine blocks can
only approximate.
"""

# %%
# The two images
# --------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_image

from sksvd.image import rate_distortion

photo = load_sample_image("china.jpg")
grey = np.rint(photo @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)

x = np.linspace(0, 1, 480)


def stripes(frequency, phase):
    return (np.sin(2 * np.pi * frequency * x + phase) > 0).astype(float)


tartan = (
    40
    + 80 * np.outer(stripes(5, 0.0), stripes(7, 0.3))
    + 60 * np.outer(stripes(11, 1.0), np.ones(x.size))
    + 60 * np.outer(np.ones(x.size), stripes(3, 2.0))
).astype(np.uint8)
print("tartan rank:", np.linalg.matrix_rank(tartan.astype(float)))

figure, axes = plt.subplots(1, 2, figsize=(9, 3.6))
for ax, image, title in zip(
    axes, (grey, tartan), ("photograph", "tartan"), strict=True
):
    ax.imshow(image, cmap="gray", vmin=0, vmax=255)
    ax.set_title(title)
    ax.axis("off")

# %%
# PSNR against bytes
# ------------------
# The SVD is computed once per image, at the largest rank, and truncated; each
# truncation is saved to memory to count its bytes.
tables = {"photograph": rate_distortion(grey), "tartan": rate_distortion(tartan)}

figure, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, (name, table) in zip(axes, tables.items(), strict=True):
    for method, marker in (("svd", "o"), ("jpeg", "s")):
        rows = table[table["method"] == method]
        label = "truncated SVD, 8-bit factors" if method == "svd" else "JPEG"
        ax.plot(
            rows["bytes"] / 1000,
            rows["psnr"].clip(upper=80),
            marker=marker,
            label=label,
        )
    ax.set_xscale("log")
    ax.set_xlabel("file size (kB, log scale)")
    ax.set_ylabel("PSNR (dB)")
    ax.set_title(name)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
figure.tight_layout()

# %%
# How many bytes for 30 dB
# ------------------------
# Interpolating each curve at 30 dB (PSNR rises with the bytes on both):


def bytes_for(table, method, target=30.0):
    rows = table[table["method"] == method].sort_values("bytes")
    return float(np.interp(target, rows["psnr"], rows["bytes"]))


for name, table in tables.items():
    svd, jpeg = bytes_for(table, "svd"), bytes_for(table, "jpeg")
    print(
        f"{name}: 30 dB takes {svd / 1000:.1f} kB by SVD, {jpeg / 1000:.1f} kB by "
        f"JPEG ({svd / jpeg:.2f}x)"
    )

# %%
# Where each wins
# ---------------
# On the photograph the SVD loses clearly: its singular values fall slowly after
# the first few, so every decibel costs whole components of ``m + n`` entries,
# while JPEG spends its bytes locally, where the detail is. On the tartan the
# SVD wins by far: three components describe the pattern exactly, and their
# quantization error is all that remains, whereas JPEG pays for every sharp edge.
# Low-rank images (plaids, charts, scanned forms with ruled lines, images of
# matrices) are where a rank-k code beats a transform code; photographs are not.
