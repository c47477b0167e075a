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

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from fitroom.vision.pose import Landmark, PoseObservation
from fitroom.vision.quality import PersonRegion

#: Levels as fractions of stature above the floor: knee height to the neck base.
LEVEL_FRACTIONS: tuple[float, ...] = tuple(round(0.30 + 0.02 * i, 2) for i in range(28))
#: Levels (fractions of stature) at which each thigh is measured.
THIGH_FRACTIONS: tuple[float, ...] = (0.36, 0.39, 0.42)
#: Mask leaks (front view). Between the armpits and just below the hips, a torso edge
#: further out than this (fraction of stature, about 4 cm) from the median edge of the
#: rows around it is the mask running into something that touches the body (a door
#: frame, a bag, a fire extinguisher's hose in one real photo), and the median edge is
#: used instead. Chosen among 1.5, 2.5 and 3.5% on 480 calibration bodies, half in loose
#: tops: 1.5% also cut a loose top's flare (loose-top error 2.51 -> 2.94 cm), 2.5 and
#: 3.5% were within 0.06 cm of each other, and 3.5% missed the leak in two of the real
#: photo's copies.
LEAK_FRACTION = 0.025
#: Half the height of the rows compared (fraction of stature, about 17 cm).
LEAK_WINDOW_FRACTION = 0.10
#: Where leak checks start below the shoulder landmarks and end below the hip landmarks
#: (fractions of stature): above, the arms join the torso's run on purpose.
LEAK_BELOW_SHOULDERS_FRACTION = 0.10
LEAK_BELOW_HIPS_FRACTION = 0.06
#: Leaks the edge check only partly caught (front view). A leak reaches its furthest out
#: in the middle and less far at its ends, so the check replaces the middle and leaves
#: the ends, which can still be 1-2.5% of stature wide. A level within this distance
#: (fraction of stature, about 3 cm) of an edge the check replaced is near a leak; where
#: only one of a photo and its mirror image has that level near a leak and their widths
#: there differ by more than ``LEAK_END_FRACTION``, ``mirror_average`` keeps the width
#: of the image without the leak instead of the mean. Found on the real A-pose photo:
#: its mirror image's mask runs into a fire extinguisher's hose, and the photo as given
#: read her waist 3.5 cm larger (two photos) than the same pixels saved again. Keeping
#: the narrower width wherever the two differ fixed her too, but made synthetic repeat
#: readings worse (with the arms close to the body both readings jump); this rule, only
#: next to a caught leak, left them as they were (bench/body_scan.py, 2026-12-01).
LEAK_NEAR_FRACTION = 0.02
LEAK_END_FRACTION = 0.01


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
    #: Torso edges replaced as mask leaks (``leak_free_edges``), for the benchmark.
    leak_rows: int = 0
    #: Per level: an edge the leak check replaced lies within ``LEAK_NEAR_FRACTION`` of
    #: stature (None for features made without it).
    leak_near: NDArray[np.bool_] | None = None

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


