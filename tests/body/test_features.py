"""Silhouette features on drawn silhouettes whose widths are known exactly."""

from __future__ import annotations

import numpy as np

from fitroom.body.features import LEVEL_FRACTIONS, run_containing, view_features
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
