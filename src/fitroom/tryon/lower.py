"""Try-on of lower-body garments: trousers, shorts and skirts.

Steps (the upper-body compositor's pieces are reused where they fit):

1. ``lower_targets``: where the garment's landmarks go. The waistband sits
   ``WAIST_ABOVE_HIP`` shoulder widths above the hip joints, as wide as
   ``WAIST_WIDTH`` times the hip-joint distance (the scale); each trouser leg is laid
   along the body's leg (hip, knee, ankle) by arc length, a skirt along the body's
   centre line; widths come from the garment's own outline at a few levels.
2. ``top_in_front``: the shopper's top stays over the waistband: in the band between
   the shoulders and just below the hips, person pixels whose colour is nearer the
   top's (sampled on the chest) than the old trousers' (sampled on a thigh) are the
   top.
3. ``lower_region``: the old lower garment (non-skin person pixels below the waist),
   inpainted from the background, then bare legs painted where the new garment is
   shorter (shorts over trousers); one thin-plate spline warps the garment; shading
   of the old garment carries over; hands stay in front.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
from numpy.typing import NDArray

from fitroom.tryon.compose import (
    FOREARM_HALF,
    UPPER_ARM_HALF,
    TryOnResult,
    blend_onto,
    draw_capsule,
    fill_background,
    front_mask,
    paint_skin,
    polyline_point,
    transfer_shading,
)
from fitroom.tryon.garment import LowerLandmarks, PreparedGarment
from fitroom.tryon.person import BodyLayout, skin_colour, skin_like, top_in_front
from fitroom.tryon.warp import warp_to

#: The waistband sits this share of the shoulder-joint distance above the hip joints.
WAIST_ABOVE_HIP = 0.22
#: Worn waist width as a multiple of the hip-joint distance (MediaPipe's hip joints sit
#: well inside the body's outline).
WAIST_WIDTH = 1.75
#: A worn leg is a little narrower than laid flat (the cloth wraps the leg).
LEG_WIDTH = 0.9
#: Half-width of a bare leg as a share of the shoulder-joint distance.
LEG_HALF = 0.16
#: Fractions of a leg (or a skirt) where its width is taken and pinned.
LEVELS = (0.25, 0.5, 0.75, 1.0)


def _side_extent(
    mask: NDArray[np.bool_], start: NDArray[np.float64], end: NDArray[np.float64], fraction: float
) -> tuple[float, float]:
    """Signed offsets (px, along the normal of start -> end) of the mask's edges at a
    fraction of that axis: the run of the row through the axis point."""
    point = start + fraction * (end - start)
    row = int(np.clip(round(point[1]), 0, mask.shape[0] - 1))
    column = int(np.clip(round(point[0]), 0, mask.shape[1] - 1))
    line = mask[row]
    if not line[column]:
        on = np.flatnonzero(line)
        if not on.size:
            return -1.0, 1.0
        column = int(on[np.argmin(np.abs(on - column))])
    left = column
    while left > 0 and line[left - 1]:
        left -= 1
    right = column
    while right < line.size - 1 and line[right + 1]:
        right += 1
    return float(left - point[0]), float(right - point[0])


def lower_targets(
    garment: PreparedGarment, layout: BodyLayout
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """Control pairs (garment -> photo) for a lower-body garment, and its scale."""
    lm: LowerLandmarks = garment.lower
    d = layout.shoulder_width_px
    hip_width = float(np.hypot(*(layout.hip_r - layout.hip_l))) or 0.5 * d
    waist_y = float(layout.hip_mid[1] - WAIST_ABOVE_HIP * d)
    centre_x = float(layout.hip_mid[0])
    waist_width = WAIST_WIDTH * hip_width
    scale = waist_width / (lm.waist_width_px or 1.0)
    waist_l = np.array([centre_x - waist_width / 2, waist_y])
    waist_r = np.array([centre_x + waist_width / 2, waist_y])
    g_waist_l = np.asarray(lm.waist_left)
    g_waist_r = np.asarray(lm.waist_right)
    g_waist_mid = (g_waist_l + g_waist_r) / 2
    src: list[NDArray[np.float64]] = [g_waist_l, g_waist_r, g_waist_mid]
    dst: list[NDArray[np.float64]] = [waist_l, waist_r, (waist_l + waist_r) / 2]
    mask = garment.mask
    legs: tuple[
        tuple[NDArray[np.float64], NDArray[np.float64], list[NDArray[np.float64]], float], ...
    ]
    if lm.crotch is not None and lm.hem_left_inner is not None and lm.hem_right_inner is not None:
        crotch = np.asarray(lm.crotch)
        src.append(crotch)
        dst.append(np.array([centre_x, waist_y + scale * (crotch[1] - g_waist_mid[1])]))
        # Each leg from just below the crotch (where the legs part) to its hem; on the
        # body from the same depth below the waist along hip -> knee -> ankle.
        below = crotch[1] + 2.0
        drop_px = (below - g_waist_mid[1]) * scale
        legs = (
            (
                np.array([(lm.hem_left_outer[0] + lm.hem_left_inner[0]) / 2, below]),
                (np.asarray(lm.hem_left_outer) + np.asarray(lm.hem_left_inner)) / 2,
                [np.array([layout.hip_l[0], waist_y]), layout.knee_l, layout.ankle_l],
                drop_px,
            ),
            (
                np.array([(lm.hem_right_outer[0] + lm.hem_right_inner[0]) / 2, below]),
                (np.asarray(lm.hem_right_outer) + np.asarray(lm.hem_right_inner)) / 2,
                [np.array([layout.hip_r[0], waist_y]), layout.knee_r, layout.ankle_r],
                drop_px,
            ),
        )
        levels: tuple[float, ...] = (0.0, *LEVELS)
    else:
        knees = (layout.knee_l + layout.knee_r) / 2
        ankles = (layout.ankle_l + layout.ankle_r) / 2
        hem_mid = (np.asarray(lm.hem_left_outer) + np.asarray(lm.hem_right_outer)) / 2
        body = [np.array([centre_x, waist_y]), knees, ankles]
        legs = ((g_waist_mid, hem_mid, body, 0.0),)
        levels = LEVELS
    for start, end, body, drop in legs:
        axis = end - start
        length = float(np.linalg.norm(axis)) or 1.0
        for fraction in levels:
            # Widths are read along the photo's rows (legs hang nearly straight down in
            # a product photo) and laid across the body's leg, to its right (+x side).
            lo, hi = _side_extent(mask, start, end, fraction)
            point, direction = polyline_point(body, drop + fraction * length * scale)
            body_right = np.array([direction[1], -direction[0]])
            if body_right[0] < 0:
                body_right = -body_right
            centre = start + fraction * axis
            middle = 0.5 * (lo + hi)
            for offset in (lo, middle, hi):
                src.append(centre + np.array([offset, 0.0]))
                dst.append(point + (offset - middle) * scale * LEG_WIDTH * body_right)
    return np.array(src), np.array(dst), scale


def lower_region(
    layout: BodyLayout, waist_y: float, keep: NDArray[np.bool_], skin: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """The old lower garment: person pixels below the waist that are not ``skin`` or
    ``keep``."""
    rows = np.arange(skin.shape[0])[:, None]
    person = layout.person_mask > 0.5
    region = person & (rows >= waist_y) & ~skin & ~keep
    closed = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    result: NDArray[np.bool_] = (closed > 0) & ~keep
    return result


def arm_mask(layout: BodyLayout, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """The arms (shoulder -> elbow -> wrist capsules): they hang in front of trousers,
    and their sleeves are the top's, not the old lower garment."""
    canvas = np.zeros(shape, dtype=np.uint8)
    d = layout.shoulder_width_px
    for shoulder, elbow, wrist in (
        (layout.shoulder_l, layout.elbow_l, layout.wrist_l),
        (layout.shoulder_r, layout.elbow_r, layout.wrist_r),
    ):
        draw_capsule(canvas, shoulder, elbow, UPPER_ARM_HALF * d)
        draw_capsule(canvas, elbow, wrist, FOREARM_HALF * d)
    arms: NDArray[np.bool_] = canvas > 0
    return arms


