"""
Compressing a photograph: storage against quality
=================================================

A photograph is a matrix per colour channel, and its singular values fall fast:
a few components carry the broad shapes, many small ones the texture. Keeping
``k`` of them stores ``k(m + n + 1)`` numbers per channel instead of ``m·n``.
This example compresses scikit-learn's sample photograph in grey and in colour
with :func:`sksvd.image.compress_image` and traces the trade between storage and
peak signal-to-noise ratio (PSNR).
"""

# %%
# The photograph and its grey version
# -----------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_sample_image

from sksvd.image import compress_image
from sksvd.plotting import RankGridDisplay

photo = load_sample_image("china.jpg")  # 427 × 640 × 3, uint8
grey = np.rint(photo @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
print(f"photo {photo.shape}, {photo.nbytes / 1e3:.0f} kB of pixels")

# %%
# The image at four ranks
# -----------------------
# One SVD at the largest rank gives every smaller truncation.
RankGridDisplay.from_image(grey, ranks=(5, 10, 20, 50))

# %%
# Storage against PSNR
# --------------------
# PSNR rises steadily with the rank while storage grows linearly; in colour each
# channel gets its own factors, so the storage ratio is the same and the PSNR
# close to the grey one.
ranks = [2, 5, 10, 20, 40, 80, 160]
rows = []
for rank in ranks:
    g = compress_image(grey, rank=rank)
    c = compress_image(photo, rank=rank)
    rows.append((rank, g.storage_ratio, g.psnr, c.psnr))
    print(
        f"rank {rank:>3}: storage {g.storage_ratio:6.1%}, PSNR grey {g.psnr:5.2f} dB, "
        f"colour {c.psnr:5.2f} dB"
    )
rows = np.array(rows)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(100 * rows[:, 1], rows[:, 2], "o-", label="grey")
ax.plot(100 * rows[:, 1], rows[:, 3], "s--", label="colour")
for rank, storage, psnr in rows[:, :3]:
    ax.annotate(
        f"r={int(rank)}",
        (100 * storage, psnr),
        xytext=(4, -12),
        textcoords="offset points",
        fontsize=8,
    )
ax.set_xlabel("storage (% of the pixels)")
ax.set_ylabel("PSNR (dB)")
ax.set_title("What each percent of storage buys")
ax.legend()
fig.tight_layout()

# %%
# Choosing the rank by energy
# ---------------------------
# ``energy`` keeps, per channel, the smallest rank holding that fraction of the
# channel's squared norm. Because a photograph's mean brightness alone carries
# most of the energy, useful fractions are close to one.
for energy in (0.99, 0.995, 0.999):
    c = compress_image(photo, energy=energy)
    print(
        f"energy {energy}: ranks {c.ranks}, storage {c.storage_ratio:.1%}, "
        f"PSNR {c.psnr:.2f} dB"
    )
