"""Try-on quality measures: SSIM and PSNR over the whole image or inside a region.

SSIM is Wang et al. (2004) with the usual Gaussian window (sigma 1.5, K1 0.01,
K2 0.03, 8-bit range), computed per RGB channel and averaged; the region figure is the
mean of the SSIM map over the region's pixels. PSNR inside a region uses the mean
squared error over the region's pixels (all three channels).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2


def ssim_map(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> NDArray[np.float64]:
    """Per-pixel SSIM (H x W) of two same-size RGB images, averaged over channels."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    x = a.astype(np.float64)
    y = b.astype(np.float64)

    def blur(v: NDArray[np.float64]) -> NDArray[np.float64]:
        out = cv2.GaussianBlur(v, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)
        return np.asarray(out, dtype=np.float64)

    mu_x, mu_y = blur(x), blur(y)
    sxx = blur(x * x) - mu_x**2
    syy = blur(y * y) - mu_y**2
    sxy = blur(x * y) - mu_x * mu_y
    num = (2 * mu_x * mu_y + _C1) * (2 * sxy + _C2)
    den = (mu_x**2 + mu_y**2 + _C1) * (sxx + syy + _C2)
    values: NDArray[np.float64] = num / den
    return values.mean(axis=2) if values.ndim == 3 else values


def ssim(
    a: NDArray[np.uint8], b: NDArray[np.uint8], region: NDArray[np.bool_] | None = None
) -> float:
    """Mean SSIM over the image, or over ``region`` when given."""
    values = ssim_map(a, b)
    return float(values[region].mean() if region is not None else values.mean())


def psnr(
    a: NDArray[np.uint8], b: NDArray[np.uint8], region: NDArray[np.bool_] | None = None
) -> float:
    """PSNR in dB (8-bit peak) over the image, or over ``region`` when given."""
    diff = a.astype(np.float64) - b.astype(np.float64)
    squared = diff**2
    mse = float(squared[region].mean() if region is not None else squared.mean())
    return float("inf") if mse == 0 else 10.0 * np.log10(255.0**2 / mse)
