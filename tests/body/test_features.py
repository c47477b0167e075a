"""Silhouette features on drawn silhouettes whose widths are known exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from fitroom.body.features import (
    LEAK_END_FRACTION,
    LEAK_FRACTION,
    LEVEL_FRACTIONS,
    THIGH_FRACTIONS,
    ViewFeatures,
    leak_free_edges,
    mirror_average,
    run_containing,
    shifted_view_features,
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


def _drawn_front(leak_px: int = 0, notch_px: int = 0) -> tuple[PersonRegion, PoseObservation, int]:
    """A 1000-px-tall figure on a 1200 x 800 canvas: torso 200 px wide from 45% of
    stature up, two legs 70 px wide with a 60 px gap below; arms away at the sides. On
    the torso's left side, between 45.5% and 49.5% of stature (below the arms), the mask
    runs ``leak_px`` further out (something touching the body); on its right side,
    between 50% and 53%, it is ``notch_px`` narrower (a real dip)."""
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
    leak_rows = slice(floor - 495, floor - 455)
    mask[leak_rows, centre - 100 - leak_px : centre - 100] = True
    notch_rows = slice(floor - 530, floor - 500)
    mask[notch_rows, centre + 100 - notch_px : centre + 100] = False
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
    return region, observation, stature


def test_run_containing_finds_the_run_and_not_the_gap() -> None:
    row = np.zeros(50, bool)
    row[5:15] = True
    row[20:40] = True
    assert run_containing(row, 25.0) == (20, 40)
    assert run_containing(row, 16.0) == (5, 15)  # within 2 px of the run's edge
    assert run_containing(row, 17.0) is None  # in the gap, 3 px from either run
    assert run_containing(row, -3.0) is None


def test_widths_of_a_drawn_figure_are_its_widths_over_stature() -> None:
    region, observation, stature = _drawn_front()
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


def test_a_mask_leak_beside_the_torso_is_not_measured_but_a_real_dip_is() -> None:
    leak_px = round(3 * LEAK_FRACTION * 1000)  # 3x the limit
    region, observation, stature = _drawn_front(leak_px=leak_px, notch_px=30)
    features = view_features("front", region, observation)
    by_level = dict(zip(LEVEL_FRACTIONS, features.widths, strict=True))
    assert by_level[0.46] == by_level[0.48] == pytest.approx(200 / stature)  # leak ignored
    assert by_level[0.52] == pytest.approx(170 / stature)  # the dip is the body's own
    assert features.leak_rows == 40
    # The same leak in profile is measured as it is: there bumps are the body's shape.
    side = view_features("side", region, observation)
    assert dict(zip(LEVEL_FRACTIONS, side.widths, strict=True))[0.46] == pytest.approx(
        (200 + leak_px) / stature
    )
    # Below the limit nothing is replaced.
    small, observation, _ = _drawn_front(leak_px=round(0.5 * LEAK_FRACTION * 1000), notch_px=0)
    assert view_features("front", small, observation).leak_rows == 0


def test_leak_free_edges_replaces_only_outward_outliers() -> None:
    left = np.full(21, 100.0)
    right = np.full(21, 300.0)
    left[10], right[11], left[12] = 60.0, 340.0, 130.0  # out, out, in
    fixed_left, fixed_right, replaced = leak_free_edges(left, right, window_rows=5, limit_px=20)
    assert replaced == 2
    assert fixed_left[10] == 100.0 and fixed_right[11] == 300.0 and fixed_left[12] == 130.0
    left[3] = np.nan  # no run on a row: left alone, and not counted as a neighbour
    right[3] = np.nan
    fixed_left, _, _ = leak_free_edges(left, right, window_rows=5, limit_px=20)
    assert np.isnan(fixed_left[3])


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


def test_levels_near_a_replaced_leak_edge_are_marked() -> None:
    leak_px = round(3 * LEAK_FRACTION * 1000)
    region, observation, _ = _drawn_front(leak_px=leak_px)
    front = view_features("front", region, observation)
    # The leak spans 45.5-49.5% of stature; levels within 2% of it are near it.
    expected = [0.435 <= f <= 0.515 for f in LEVEL_FRACTIONS]
    assert front.leak_near is not None and front.leak_near.tolist() == expected
    clean, observation, _ = _drawn_front()
    clean_near = view_features("front", clean, observation).leak_near
    assert clean_near is not None and not clean_near.any()
    side = view_features("side", region, observation)  # no leak check in profile
    assert side.leak_near is not None and not side.leak_near.any()


def test_mirror_average_keeps_the_leak_free_width_where_only_one_image_leaked() -> None:
    levels = len(LEVEL_FRACTIONS)
    plain = _features(0.20, [0.1] * 6, 0.24)
    photo = dataclasses.replace(plain, leak_near=np.zeros(levels, bool))
    wide, near = photo.widths.copy(), np.zeros(levels, bool)
    far, close = 0.20 + 2 * LEAK_END_FRACTION, 0.20 + 0.5 * LEAK_END_FRACTION
    wide[[3, 8, 10]] = far, far, close
    near[[3, 10]] = True  # leak edges replaced near levels 3 and 10 of the mirror image
    mirror = dataclasses.replace(photo, widths=wide, leak_near=near)
    averaged = mirror_average(photo, mirror)
    assert averaged.widths[3] == 0.20  # apart, and only the mirror image leaked there
    assert averaged.widths[8] == pytest.approx((0.20 + far) / 2)  # apart, no leak: mean
    assert averaged.widths[10] == pytest.approx((0.20 + close) / 2)  # close: the mean
    assert np.array_equal(averaged.widths, mirror_average(mirror, photo).widths)
    # Both images near a leak: nothing to prefer, the mean.
    both = mirror_average(dataclasses.replace(photo, leak_near=near), mirror)
    assert both.widths[3] == pytest.approx((0.20 + far) / 2)
    # Features made without the flags: the plain mean.
    old = mirror_average(plain, dataclasses.replace(plain, widths=wide))
    assert old.widths[3] == pytest.approx((0.20 + far) / 2)


def test_shifted_levels_move_every_level_by_the_shift() -> None:
    region, observation, stature = _drawn_front(leak_px=round(3 * LEAK_FRACTION * 1000))
    centre, up, down = shifted_view_features(
        "front", region, observation, True, (0.0, 0.015, -0.01)
    )
    plain = view_features("front", region, observation)
    assert np.array_equal(centre.vector(), plain.vector())
    assert np.array_equal(centre.level_rows, plain.level_rows)
    assert np.array_equal(up.level_rows, plain.level_rows - 15)  # 1.5% of 1000 px, higher
    assert np.array_equal(down.level_rows, plain.level_rows + 10)
    assert up.leak_rows == centre.leak_rows == 40  # the edges are found once for all
    by_level = {
        shift: dict(zip(LEVEL_FRACTIONS, f.widths, strict=True))
        for shift, f in ((0.0, centre), (0.015, up), (-0.01, down))
    }
    # The crotch is at 45% of stature: the 0.44 level reads the torso once moved up 1.5%,
    # and the 0.46 level falls between the legs once moved down 1%.
    assert by_level[0.0][0.44] == 0.0 and by_level[0.015][0.44] == pytest.approx(200 / stature)
    assert by_level[0.0][0.46] == pytest.approx(200 / stature) and by_level[-0.01][0.46] == 0.0
    alone = view_features("front", region, observation, level_shift=0.015)
    assert np.array_equal(alone.vector(), up.vector())
