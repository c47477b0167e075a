"""Camera roll: the body axis's angle, turning a photo upright, and the scan using both.

Synthetic landmarks and images give exact answers; the real A-pose pair (skipped when
``../shared/data`` is absent) checks that a tilted copy is read like the level photo.
"""

from __future__ import annotations

import numpy as np
import pytest

from fitroom.body.scan import photo_features
from fitroom.vision.photo import Photo, decode_photo
from fitroom.vision.pose import Landmark, PoseObservation, pose_estimator
from fitroom.vision.upright import (
    MAX_TILT_DEG,
    TURN_MARGIN_FRACTION,
    body_tilt_deg,
    turned_upright,
)
from tests.conftest import data_dir

APOSES = data_dir() / "people" / "aposes"


def observation_along(
    angle_deg: float, hips: tuple[float, float] = (100.0, 200.0)
) -> PoseObservation:
    """Landmarks on a straight body whose ankles-to-shoulders axis leans ``angle_deg``
    (positive: shoulders to the right), 300 px from ankles to shoulders."""
    landmarks = np.zeros((33, 2))
    direction = np.array([np.sin(np.radians(angle_deg)), -np.cos(np.radians(angle_deg))])
    hip_point = np.array(hips)
    for name, along_px in (("ankle", -150.0), ("hip", 0.0), ("shoulder", 150.0)):
        for side, offset_px in (("left", 20.0), ("right", -20.0)):
            across = np.array([-direction[1], direction[0]]) * offset_px
            landmarks[int(Landmark[f"{side}_{name}"])] = hip_point + along_px * direction + across
    return PoseObservation(
        landmarks_px=landmarks,
        visibility=np.ones(33),
        world_m=np.zeros((33, 3)),
        mask=np.zeros((400, 200), dtype=np.float32),
        faces=(),
    )


@pytest.mark.parametrize("angle_deg", [-7.0, -1.0, 0.0, 2.5, 12.0])
def test_body_tilt_is_the_axis_angle_from_vertical(angle_deg: float) -> None:
    assert body_tilt_deg(observation_along(angle_deg)) == pytest.approx(angle_deg, abs=1e-9)


def test_turning_by_the_tilt_stands_a_leaning_bar_upright() -> None:
    import cv2

    height_px, width_px, angle_deg = 400, 200, 4.0
    observation = observation_along(angle_deg)
    rgb = np.full((height_px, width_px, 3), 230, dtype=np.uint8)
    ankles = observation.midpoint(Landmark.left_ankle, Landmark.right_ankle)
    shoulders = observation.midpoint(Landmark.left_shoulder, Landmark.right_shoulder)
    cv2.line(
        rgb,
        tuple(np.round(ankles).astype(int)),
        tuple(np.round(shoulders).astype(int)),
        (20, 20, 20),
        9,
    )
    leaning = Photo(rgb=rgb, view="front")

    def centre_line(photo: Photo) -> tuple[float, float]:
        """Slope (columns per row) and mean column of the dark bar's centre."""
        dark = photo.rgb[..., 0] < 128
        rows = np.array([r for r in range(90, 310) if dark[r].any()])
        centres = np.array([np.flatnonzero(dark[r]).mean() for r in rows])
        slope, _ = np.polyfit(rows, centres, 1)
        return float(slope), float(centres.mean())

    upright = turned_upright(leaning, observation, body_tilt_deg(observation))
    margin_px = round(TURN_MARGIN_FRACTION * height_px)  # added above and below
    assert upright.rgb.shape == (height_px + 2 * margin_px, width_px, 3)
    assert upright.view == "front"
    assert centre_line(leaning)[0] == pytest.approx(-np.tan(np.radians(angle_deg)), abs=0.005)
    slope, column = centre_line(upright)
    assert abs(slope) < 0.005  # upright: the same column on every row
    assert column == pytest.approx(100.0, abs=1.0)  # turned about the hips


@pytest.mark.skipif(
    not (APOSES / "person_a_front.jpg").is_file(),
    reason=f"real A-pose photos not found in {APOSES} (set FITROOM_DATA_DIR)",
)
def test_a_tilted_copy_of_a_real_photo_is_read_like_the_level_one() -> None:
    estimator = pose_estimator()
    shot = decode_photo((APOSES / "person_a_front.jpg").read_bytes(), view="front")
    # More floor below her feet first (they are near the bottom edge: tilted as shot,
    # one would leave the frame).
    photo = Photo(
        rgb=np.concatenate([shot.rgb, np.repeat(shot.rgb[-1:], 80, axis=0)]), view="front"
    )
    level = photo_features(estimator, photo)
    assert level.turned_deg > MAX_TILT_DEG  # she leans about 2 degrees as shot
    assert abs(body_tilt_deg(estimator.observe(level.photo.rgb))) < 0.5

    tilted = turned_upright(photo, estimator.observe(photo.rgb), -3.0)  # 3 degrees clockwise
    turned = photo_features(estimator, tilted)
    assert turned.turned_deg - level.turned_deg == pytest.approx(3.0, abs=0.6)
    as_tilted = photo_features(estimator, tilted, upright=False)
    assert as_tilted.turned_deg == 0.0 and as_tilted.photo is tilted

    def distance(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.abs(a - b).sum())

    reference = level.features.vector()
    gap_turned = distance(turned.features.vector(), reference)
    gap_tilted = distance(as_tilted.features.vector(), reference)
    assert gap_turned < 0.5 * gap_tilted
