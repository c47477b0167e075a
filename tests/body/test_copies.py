"""Altered photo copies and the feature residuals between them (known answers)."""

from __future__ import annotations

import numpy as np
import pytest

from fitroom.body.copies import COPY_NAMES, altered_copies, copy_residuals, rotated


def test_copies_are_the_named_changes_of_the_photo() -> None:
    rgb = np.zeros((1280, 960, 3), dtype=np.uint8)
    rgb[:, :480] = 200  # left half bright
    copies = altered_copies(rgb, "front")
    assert [c.name for c in copies] == list(COPY_NAMES)
    by_name = {c.name: c for c in copies}
    assert by_name["original"].rgb.shape == (1280, 960, 3)
    assert by_name["mirrored"].rgb[0, 0, 0] == 0 and by_name["mirrored"].rgb[0, -1, 0] == 200
    # 20 px off the top, 5 off the bottom, 40 off each side of a 1280 x 960 front photo.
    assert by_name["cropped"].rgb.shape == (1255, 880, 3)
    assert altered_copies(rgb, "side")[2].rgb.shape == (1255, 840, 3)
    assert by_name["0.7x size"].rgb.shape == (896, 672, 3)
    assert by_name["jpeg q60"].jpeg_quality == 60
    assert all(c.jpeg_quality == 92 for c in copies if c.name != "jpeg q60")
    assert all(c.rgb.flags.c_contiguous for c in copies)
    with pytest.raises(ValueError, match="view"):
        altered_copies(rgb, "back")


def test_rotation_turns_about_the_centre() -> None:
    rgb = np.zeros((101, 101, 3), dtype=np.uint8)
    rgb[50, 60:] = 255  # a ray to the right of the centre
    turned = rotated(rgb, 90.0)  # anticlockwise: the ray now points up
    assert turned[5:40, 50].min() == 255
    assert turned[50, 60:].max() == 0


def test_residuals_about_each_bodys_mean_scaled_to_one_copy() -> None:
    features = np.array(
        [
            [[1.0, 10.0], [3.0, 10.0], [99.0, 99.0]],  # third copy refused by the gate
            [[5.0, 0.0], [5.0, 2.0], [5.0, 4.0]],
            [[7.0, 7.0], [0.0, 0.0], [0.0, 0.0]],  # one gated copy: no residual
        ]
    )
    ok = np.array([[True, True, False], [True, True, True], [True, False, False]])
    residuals = copy_residuals(features, ok)
    root2, root15 = np.sqrt(2.0), np.sqrt(1.5)
    expected = np.array(
        [
            [-1.0 * root2, 0.0],
            [1.0 * root2, 0.0],
            [0.0, -2.0 * root15],
            [0.0, 0.0],
            [0.0, 2.0 * root15],
        ]
    )
    np.testing.assert_allclose(residuals, expected)
    # Unbiased: the mean square of many copies' residuals is the copies' variance.
    rng = np.random.default_rng(0)
    noisy = rng.normal(0.0, 0.5, size=(4000, 3, 1))
    spread = copy_residuals(noisy, np.ones((4000, 3), dtype=bool)).std()
    assert spread == pytest.approx(0.5, rel=0.03)


def test_residuals_of_nothing_and_bad_shapes() -> None:
    assert copy_residuals(np.zeros((2, 3, 4)), np.zeros((2, 3), dtype=bool)).shape == (0, 4)
    with pytest.raises(ValueError, match="bodies x copies"):
        copy_residuals(np.zeros((2, 3)), np.zeros((2, 3), dtype=bool))
