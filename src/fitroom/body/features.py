"""Silhouette features of a gated photo: widths (front) and depths (side) at fixed levels.

The person's stature in pixels (head top to the lowest foot pixel) sets the scale. At
each level (a fraction of stature above the floor) the feature is the length of the
mask run that contains the body's own centre line, divided by the stature in pixels,
so the arms (held away in the front photo) and the other leg are not counted. Below
the crotch the centre run is empty; each thigh is then measured on the line from its
hip to its knee landmark. Everything is dimensionless: the measurement model multiplies
by the stated height.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fitroom.vision.pose import Landmark, PoseObservation
from fitroom.vision.quality import PersonRegion

#: Levels as fractions of stature above the floor: knee height to the neck base.
LEVEL_FRACTIONS: tuple[float, ...] = tuple(round(0.30 + 0.02 * i, 2) for i in range(28))
#: Levels (fractions of stature) at which each thigh is measured.
THIGH_FRACTIONS: tuple[float, ...] = (0.36, 0.39, 0.42)


@dataclass(frozen=True)
class ViewFeatures:
    """Dimensionless silhouette features of one view, and where they were taken."""

    view: str
    stature_px: float
    widths: NDArray[np.float64]
    thigh_widths: NDArray[np.float64]
    shoulder_width: float
    hip_width: float
    level_rows: NDArray[np.int64]
    centre_columns: NDArray[np.float64]

    def vector(self) -> NDArray[np.float64]:
        """The features as one flat vector (the model's input for this view)."""
        return np.concatenate(
            [self.widths, self.thigh_widths, [self.shoulder_width, self.hip_width]]
        )


def run_containing(row: NDArray[np.bool_], column: float) -> tuple[int, int] | None:
    """The [start, end) of the True run of ``row`` containing ``column`` (or nearest).

    When the column falls in a gap (between the legs), None. Columns within 2 px of a
    run count as inside it, so a landmark a pixel off the edge still finds its run.
    """
    width = row.shape[0]
    col = round(column)
    if col < 0 or col >= width:
        return None
    candidates = [c for c in (col, col - 1, col + 1, col - 2, col + 2) if 0 <= c < width]
    start_col = next((c for c in candidates if row[c]), None)
    if start_col is None:
        return None
    falses = np.flatnonzero(~row)
    left_edges = falses[falses < start_col]
    right_edges = falses[falses > start_col]
    start = int(left_edges[-1]) + 1 if left_edges.size else 0
    end = int(right_edges[0]) if right_edges.size else width
    return start, end


def _interpolate_x(y: float, upper: NDArray[np.float64], lower: NDArray[np.float64]) -> float:
    """x on the line through two landmarks at image row ``y`` (clamped to the segment)."""
    dy = float(lower[1] - upper[1])
    t = 0.0 if abs(dy) < 1e-6 else float(np.clip((y - upper[1]) / dy, 0.0, 1.0))
    return float(upper[0] + t * (lower[0] - upper[0]))


def view_features(view: str, region: PersonRegion, observation: PoseObservation) -> ViewFeatures:
    """Widths (front) or depths (side) of the person at every level, over stature."""
    mask = region.mask
    stature_px = float(region.height_px)
    floor_row = float(region.bottom_row)
    shoulders = observation.midpoint(Landmark.left_shoulder, Landmark.right_shoulder)
    hips = observation.midpoint(Landmark.left_hip, Landmark.right_hip)
    knees = observation.midpoint(Landmark.left_knee, Landmark.right_knee)
    widths, rows, centres = [], [], []
    for fraction in LEVEL_FRACTIONS:
        y = floor_row - fraction * stature_px
        row_index = int(np.clip(round(y), 0, mask.shape[0] - 1))
        # Centre line: shoulders -> hips -> knees midpoints (the torso, then the crotch).
        if y <= hips[1]:
            centre = _interpolate_x(y, shoulders, hips)
        else:
            centre = _interpolate_x(y, hips, knees)
        run = run_containing(mask[row_index], centre)
        widths.append(0.0 if run is None else (run[1] - run[0]) / stature_px)
        rows.append(row_index)
        centres.append(centre)
    thighs = []
    for hip, knee in (
        (Landmark.left_hip, Landmark.left_knee),
        (Landmark.right_hip, Landmark.right_knee),
    ):
        for fraction in THIGH_FRACTIONS:
            y = floor_row - fraction * stature_px
            row_index = int(np.clip(round(y), 0, mask.shape[0] - 1))
            x = _interpolate_x(y, observation.point(hip), observation.point(knee))
            run = run_containing(mask[row_index], x)
            thighs.append(0.0 if run is None else (run[1] - run[0]) / stature_px)
    shoulder_width = float(
        np.linalg.norm(
            observation.point(Landmark.left_shoulder) - observation.point(Landmark.right_shoulder)
        )
    )
    hip_width = float(
        np.linalg.norm(observation.point(Landmark.left_hip) - observation.point(Landmark.right_hip))
    )
    return ViewFeatures(
        view=view,
        stature_px=stature_px,
        widths=np.array(widths, dtype=np.float64),
        thigh_widths=np.array(thighs, dtype=np.float64),
        shoulder_width=shoulder_width / stature_px,
        hip_width=hip_width / stature_px,
        level_rows=np.array(rows, dtype=np.int64),
        centre_columns=np.array(centres, dtype=np.float64),
    )


def mirror_average(original: ViewFeatures, mirrored: ViewFeatures) -> ViewFeatures:
    """The mean of a view's features and those of its left-right mirror image.

    MediaPipe is not mirror-symmetric: the same photo flipped gives a slightly different
    mask and landmarks, and a side photo of someone facing left reads differently from one
    facing right. Averaging the two makes the features exactly the same for a photo and
    its mirror image and halves part of that noise. Which leg is "left" flips with the
    image, so each thigh level gets the mean of both legs in both images (the bodies the
    model learnt from are left-right symmetric). Rows and centre columns (for the debug
    drawing) stay the original's.
    """
    if original.view != mirrored.view:
        raise ValueError(f"views differ: {original.view} and {mirrored.view}")
    levels = len(THIGH_FRACTIONS)
    both = np.concatenate([original.thigh_widths, mirrored.thigh_widths]).reshape(4, levels)
    return ViewFeatures(
        view=original.view,
        stature_px=original.stature_px,
        widths=(original.widths + mirrored.widths) / 2,
        thigh_widths=np.tile(both.mean(axis=0), 2),
        shoulder_width=(original.shoulder_width + mirrored.shoulder_width) / 2,
        hip_width=(original.hip_width + mirrored.hip_width) / 2,
        level_rows=original.level_rows,
        centre_columns=original.centre_columns,
    )
