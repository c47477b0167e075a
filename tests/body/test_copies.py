"""Altered photo copies (known answers)."""

from __future__ import annotations

import numpy as np
import pytest

from fitroom.body.copies import COPY_NAMES, altered_copies, rotated


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
    # Each copy is sent as a JPEG file at its own quality: q60 is the smaller file.
    noisy = np.random.default_rng(0).integers(0, 256, (1280, 960, 3), dtype=np.uint8)
    sent = {c.name: c.jpeg() for c in altered_copies(noisy, "front")}
    assert all(data[:2] == b"\xff\xd8" for data in sent.values())
    assert len(sent["jpeg q60"]) < 0.8 * len(sent["original"])
    with pytest.raises(ValueError, match="view"):
        altered_copies(rgb, "back")


def test_rotation_turns_about_the_centre() -> None:
    rgb = np.zeros((101, 101, 3), dtype=np.uint8)
    rgb[50, 60:] = 255  # a ray to the right of the centre
    turned = rotated(rgb, 90.0)  # anticlockwise: the ray now points up
    assert turned[5:40, 50].min() == 255
    assert turned[50, 60:].max() == 0
