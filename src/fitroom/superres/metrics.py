"""Image quality as SR papers report it: PSNR and SSIM on the Y channel, border shaved.

Protocol (SRCNN onward): convert both images to Y (ITU-R BT.601, MATLAB
``rgb2ycbcr``), drop ``shave_px`` = scale pixels at each border, then PSNR with peak
255 and SSIM after Wang et al. (IEEE TIP 2004): 11 x 11 Gaussian window, sigma 1.5,
K1 = 0.01, K2 = 0.03, "valid" filtering (as ``ssim_index.m``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import InputError
from fitroom.superres.data import ImagePair, rgb_to_y


def _check_pair(a: NDArray[np.generic], b: NDArray[np.generic]) -> None:
    if a.shape != b.shape:
        raise InputError(f"images differ in shape: {a.shape} vs {b.shape}")


def _shave(image: NDArray[np.float64], shave_px: int) -> NDArray[np.float64]:
    if shave_px <= 0:
        return image
    return image[shave_px:-shave_px, shave_px:-shave_px]


def psnr(a: NDArray[np.generic], b: NDArray[np.generic], peak: float = 255.0) -> float:
    """Peak signal-to-noise ratio in dB of two same-shape arrays (inf when equal)."""
    _check_pair(a, b)
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    if mse == 0.0:
        return float("inf")
    return 10.0 * float(np.log10(peak * peak / mse))


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> NDArray[np.float64]:
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g: NDArray[np.float64] = np.exp(-(coords**2) / (2.0 * sigma * sigma))
    return np.asarray(g / g.sum(), dtype=np.float64)


def _filter_valid(image: NDArray[np.float64], g: NDArray[np.float64]) -> NDArray[np.float64]:
    """Separable 'valid' correlation with the 1-D window ``g`` on both axes."""
    k = g.size
    rows = sum(g[i] * image[i : image.shape[0] - k + 1 + i] for i in range(k))
    cols = sum(g[i] * rows[:, i : rows.shape[1] - k + 1 + i] for i in range(k))
    return np.asarray(cols, dtype=np.float64)


def ssim(a: NDArray[np.generic], b: NDArray[np.generic], peak: float = 255.0) -> float:
    """Mean SSIM of two single-channel images (Wang et al. 2004, Gaussian window)."""
    _check_pair(a, b)
    if a.ndim != 2:
        raise InputError(f"ssim needs single-channel H x W images; got shape {a.shape}")
    if min(a.shape) < 11:
        raise InputError(f"ssim needs images of at least 11 x 11 px; got {a.shape}")
    x, y = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    g = _gaussian_window()
    mu_x, mu_y = _filter_valid(x, g), _filter_valid(y, g)
    sigma_xx = _filter_valid(x * x, g) - mu_x**2
    sigma_yy = _filter_valid(y * y, g) - mu_y**2
    sigma_xy = _filter_valid(x * y, g) - mu_x * mu_y
    numerator = (2 * mu_x * mu_y + c1) * (2 * sigma_xy + c2)
    denominator = (mu_x**2 + mu_y**2 + c1) * (sigma_xx + sigma_yy + c2)
    return float(np.mean(numerator / denominator))


def psnr_y(sr: NDArray[np.generic], hr: NDArray[np.generic], shave_px: int) -> float:
    """PSNR on Y (BT.601) of two RGB uint8-range images, ``shave_px`` border dropped."""
    _check_pair(sr, hr)
    return psnr(_shave(rgb_to_y(sr), shave_px), _shave(rgb_to_y(hr), shave_px))


def ssim_y(sr: NDArray[np.generic], hr: NDArray[np.generic], shave_px: int) -> float:
    """SSIM on Y (BT.601) of two RGB uint8-range images, ``shave_px`` border dropped."""
    _check_pair(sr, hr)
    return ssim(_shave(rgb_to_y(sr), shave_px), _shave(rgb_to_y(hr), shave_px))


@dataclass(frozen=True)
class ImageScore:
    name: str
    psnr_db: float
    ssim: float


@dataclass(frozen=True)
class EvaluationResult:
    """Mean and per-image Y-PSNR / Y-SSIM of one model on one image set."""

    model: str
    scale: int
    psnr_db: float
    ssim: float
    images: list[ImageScore]


def evaluate(
    upscale: Callable[[NDArray[np.uint8]], NDArray[np.uint8]],
    pairs: list[ImagePair],
    scale: int,
    model: str,
) -> EvaluationResult:
    """The standard SR protocol on (HR, bicubic LR) pairs: upscale LR, score on Y.

    ``upscale`` maps an H x W x 3 uint8 LR image to the sH x sW x 3 uint8 result;
    ``scale`` border pixels are shaved before PSNR and SSIM.
    """
    scores = []
    for pair in pairs:
        sr = upscale(pair.lr)
        scores.append(
            ImageScore(
                name=pair.name,
                psnr_db=psnr_y(sr, pair.hr, shave_px=scale),
                ssim=ssim_y(sr, pair.hr, shave_px=scale),
            )
        )
    return EvaluationResult(
        model=model,
        scale=scale,
        psnr_db=float(np.mean([s.psnr_db for s in scores])),
        ssim=float(np.mean([s.ssim for s in scores])),
        images=scores,
    )