def leak_free_edges(
    left: NDArray[np.float64], right: NDArray[np.float64], window_rows: int, limit_px: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], int]:
    """Row-by-row torso edges with outward outliers (mask leaks) set to the local median.

    ``left`` and ``right`` are the run's edges on consecutive rows (NaN where there is no
    run). An edge more than ``limit_px`` outside the median of the rows within
    ``window_rows`` is replaced by that median; inward dips are kept (a leak only adds).
    Returns the edges and how many were replaced.
    """
    count = left.shape[0]
    if count == 0:
        return left.copy(), right.copy(), 0
    pad = np.full(window_rows, np.nan)

    def local_medians(edges: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        # Windows past either end are NaN-padded, and NaNs are not counted.
        windows = np.lib.stride_tricks.sliding_window_view(
            np.concatenate([pad, edges, pad]), 2 * window_rows + 1
        )
        present = np.count_nonzero(~np.isnan(windows), axis=1)
        with warnings.catch_warnings():  # all-NaN windows: their rows are skipped below
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmedian(windows, axis=1), present

    median_left, present = local_medians(left)
    median_right, _ = local_medians(right)
    checked = ~np.isnan(left) & (present >= window_rows)
    leak_left = checked & (left < median_left - limit_px)
    leak_right = checked & (right > median_right + limit_px)
    fixed_left = np.where(leak_left, median_left, left)
    fixed_right = np.where(leak_right, median_right, right)
    replaced = int(np.count_nonzero(leak_left) + np.count_nonzero(leak_right))
    return fixed_left, fixed_right, replaced


def _interpolate_x(y: float, upper: NDArray[np.float64], lower: NDArray[np.float64]) -> float:
    """x on the line through two landmarks at image row ``y`` (clamped to the segment)."""
    dy = float(lower[1] - upper[1])
    t = 0.0 if abs(dy) < 1e-6 else float(np.clip((y - upper[1]) / dy, 0.0, 1.0))
    return float(upper[0] + t * (lower[0] - upper[0]))


def view_features(
    view: str,
    region: PersonRegion,
    observation: PoseObservation,
    leak_check: bool = True,
    level_shift: float = 0.0,
) -> ViewFeatures:
    """Widths (front) or depths (side) of the person at every level, over stature.

    ``leak_check`` (front view only, see ``LEAK_FRACTION``) is off only to remake scan
    data the way it was made before the check existed. ``level_shift`` (a fraction of
    stature) moves every level, thigh levels included, up (positive) or down.
    """
    return shifted_view_features(view, region, observation, leak_check, (level_shift,))[0]


def shifted_view_features(
    view: str,
    region: PersonRegion,
    observation: PoseObservation,
    leak_check: bool = True,
    level_shifts: Sequence[float] = (0.0,),
) -> list[ViewFeatures]:
    """``view_features`` at each of ``level_shifts``, in that order.

    The torso's edges (and the leak check on them) are found once for all the shifts.
    """
    mask = region.mask
    stature_px = float(region.height_px)
    floor_row = float(region.bottom_row)
    shoulders = observation.midpoint(Landmark.left_shoulder, Landmark.right_shoulder)
    hips = observation.midpoint(Landmark.left_hip, Landmark.right_hip)
    knees = observation.midpoint(Landmark.left_knee, Landmark.right_knee)

    def centre_at(y: float) -> float:
        # Centre line: shoulders -> hips -> knees midpoints (the torso, then the crotch).
        if y <= hips[1]:
            return _interpolate_x(y, shoulders, hips)
        return _interpolate_x(y, hips, knees)

    # The torso's edges on every row where leaks are checked (see LEAK_FRACTION).
    first_row = max(0, round(shoulders[1] + LEAK_BELOW_SHOULDERS_FRACTION * stature_px))
    last_row = min(mask.shape[0] - 1, round(hips[1] + LEAK_BELOW_HIPS_FRACTION * stature_px))
    if view != "front" or not leak_check:  # in profile the bust, belly, seat are real bumps
        last_row = first_row - 1
    checked_rows = np.arange(first_row, last_row + 1)
    left = np.full(checked_rows.shape[0], np.nan)
    right = np.full(checked_rows.shape[0], np.nan)
    for i, row_index in enumerate(checked_rows):
        run = run_containing(mask[row_index], centre_at(float(row_index)))
        if run is not None:
            left[i], right[i] = run
    found_left, found_right = left, right
    left, right, leaks = leak_free_edges(
        left,
        right,
        window_rows=max(1, round(LEAK_WINDOW_FRACTION * stature_px)),
        limit_px=LEAK_FRACTION * stature_px,
    )
    replaced = (left != found_left) | (right != found_right)
    replaced_rows = checked_rows[replaced & ~np.isnan(found_left)]
    near_px = LEAK_NEAR_FRACTION * stature_px
    shoulder_width = float(
        np.linalg.norm(
            observation.point(Landmark.left_shoulder) - observation.point(Landmark.right_shoulder)
        )
    )
    hip_width = float(
        np.linalg.norm(observation.point(Landmark.left_hip) - observation.point(Landmark.right_hip))
    )

    def at_shift(level_shift: float) -> ViewFeatures:
        widths, rows, centres, near = [], [], [], []
        for fraction in LEVEL_FRACTIONS:
            y = floor_row - (fraction + level_shift) * stature_px
            row_index = int(np.clip(round(y), 0, mask.shape[0] - 1))
            centre = centre_at(y)
            near.append(bool(np.any(np.abs(replaced_rows - row_index) <= near_px)))
            if first_row <= row_index <= last_row and not np.isnan(left[row_index - first_row]):
                width_px = float(right[row_index - first_row] - left[row_index - first_row])
                widths.append(width_px / stature_px)
            else:
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
                y = floor_row - (fraction + level_shift) * stature_px
                row_index = int(np.clip(round(y), 0, mask.shape[0] - 1))
                x = _interpolate_x(y, observation.point(hip), observation.point(knee))
                run = run_containing(mask[row_index], x)
                thighs.append(0.0 if run is None else (run[1] - run[0]) / stature_px)
        return ViewFeatures(
            view=view,
            stature_px=stature_px,
            widths=np.array(widths, dtype=np.float64),
            thigh_widths=np.array(thighs, dtype=np.float64),
            shoulder_width=shoulder_width / stature_px,
            hip_width=hip_width / stature_px,
            level_rows=np.array(rows, dtype=np.int64),
            centre_columns=np.array(centres, dtype=np.float64),
            leak_rows=leaks,
            leak_near=np.array(near, dtype=bool),
        )

    return [at_shift(shift) for shift in level_shifts]


def mirror_average(original: ViewFeatures, mirrored: ViewFeatures) -> ViewFeatures:
    """The mean of a view's features and those of its left-right mirror image.

    MediaPipe is not mirror-symmetric: the same photo flipped gives a slightly different
    mask and landmarks, and a side photo of someone facing left reads differently from one
    facing right. Averaging the two makes the features exactly the same for a photo and
    its mirror image and halves part of that noise. Which leg is "left" flips with the
    image, so each thigh level gets the mean of both legs in both images (the bodies the
    model learnt from are left-right symmetric). Rows and centre columns (for the debug
    drawing) stay the original's.

    The exception: at a level near torso edges the leak check replaced in one image
    only (``leak_near``, see ``LEAK_NEAR_FRACTION``), where the two widths differ by
    more than ``LEAK_END_FRACTION``, the width is the other image's.
    """
    if original.view != mirrored.view:
        raise ValueError(f"views differ: {original.view} and {mirrored.view}")
    levels = len(THIGH_FRACTIONS)
    both = np.concatenate([original.thigh_widths, mirrored.thigh_widths]).reshape(4, levels)
    widths = (original.widths + mirrored.widths) / 2
    leak_near = None
    if original.leak_near is not None and mirrored.leak_near is not None:
        apart = np.abs(original.widths - mirrored.widths) > LEAK_END_FRACTION
        widths = np.where(apart & original.leak_near & ~mirrored.leak_near, mirrored.widths, widths)
        widths = np.where(apart & mirrored.leak_near & ~original.leak_near, original.widths, widths)
        leak_near = original.leak_near | mirrored.leak_near
    return ViewFeatures(
        view=original.view,
        stature_px=original.stature_px,
        widths=widths,
        thigh_widths=np.tile(both.mean(axis=0), 2),
        shoulder_width=(original.shoulder_width + mirrored.shoulder_width) / 2,
        hip_width=(original.hip_width + mirrored.hip_width) / 2,
        level_rows=original.level_rows,
        centre_columns=original.centre_columns,
        leak_rows=original.leak_rows + mirrored.leak_rows,
        leak_near=leak_near,
    )
