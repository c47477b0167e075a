"""PSNR and SSIM with known answers, and the Y channel of BT.601."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fitroom.errors import InputError
from fitroom.superres.data import rgb_to_y
from fitroom.superres.metrics import psnr, psnr_y, ssim, ssim_y


def test_psnr_of_known_mse() -> None:
    a = np.full((8, 8), 100, dtype=np.uint8)
    b = a + 10  # MSE = 100
    assert psnr(a, b) == pytest.approx(10 * math.log10(255**2 / 100), abs=1e-9)
    assert psnr(a, a) == math.inf


def test_psnr_y_shaves_the_border() -> None:
    rng = np.random.default_rng(0)
    hr = rng.integers(0, 256, size=(20, 20, 3), dtype=np.uint8)
    sr = hr.copy()
    sr[:2] = 0  # differs only in a 2-px border
    assert math.isfinite(psnr_y(sr, hr, shave_px=1))
    assert psnr_y(sr, hr, shave_px=2) == math.inf


def test_y_channel_is_bt601_as_matlab() -> None:
    white = np.full((1, 1, 3), 255, dtype=np.uint8)
    black = np.zeros((1, 1, 3), dtype=np.uint8)
    assert rgb_to_y(white)[0, 0] == pytest.approx(235.0)
    assert rgb_to_y(black)[0, 0] == pytest.approx(16.0)
    red = np.array([[[255, 0, 0]]], dtype=np.uint8)
    assert rgb_to_y(red)[0, 0] == pytest.approx(16 + 65.481)


def test_ssim_of_identical_images_is_one() -> None:
    image = np.random.default_rng(1).integers(0, 256, size=(32, 40)).astype(np.float64)
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-12)
    rgb = np.random.default_rng(2).integers(0, 256, size=(24, 24, 3), dtype=np.uint8)
    assert ssim_y(rgb, rgb, shave_px=2) == pytest.approx(1.0, abs=1e-12)


def test_ssim_of_constant_images_has_closed_form() -> None:
    # Zero variance: SSIM = (2 a b + C1) / (a^2 + b^2 + C1) with C1 = (0.01 * 255)^2.
    a, b = 100.0, 120.0
    c1 = (0.01 * 255) ** 2
    expected = (2 * a * b + c1) / (a * a + b * b + c1)
    assert ssim(np.full((16, 16), a), np.full((16, 16), b)) == pytest.approx(expected, rel=1e-9)


def test_ssim_of_signal_plus_noise_matches_theory() -> None:
    # Independent noise of variance n on a signal of variance v (same means):
    # SSIM ~= (2 v + C2) / (2 v + n + C2), C2 = (0.03 * 255)^2.
    rng = np.random.default_rng(3)
    image = rng.integers(0, 256, size=(64, 64)).astype(np.float64)
    noisy = image + rng.normal(0, 20, size=image.shape)
    v, n, c2 = image.var(), 20.0**2, (0.03 * 255) ** 2
    assert ssim(image, noisy) == pytest.approx((2 * v + c2) / (2 * v + n + c2), abs=0.01)
    assert ssim(image, image + rng.normal(0, 60, size=image.shape)) < 0.85


def test_shape_mismatch_is_an_input_error() -> None:
    with pytest.raises(InputError, match="differ in shape"):
        psnr(np.zeros((4, 4)), np.zeros((4, 5)))
