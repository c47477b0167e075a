"""Silhouette features on drawn silhouettes whose widths are known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from fitroom.body.features import (
    LEVEL_FRACTIONS,
    THIGH_FRACTIONS,
    ViewFeatures,
    mirror_average,
    run_containing,
    view_features,
)
from fitroom.vision.pose import LANDMARK_COUNT, Landmark, PoseObservation
from fitroom.vision.quality import PersonRegion


def _observation(
    points: dict[Landmark, tuple[float, float]], shape: tuple[int, int]
) -> PoseObservation:
    landmarks = np.zeros((LANDMARK_COUNT, 2))
    for landmark, xy in points.items():
        landmarks[int(landmark)] = xy
    return PoseObservation(
        landmarks_px=landmarks,
        visibility=np.ones(LANDMARK_COUNT),
        world_m=np.zeros((LANDMARK_COUNT, 3)),
        mask=np.zeros(shape, np.float32),
        faces=(),
    )


def test_run_containing_finds_the_run_and_not_the_gap() -> None:
    row = np.zeros(50, bool)
    row[5:15] = True
    row[20:40] = True
    assert run_containing(row, 25.0) == (20, 40)
    assert run_containing(row, 16.0) == (5, 15)  # within 2 px of the run's edge
    assert run_containing(row, 17.0) is None  # in the gap, 3 px from either run
    assert run_containing(row, -3.0) is None


def test_widths_of_a_drawn_figure_are_its_widths_over_stature() -> None:
    # A 1000-px-tall figure on a 1200 x 800 canvas: torso 200 px wide from 45% of
    # stature up, two legs 70 px wide with a 60 px gap below; arms away at the sides.
    height, width, top, stature = 1200, 800, 100, 1000
    floor = top + stature - 1
    mask = np.zeros((height, width), bool)
    centre = 400
    crotch_row = floor - int(0.45 * stature)
    mask[top:crotch_row, centre - 100 : centre + 100] = True  # torso and head block
    mask[crotch_row : floor + 1, centre - 100 : centre - 30] = True  # right leg
    mask[crotch_row : floor + 1, centre + 30 : centre + 100] = True  # left leg
    mask[top + 200 : top + 500, centre - 190 : centre - 150] = True  # arms, apart
    mask[top + 200 : top + 500, centre + 150 : centre + 190] = True
    region = PersonRegion(mask=mask, top_row=top, bottom_row=floor)
    observation = _observation(
        {
            Landmark.left_shoulder: (centre + 90, top + 180),
            Landmark.right_shoulder: (centre - 90, top + 180),
            Landmark.left_hip: (centre + 65, crotch_row - 20),
            Landmark.right_hip: (centre - 65, crotch_row - 20),
            Landmark.left_knee: (centre + 65, floor - 280),
            Landmark.right_knee: (centre - 65, floor - 280),
        },
        mask.shape,
    )
    features = view_features("front", region, observation)
    assert features.stature_px == stature
    for fraction, value in zip(LEVEL_FRACTIONS, features.widths, strict=True):
        if fraction > 0.46:
            assert abs(value - 200 / stature) < 1e-9, fraction  # torso only, arms excluded
        elif fraction < 0.44:
            assert value == 0.0, fraction  # the centre falls between the legs
    assert np.allclose(features.thigh_widths, 70 / stature)
    assert abs(features.shoulder_width - 180 / stature) < 1e-9
    assert features.vector().shape == (len(LEVEL_FRACTIONS) + 6 + 2,)


def _features(widths: float, thighs: list[float], shoulder: float) -> ViewFeatures:
    levels = len(LEVEL_FRACTIONS)
    return ViewFeatures(
        view="front",
        stature_px=1000.0,
        widths=np.full(levels, widths),
        thigh_widths=np.array(thighs),
        shoulder_width=shoulder,
        hip_width=0.2,
        level_rows=np.arange(levels),
        centre_columns=np.full(levels, 400.0),
    )


def test_mirror_average_is_the_same_for_a_photo_and_its_mirror_image() -> None:
    assert len(THIGH_FRACTIONS) == 3
    photo = _features(0.20, [0.10, 0.11, 0.12, 0.13, 0.14, 0.15], 0.24)
    mirror = _features(0.22, [0.16, 0.17, 0.18, 0.10, 0.11, 0.12], 0.26)
    averaged = mirror_average(photo, mirror)
    assert np.allclose(averaged.widths, 0.21)
    assert averaged.shoulder_width == pytest.approx(0.25)
    # Each thigh level: the mean of both legs in both images, for either leg.
    expected = [(0.10 + 0.13 + 0.16 + 0.10) / 4, (0.11 + 0.14 + 0.17 + 0.11) / 4]
    assert np.allclose(averaged.thigh_widths[:2], expected)
    assert np.allclose(averaged.thigh_widths[3:5], expected)
    # Swapping the roles gives the same vector: the model cannot tell them apart.
    assert np.allclose(
        averaged.vector(), mirror_average(mirror, photo).vector(), rtol=0, atol=1e-15
    )
    assert np.array_equal(averaged.level_rows, photo.level_rows)  # drawing: the photo's