def leg_mask(layout: BodyLayout, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Where bare legs would be (hip -> knee -> ankle capsules)."""
    canvas = np.zeros(shape, dtype=np.uint8)
    half = LEG_HALF * layout.shoulder_width_px
    for hip, knee, ankle in (
        (layout.hip_l, layout.knee_l, layout.ankle_l),
        (layout.hip_r, layout.knee_r, layout.ankle_r),
    ):
        draw_capsule(canvas, hip, knee, half)
        draw_capsule(canvas, knee, ankle, 0.75 * half)
    legs: NDArray[np.bool_] = canvas > 0
    return legs


def try_on_lower(
    person_rgb: NDArray[np.uint8], garment: PreparedGarment, layout: BodyLayout
) -> TryOnResult:
    """Dress the person in trousers, shorts or a skirt (see the module docstring)."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    shape = (int(person_rgb.shape[0]), int(person_rgb.shape[1]))
    d = layout.shoulder_width_px
    waist_y = float(layout.hip_mid[1] - WAIST_ABOVE_HIP * d)
    tone = skin_colour(person_rgb, layout)
    skin = skin_like(person_rgb, tone)
    front = front_mask(person_rgb, layout, skin)
    top = top_in_front(person_rgb, layout, skin)
    keep = front | top | arm_mask(layout, shape)
    region = lower_region(layout, waist_y, keep, skin)
    timings["region_ms"] = (time.perf_counter() - started) * 1000
    t = time.perf_counter()
    canvas = fill_background(person_rgb, region, layout.person_mask > 0.5)
    timings["fill_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    painted = paint_skin(canvas, region, leg_mask(layout, shape), tone)
    timings["skin_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    src, dst, _scale = lower_targets(garment, layout)
    g_rgb = np.zeros((*shape, 3), dtype=np.uint8)
    g_alpha = np.zeros(shape, dtype=np.float32)
    rgb, alpha, (x0, y0, x1, y1) = warp_to(garment.rgb, garment.mask, src, dst, shape)
    if alpha.size:
        g_rgb[y0:y1, x0:x1] = rgb
        g_alpha[y0:y1, x0:x1] = alpha
    timings["warp_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    g_rgb = transfer_shading(g_rgb, person_rgb, (g_alpha > 0) & region)
    g_alpha = g_alpha * ~keep
    # Nothing of a lower garment goes above its waistband (the spline can fold there).
    g_alpha[: max(0, int(waist_y - 0.05 * d))] = 0.0
    g_alpha = cv2.GaussianBlur(g_alpha, (5, 5), 0) * (g_alpha > 0.02)
    image = blend_onto(canvas, g_rgb, g_alpha)
    timings["blend_ms"] = (time.perf_counter() - t) * 1000
    timings["total_ms"] = (time.perf_counter() - started) * 1000
    return TryOnResult(
        image=image,
        region=region,
        garment_alpha=g_alpha,
        skin=painted,
        front=keep,
        agnostic_input=False,
        timings_ms=timings,
    )
