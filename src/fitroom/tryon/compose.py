"""Photo try-on: put a prepared garment on a person photo.

Steps (each a function below, composed by ``try_on``; trousers, shorts and skirts go
through ``fitroom.tryon.lower`` instead):

1. The part of the photo the new garment replaces: the flat-grey agnostic region when
   the input has one (``grey_region``; the grey hides the arms, so their elbows and
   wrists are read from the outline of the strokes that drew it, ``fit_agnostic``, and
   the garment is kept inside the grey by the strokes' margins),
   else ``clothing_region``: VITON-HD's pose
   geometry below the shoulders widened by the person's own clothing, plus an old
   top's tail below the hips; bare arms, the neck, hands and hair are left out.
2. ``fill_background``: inpaint the region from the background around the person, so
   where the new garment is smaller than the old one, background shows, not the old
   shirt.
3. ``paint_skin``: neck, bare arms, hands and the new garment's neck opening inside the
   region, in the face's skin colour with a soft shading gradient.
4. ``garment_targets`` + ``warp.warp_to``: the garment's body panel warped by a
   thin-plate spline from its landmarks onto body targets (shoulder tips, armpits, hem
   corners; scale from the shoulder width; a top's hem at the hip line, a dress's at
   its own length), each sleeve warped separately along the arm (shoulder, elbow,
   wrist), its seam pinned to the panel.
5. ``transfer_shading``: folds and light of the person's original clothing (band-passed
   lightness, within +/-15%) modulate the garment; skipped on a grey agnostic input.
6. Occlusion and blending (``front_mask``, ``blend_onto``): the head, hands, hair and
   forearms crossing the torso stay in front; the garment's edge is feathered over
   2-3 pixels.

The constants below were set by eye on the shared person and garment photos and
checked on the one paired VITON-HD sample (``bench/tryon_quality_speed.py``); those of
the grey-input path were chosen on it, as their comments say.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fitroom.tryon.garment import Category, PreparedGarment
from fitroom.tryon.person import (
    AgnosticFit,
    BodyLayout,
    fit_agnostic,
    grey_region,
    hair_mask,
    pose_region,
    skin_colour,
    skin_like,
    stroke_pose,
    stroke_unit_px,
    top_in_front,
)
from fitroom.tryon.warp import warp_to

#: Garment shoulder tips sit this share of the shoulder-joint distance above the joints
#: and outside them (calibrated on the VITON-HD sample's worn garment).
TIP_UP = 0.16
TIP_OUT = 0.03
#: A worn garment's width against its flat width (shoulder-tip scale), and its sleeves'
#: length against the flat sleeve.
WORN_WIDTH = 1.1
SLEEVE_LENGTH = 0.94
#: A sleeve that reaches this share of the way from its root to the wrist is a long
#: sleeve, and long sleeves end at the wrist.
LONG_SLEEVE = 0.75
#: Tops are worn down to the hip line: the body panel is stretched so its hem lands this
#: share of the shoulder-joint distance below the hip joints, within the clamp below
#: (so a crop top stays short and a long shirt stays long).
HEM_BELOW_HIP = 0.05
LENGTH_CLAMP = (0.8, 1.4)
#: A dress's length against its flat length at the shoulder-tip scale.
DRESS_LENGTH = 1.0
#: Arm half-widths as shares of the shoulder-joint distance (upper arm, forearm).
UPPER_ARM_HALF = 0.12
FOREARM_HALF = 0.09
#: On a grey agnostic input the shoulder tips sit this many stroke units r below the
#: region's top edge: VITON-HD's grey reaches 5 r above the shoulder joints, so the
#: tips sit 0.5 r (about 3% of the shoulder width) above them. Chosen on the VITON-HD
#: pair and its mirror image among 3.2-5 r (0.17 shoulder widths, about 3.2 r, before).
REGION_TIP_DROP = 4.5
#: Product photos show the inside back of the neckline; the front opening is cut as a
#: half ellipse under the collar: width and depth as shares of the shoulder-tip span.
NECK_OPENING_WIDTH = 0.40
NECK_OPENING_DEPTH = 0.25
#: VITON-HD's grey reaches past the body's outline: on a grey input, the garment is kept
#: this many stroke units r inside the grey's left and right edges against the
#: background: 3 r beside the torso (its strokes reach 3 r past the shoulder-to-hip
#: lines), 2 r beside an arm (its strokes reach 5 r past the bone, so a sleeve keeps up
#: to 3 r, about 0.19 shoulder widths, each side of it). Chosen on the VITON-HD pair and
#: its mirror image (2-3.5 r tried for each); 0.12 shoulder widths (about 2.3 r) all
#: round had been set before.
REGION_SIDE_MARGIN = 3.0
ARM_SIDE_MARGIN = 2.0
#: Gaps narrower than this share of the shoulder-joint distance between a sleeve and
#: the body panel, inside the region, are closed (an arm hanging against the torso).
SLEEVE_GAP_CLOSE = 0.2
#: How far below the hip line (shoulder widths) an old top is looked for and hidden.
TOP_TAIL = 0.8
#: Inpainting runs at this fraction of the photo's size (background is smooth).
INPAINT_SCALE = 0.125


@dataclass
class TryOnResult:
    """The dressed photo (same size as the input) and the masks for debugging."""

    image: NDArray[np.uint8]
    region: NDArray[np.bool_]
    garment_alpha: NDArray[np.float32]
    skin: NDArray[np.bool_]
    front: NDArray[np.bool_]
    agnostic_input: bool
    timings_ms: dict[str, float] = field(default_factory=dict)

    def debug_images(self) -> dict[str, NDArray[np.uint8]]:
        """Named 8-bit images: the region, garment alpha and skin masks."""
        return {
            "region": np.where(self.region, 255, 0).astype(np.uint8),
            "garment_alpha": np.clip(self.garment_alpha * 255, 0, 255).astype(np.uint8),
            "skin": np.where(self.skin, 255, 0).astype(np.uint8),
            "front": np.where(self.front, 255, 0).astype(np.uint8),
        }


def torso_quad(layout: BodyLayout, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """The quadrilateral between the shoulder and hip joints, as a mask."""
    canvas = np.zeros(shape, dtype=np.uint8)
    quad = np.array([layout.shoulder_l, layout.shoulder_r, layout.hip_r, layout.hip_l])
    cv2.fillPoly(canvas, [quad.round().astype(np.int32)], (1,))
    torso: NDArray[np.bool_] = canvas > 0
    return torso


def clothing_region(
    rgb: NDArray[np.uint8], layout: BodyLayout, skin: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """On a real photo, the region the new garment replaces (``skin``: the photo's
    skin-coloured pixels, from ``skin_like``)."""
    region = pose_region(layout, (int(rgb.shape[0]), int(rgb.shape[1])))
    # Above the shoulders VITON-HD's geometry (a neck box, the shoulder stroke) would
    # repaint the neck and the background beside it; on a real photo only the person's
    # own clothing there (a collar) is replaced.
    shoulder_y = float(min(layout.shoulder_l[1], layout.shoulder_r[1]))
    region[: max(0, int(shoulder_y - 0.05 * layout.shoulder_width_px))] = False
    # The person's own top may be wider than the pose geometry: add the person's pixels
    # between the shoulder line and the hips that are not skin-coloured.
    person = layout.person_mask > 0.5
    top = int(shoulder_y - 0.1 * layout.shoulder_width_px)
    bottom = int(max(layout.hip_l[1], layout.hip_r[1]))
    band = np.zeros_like(person)
    band[max(0, top) : max(0, bottom)] = True
    region |= person & band & ~skin
    region = (
        cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8)) > 0
    )
    # Bare arms and the neck stay as they are: skin-coloured pixels where skin is
    # expected (outside the torso quad, so a beige top is still replaced).
    shape = (region.shape[0], region.shape[1])
    bare = skin & skin_mask(layout, shape) & ~torso_quad(layout, shape)
    bare = cv2.morphologyEx(bare.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
    region &= ~bare
    # Below the hip line the lower-body garment stays (VITON-HD keeps it too).
    hip_y = float(max(layout.hip_l[1], layout.hip_r[1]))
    region[max(0, int(hip_y)) :] = False
    # ... but the old top may hang below them: that part goes too (inpainted from what
    # surrounds it, the trousers included), so it does not peek out under a shorter top.
    rows = np.arange(region.shape[0])[:, None]
    region |= top_in_front(rgb, layout, skin, below_hip=TOP_TAIL) & (rows >= hip_y)
    region[: max(0, int(layout.chin_y))] = False
    return region


def fill_background(
    rgb: NDArray[np.uint8], region: NDArray[np.bool_], person: NDArray[np.bool_]
) -> NDArray[np.uint8]:
    """The photo with ``region`` inpainted from the background (not from the person)."""
    height_px, width_px = region.shape
    small_size = (max(8, int(width_px * INPAINT_SCALE)), max(8, int(height_px * INPAINT_SCALE)))
    small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA)
    unknown = (region | person).astype(np.uint8) * 255
    unknown_small = cv2.resize(unknown, small_size, interpolation=cv2.INTER_NEAREST)
    unknown_small = cv2.dilate(unknown_small, np.ones((3, 3), np.uint8))
    if unknown_small.all():  # nothing to inpaint from: the photo's median colour
        filled_small = np.empty_like(small)
        filled_small[:] = np.median(rgb.reshape(-1, 3), axis=0).astype(np.uint8)
    else:
        filled_small = cv2.inpaint(small, unknown_small, 5, cv2.INPAINT_TELEA)
    filled = cv2.resize(filled_small, (width_px, height_px), interpolation=cv2.INTER_LINEAR)
    out = rgb.copy()
    out[region] = filled[region]
    return out


def draw_capsule(
    canvas: NDArray[np.uint8], a: NDArray[np.float64], b: NDArray[np.float64], half_px: float
) -> None:
    """Fill the capsule of radius ``half_px`` around the segment a -> b with 1."""
    thickness = max(1, round(2 * half_px))
    cv2.line(canvas, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), (1,), thickness, cv2.LINE_AA)
    cv2.circle(canvas, (int(a[0]), int(a[1])), int(half_px), (1,), -1, cv2.LINE_AA)
    cv2.circle(canvas, (int(b[0]), int(b[1])), int(half_px), (1,), -1, cv2.LINE_AA)


def skin_mask(layout: BodyLayout, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """Where skin would show without clothes: neck, arms and hands (from the pose)."""
    canvas = np.zeros(shape, dtype=np.uint8)
    d = layout.shoulder_width_px
    for shoulder, elbow, wrist, hand in (
        (layout.shoulder_l, layout.elbow_l, layout.wrist_l, layout.hand_l),
        (layout.shoulder_r, layout.elbow_r, layout.wrist_r, layout.hand_r),
    ):
        _, down = _frame(layout.shoulder_l, layout.shoulder_r)
        upper_start = shoulder + 0.3 * (elbow - shoulder)
        draw_capsule(canvas, upper_start, elbow, UPPER_ARM_HALF * d)
        draw_capsule(canvas, elbow, wrist, FOREARM_HALF * d)
        hull = np.vstack([wrist[None, :], hand]).round().astype(np.int32)
        cv2.fillConvexPoly(canvas, cv2.convexHull(hull), (1,))
        for point in hand:
            draw_capsule(canvas, wrist, point, 0.05 * d)
    neck_top = layout.nose + 0.3 * (layout.shoulder_mid - layout.nose)
    _, down = _frame(layout.shoulder_l, layout.shoulder_r)
    draw_capsule(canvas, neck_top, layout.shoulder_mid + 0.2 * d * down, 0.17 * d)
    mask: NDArray[np.bool_] = canvas > 0
    return mask


def front_mask(
    rgb: NDArray[np.uint8], layout: BodyLayout, skin: NDArray[np.bool_] | None
) -> NDArray[np.bool_]:
    """What stays in front of the garment: the hands, and on a real photo hair falling
    over the shoulders and bare forearms crossing the torso (``skin`` pixels along
    elbow -> wrist inside the torso). ``skin`` is None for a grey agnostic input, where
    only the hands are known."""
    shape = (int(rgb.shape[0]), int(rgb.shape[1]))
    d = layout.shoulder_width_px
    hands = np.zeros(shape, dtype=np.uint8)
    for wrist, hand in ((layout.wrist_l, layout.hand_l), (layout.wrist_r, layout.hand_r)):
        hull = np.vstack([wrist[None, :], hand]).round().astype(np.int32)
        cv2.fillConvexPoly(hands, cv2.convexHull(hull), (1,))
    grow = max(1, round(0.05 * d))
    front: NDArray[np.bool_] = cv2.dilate(hands, np.ones((2 * grow + 1,) * 2, np.uint8)) > 0
    if skin is None:
        return front
    front |= hair_mask(rgb, layout)
    forearms = np.zeros(shape, dtype=np.uint8)
    for elbow, wrist in ((layout.elbow_l, layout.wrist_l), (layout.elbow_r, layout.wrist_r)):
        draw_capsule(forearms, elbow, wrist, 1.3 * FOREARM_HALF * d)
    bare = skin & (forearms > 0) & (layout.person_mask > 0.5)
    # Only where a forearm crosses the torso: at the sides, new sleeves cover the arm.
    bare &= torso_quad(layout, shape)
    bare = cv2.morphologyEx(bare.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
    return front | bare


def paint_skin(
    canvas: NDArray[np.uint8],
    region: NDArray[np.bool_],
    skin: NDArray[np.bool_],
    colour: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Paint ``skin & region`` in ``colour``, shaded like a cylinder across each limb;
    returns what was painted."""
    painted = skin & region
    ys, xs = np.nonzero(painted)
    if not ys.size:
        return painted
    # Only the painted box (plus the shading's reach) is computed.
    pad = 24
    y0, y1 = max(0, int(ys.min()) - pad), min(canvas.shape[0], int(ys.max()) + pad + 1)
    x0, x1 = max(0, int(xs.min()) - pad), min(canvas.shape[1], int(xs.max()) + pad + 1)
    # Limbs are round: lighter along the middle, darker towards the edges. The distance
    # to the edge over the local half-width (the distance's local maximum) gives the
    # position across the limb; a cylinder lit from the front shades as sqrt(1 - u^2).
    inside = cv2.distanceTransform(skin[y0:y1, x0:x1].astype(np.uint8), cv2.DIST_L2, 3)
    reach = max(3, 2 * round(float(inside.max())) + 1)
    half_width = cv2.dilate(inside, np.ones((reach, reach), np.uint8)) + 1e-3
    across = np.clip(1.0 - inside / half_width, 0.0, 1.0)
    shade = (0.72 + 0.28 * np.sqrt(1.0 - across**2))[..., None]
    tone = np.clip(colour[None, None, :] * shade, 0, 255).astype(np.uint8)
    box = painted[y0:y1, x0:x1]
    canvas[y0:y1, x0:x1][box] = tone[box]
    return painted


def _frame(
    a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    across = b - a
    across = across / (np.linalg.norm(across) or 1.0)
    down = np.array([-across[1], across[0]])
    if down[1] < 0:
        down = -down
    return across, down


def _region_top(region: NDArray[np.bool_], x: float, default_y: float) -> float:
    width_px = region.shape[1]
    columns = [c for c in range(int(x) - 4, int(x) + 5) if 0 <= c < width_px]
    tops = [int(np.argmax(region[:, c])) for c in columns if region[:, c].any()]
    return float(np.median(tops)) if tops else default_y


@dataclass(frozen=True)
class _Targets:
    panel_src: NDArray[np.float64]
    panel_dst: NDArray[np.float64]
    tips: tuple[NDArray[np.float64], NDArray[np.float64]]
    armpits: tuple[NDArray[np.float64], NDArray[np.float64]]
    scale: float


def garment_targets(
    garment: PreparedGarment,
    layout: BodyLayout,
    region: NDArray[np.bool_] | None,
    unit_px: float = 0.0,
) -> _Targets:
    """Landmark pairs (garment -> photo) for the body panel; ``region`` snaps the
    shoulder line to the top of a given agnostic region, whose strokes' unit r is
    ``unit_px`` (0: VITON-HD's rule on the layout's shoulders)."""
    lm = garment.upper
    d = layout.shoulder_width_px
    across, down = _frame(layout.shoulder_l, layout.shoulder_r)
    tip_l = layout.shoulder_l - TIP_OUT * d * across - TIP_UP * d * down
    tip_r = layout.shoulder_r + TIP_OUT * d * across - TIP_UP * d * down
    if region is not None:
        drop = REGION_TIP_DROP * (unit_px or stroke_unit_px(stroke_pose(layout)))
        tip_l = np.array([tip_l[0], _region_top(region, tip_l[0], tip_l[1]) + drop])
        tip_r = np.array([tip_r[0], _region_top(region, tip_r[0], tip_r[1]) + drop])
    g_l = np.asarray(lm.shoulder_left)
    g_r = np.asarray(lm.shoulder_right)
    g_mid = (g_l + g_r) / 2
    g_across, g_down = _frame(g_l, g_r)
    scale = float(np.linalg.norm(tip_r - tip_l) / (np.linalg.norm(g_r - g_l) or 1.0))
    t_mid = (tip_l + tip_r) / 2
    axis = layout.hip_mid - layout.shoulder_mid
    axis = axis / (np.linalg.norm(axis) or 1.0)
    perp = np.array([axis[1], -axis[0]])
    if perp[0] < 0:
        perp = -perp

    hem_mid = ((lm.hem_left[0] + lm.hem_right[0]) / 2, (lm.hem_left[1] + lm.hem_right[1]) / 2)
    garment_length = float((np.asarray(hem_mid) - g_mid) @ g_down) or 1.0
    body_length = float((layout.hip_mid - t_mid) @ axis) + HEM_BELOW_HIP * d
    stretch = float(np.clip(body_length / (scale * garment_length), *LENGTH_CLAMP))
    if garment.category is Category.DRESS:
        # A dress keeps its own length (knee, midi, maxi): no fitting to the hip line.
        stretch = DRESS_LENGTH

    def place(point: tuple[float, float]) -> NDArray[np.float64]:
        rel = np.asarray(point) - g_mid
        x = float(rel @ g_across)
        y = float(rel @ g_down)
        placed: NDArray[np.float64] = t_mid + scale * (WORN_WIDTH * x * perp + stretch * y * axis)
        return placed

    names = ("neck", "armpit_left", "armpit_right", "hem_left", "hem_right")
    src = [np.asarray(lm.shoulder_left), np.asarray(lm.shoulder_right)]
    dst = [tip_l, tip_r]
    for name in names:
        point = getattr(lm, name)
        src.append(np.asarray(point))
        dst.append(place(point))
    src.append(np.asarray(hem_mid))
    dst.append(place(hem_mid))
    armpits = (dst[3], dst[4])
    return _Targets(np.array(src), np.array(dst), (tip_l, tip_r), armpits, scale)


def polyline_point(
    points: list[NDArray[np.float64]], distance: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Point at arc length ``distance`` along a polyline (extended past its end) and the
    unit direction there."""
    for a, b in itertools.pairwise(points):
        seg = b - a
        length = float(np.linalg.norm(seg)) or 1e-6
        if distance <= length:
            return a + seg * (distance / length), seg / length
        distance -= length
    a, b = points[-2], points[-1]
    seg = b - a
    unit = seg / (np.linalg.norm(seg) or 1.0)
    return b + unit * distance, unit


def _sleeve_pairs(
    sleeve: NDArray[np.bool_],
    g_tip: NDArray[np.float64],
    g_armpit: NDArray[np.float64],
    g_cuff: tuple[float, float],
    arm: list[NDArray[np.float64]],
    scale: float,
    attach: tuple[NDArray[np.float64], NDArray[np.float64]],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Control pairs that lay a sleeve along the arm polyline (root, elbow, wrist), its
    seam (shoulder tip, armpit) pinned to where the body panel puts them (``attach``).
    A long sleeve (one that would reach at least ``LONG_SLEEVE`` of the way to the
    wrist) ends at the wrist."""
    root = (g_tip + g_armpit) / 2
    cuff = np.asarray(g_cuff)
    axis = cuff - root
    length = float(np.linalg.norm(axis)) or 1.0
    unit = axis / length
    normal = np.array([-unit[1], unit[0]])
    ys, xs = np.nonzero(sleeve)
    rel = np.stack([xs, ys], axis=1) - root
    along = rel @ unit
    side = rel @ normal
    src: list[NDArray[np.float64]] = [g_tip, g_armpit]
    dst: list[NDArray[np.float64]] = [attach[0], attach[1]]
    reach = length * scale * SLEEVE_LENGTH
    arm_length = sum(float(np.linalg.norm(b - a)) for a, b in itertools.pairwise(arm))
    if reach >= LONG_SLEEVE * arm_length:
        reach = arm_length
    for fraction in (0.25, 0.5, 0.75, 1.0):
        at = fraction * length
        near = np.abs(along - at) < 0.06 * length + 2
        if near.sum() < 3:
            continue
        lo, hi = float(np.percentile(side[near], 3)), float(np.percentile(side[near], 97))
        point, direction = polyline_point(arm, fraction * reach)
        arm_normal = np.array([-direction[1], direction[0]])
        for offset in (lo, 0.5 * (lo + hi), hi):
            src.append(root + at * unit + offset * normal)
            dst.append(point + (offset - 0.5 * (lo + hi)) * scale * WORN_WIDTH * arm_normal)
    return np.array(src), np.array(dst)


def neck_opening(garment: PreparedGarment) -> NDArray[np.bool_]:
    """The front neck opening in the garment photo: a half ellipse under the collar."""
    lm = garment.upper
    span = lm.shoulder_width_px
    ys = np.nonzero(garment.mask[:, int(lm.neck[0])])[0]
    collar_top = float(ys.min()) if ys.size else lm.neck[1]
    canvas = np.zeros(garment.mask.shape, dtype=np.uint8)
    centre = (round(lm.neck[0]), round(collar_top))
    axes = (round(NECK_OPENING_WIDTH * span / 2), round(NECK_OPENING_DEPTH * span))
    cv2.ellipse(canvas, centre, axes, 0, 0, 180, (1,), -1)
    opening: NDArray[np.bool_] = canvas > 0
    return opening


def warp_garment(
    garment: PreparedGarment,
    layout: BodyLayout,
    shape: tuple[int, int],
    region: NDArray[np.bool_] | None,
    unit_px: float = 0.0,
) -> tuple[NDArray[np.uint8], NDArray[np.float32], NDArray[np.bool_]]:
    """The garment warped onto the body: full-size RGB, alpha (0-1), and where its front
    neck opening lands (skin shows there); ``region`` and ``unit_px`` as in
    ``garment_targets``."""
    height_px, width_px = shape
    targets = garment_targets(garment, layout, region, unit_px)
    out_rgb = np.zeros((height_px, width_px, 3), dtype=np.uint8)
    out_alpha = np.zeros((height_px, width_px), dtype=np.float32)
    opening = np.zeros((height_px, width_px), dtype=bool)
    neck = neck_opening(garment)
    panel = garment.mask & ~garment.sleeve_left & ~garment.sleeve_right & ~neck
    # The opening rides along as a fourth channel: one warp for both.
    with_neck = np.dstack([garment.rgb, np.where(neck, 255, 0).astype(np.uint8)])
    warped, alpha, (x0, y0, x1, y1) = warp_to(
        with_neck, panel, targets.panel_src, targets.panel_dst, shape
    )
    if alpha.size:
        out_rgb[y0:y1, x0:x1] = warped[..., :3]
        out_alpha[y0:y1, x0:x1] = alpha
        opening[y0:y1, x0:x1] = warped[..., 3] > 127
    lm = garment.upper
    d = layout.shoulder_width_px
    _across, down = _frame(layout.shoulder_l, layout.shoulder_r)
    sleeves = (
        (garment.sleeve_left, lm.shoulder_left, lm.armpit_left, lm.cuff_left, targets.tips[0],
         layout.elbow_l, layout.wrist_l),
        (garment.sleeve_right, lm.shoulder_right, lm.armpit_right, lm.cuff_right, targets.tips[1],
         layout.elbow_r, layout.wrist_r),
    )  # fmt: skip
    for (sleeve, g_tip, g_armpit, g_cuff, tip, elbow, wrist), armpit in zip(
        sleeves, targets.armpits, strict=True
    ):
        if g_cuff is None or not sleeve.any():
            continue
        # The sleeve's root sits between the shoulder tip and the armpit, on the arm.
        root = tip + 0.25 * d * down
        arm = [root, elbow, wrist]
        src, dst = _sleeve_pairs(
            sleeve,
            np.asarray(g_tip),
            np.asarray(g_armpit),
            g_cuff,
            arm,
            targets.scale,
            (tip, armpit),
        )
        if len(src) < 4:
            continue
        s_rgb, s_alpha, (sx0, sy0, sx1, sy1) = warp_to(garment.rgb, sleeve, src, dst, shape)
        if not s_alpha.size:
            continue
        a = s_alpha[..., None]
        out_rgb[sy0:sy1, sx0:sx1] = (s_rgb * a + out_rgb[sy0:sy1, sx0:sx1] * (1 - a)).astype(
            np.uint8
        )
        out_alpha[sy0:sy1, sx0:sx1] = np.maximum(out_alpha[sy0:sy1, sx0:sx1], s_alpha)
    opening[: max(0, int(layout.chin_y))] = False
    return out_rgb, out_alpha, opening


def transfer_shading(
    garment_rgb: NDArray[np.uint8],
    original: NDArray[np.uint8],
    where: NDArray[np.bool_],
    strength: float = 0.6,
) -> NDArray[np.uint8]:
    """Modulate the garment by the original clothing's folds and light (band-passed L)."""
    if not where.any():
        return garment_rgb
    ys, xs = np.nonzero(where)
    y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
    luma = cv2.cvtColor(original[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY).astype(np.float32) + 8.0
    fine = cv2.GaussianBlur(luma, (0, 0), 4.0)
    # The large-scale light at a quarter of the size (same result, 16x less work).
    small = cv2.resize(luma, (max(1, luma.shape[1] // 4), max(1, luma.shape[0] // 4)))
    coarse = cv2.resize(
        cv2.GaussianBlur(small, (0, 0), 25.0 / 4, borderType=cv2.BORDER_REFLECT),
        (luma.shape[1], luma.shape[0]),
        interpolation=cv2.INTER_LINEAR,
    )
    ratio = np.clip(fine / coarse, 0.85, 1.15) ** strength
    box = garment_rgb[y0:y1, x0:x1]
    shaded = np.clip(box.astype(np.float32) * ratio[..., None], 0, 255).astype(np.uint8)
    out = garment_rgb.copy()
    inside = where[y0:y1, x0:x1]
    out[y0:y1, x0:x1][inside] = shaded[inside]
    return out


def close_side_gaps(
    rgb: NDArray[np.uint8], alpha: NDArray[np.float32], within: NDArray[np.bool_], gap_px: float
) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """Fill narrow horizontal gaps in the garment (inside ``within``) with its own colour."""
    width = max(3, round(gap_px) | 1)
    ys, xs = np.nonzero(alpha > 0.5)
    if not ys.size:
        return rgb, alpha
    y0, y1 = int(ys.min()), int(ys.max()) + 1
    x0, x1 = max(0, int(xs.min()) - width), min(alpha.shape[1], int(xs.max()) + 1 + width)
    solid = (alpha[y0:y1, x0:x1] > 0.5).astype(np.uint8)
    closed = cv2.morphologyEx(solid, cv2.MORPH_CLOSE, np.ones((1, width), np.uint8)) > 0
    new = closed & (solid == 0) & within[y0:y1, x0:x1]
    if not new.any():
        return rgb, alpha
    box = rgb[y0:y1, x0:x1]
    weight = cv2.blur(solid.astype(np.float32), (width, 1)) + 1e-6
    colour = cv2.blur(box.astype(np.float32) * solid[..., None], (width, 1)) / weight[..., None]
    out_rgb = rgb.copy()
    out_rgb[y0:y1, x0:x1][new] = np.clip(colour[new], 0, 255).astype(np.uint8)
    out_alpha = alpha.copy()
    out_alpha[y0:y1, x0:x1][new] = 1.0
    return out_rgb, out_alpha


def blend_onto(
    canvas: NDArray[np.uint8], rgb: NDArray[np.uint8], alpha: NDArray[np.float32]
) -> NDArray[np.uint8]:
    """``rgb`` over ``canvas`` with ``alpha`` (0-1), in place, on alpha's box only."""
    ys, xs = np.nonzero(alpha > 0)
    if ys.size:
        y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        a = alpha[y0:y1, x0:x1, None]
        blended = rgb[y0:y1, x0:x1].astype(np.float32) * a + canvas[y0:y1, x0:x1] * (1 - a)
        canvas[y0:y1, x0:x1] = blended.round().astype(np.uint8)
    return canvas


def _inside_sides(
    region: NDArray[np.bool_],
    person: NDArray[np.bool_],
    margin_px: float,
    arms: NDArray[np.bool_] | None = None,
    arm_margin_px: float = 0.0,
) -> NDArray[np.bool_]:
    """``region`` less what lies within ``margin_px`` left or right of the background
    (pixels neither in ``region`` nor in ``person``), or within ``arm_margin_px`` inside
    ``arms``. Where the grey meets the person's own pixels (trousers or a face pasted
    back over it) nothing is taken off."""
    background = (~region & ~person).astype(np.uint8)

    def near(margin: float) -> NDArray[np.bool_]:
        half = max(1, round(margin))
        grown: NDArray[np.bool_] = cv2.dilate(background, np.ones((1, 2 * half + 1), np.uint8)) > 0
        return grown

    cut = near(margin_px)
    if arms is not None:
        cut = np.where(arms, near(arm_margin_px), cut)
    inside: NDArray[np.bool_] = region & ~cut
    return inside


def try_on(
    person_rgb: NDArray[np.uint8],
    garment: PreparedGarment,
    layout: BodyLayout,
    region: NDArray[np.bool_] | None = None,
    detect_agnostic: bool = True,
) -> TryOnResult:
    """Dress the person in ``garment``; ``region`` overrides the repaint region.

    ``detect_agnostic=False`` skips looking for a grey agnostic region (live video).
    """
    if garment.category is Category.LOWER:
        from fitroom.tryon.lower import try_on_lower

        return try_on_lower(person_rgb, garment, layout)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    shape = (int(person_rgb.shape[0]), int(person_rgb.shape[1]))
    grey = grey_region(person_rgb) if region is None and detect_agnostic else None
    agnostic = grey is not None
    fit: AgnosticFit | None = None  # what VITON-HD's grey strokes say
    # Skin-coloured pixels, once: the region and the occlusion both need them.
    tone = skin_colour(person_rgb, layout)
    skin = None if agnostic else skin_like(person_rgb, tone)
    if grey is not None:
        region = grey
        # The grey hides the arms: read them from the grey strokes' outline instead.
        started_fit = time.perf_counter()
        fit = fit_agnostic(layout, grey)
        layout = fit.layout
        timings["arms_fit_ms"] = (time.perf_counter() - started_fit) * 1000
    elif region is None:
        assert skin is not None
        region = clothing_region(person_rgb, layout, skin)
    front = front_mask(person_rgb, layout, skin)
    if not agnostic:
        region = region & ~front
    timings["region_ms"] = (time.perf_counter() - started) * 1000
    person = layout.person_mask > 0.5
    t = time.perf_counter()
    # Inpaint from the background, not the person; below the hips (an old top's tail)
    # the trousers around it are a fair source too.
    sources_excluded = person
    if not agnostic:
        sources_excluded = person.copy()
        sources_excluded[int(max(layout.hip_l[1], layout.hip_r[1])) :] = False
    canvas = fill_background(person_rgb, region, sources_excluded)
    timings["fill_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    # On a grey input the body lies inside the grey by VITON-HD's stroke margin.
    inside = region
    unit_px = 0.0
    if fit is not None:
        unit_px = float(fit.unit_px)
        inside = _inside_sides(
            region,
            person,
            REGION_SIDE_MARGIN * unit_px,
            fit.arms_only(shape),
            ARM_SIDE_MARGIN * unit_px,
        )
    targets_region = region if agnostic else None
    g_rgb, g_alpha, opening = warp_garment(garment, layout, shape, targets_region, unit_px)
    timings["warp_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    # The garment's neck opening shows the body (neck and chest), never the background.
    painted = paint_skin(canvas, inside, skin_mask(layout, shape) | opening, tone)
    timings["skin_ms"] = (time.perf_counter() - t) * 1000
    t = time.perf_counter()
    g_rgb, g_alpha = close_side_gaps(
        g_rgb, g_alpha, inside, SLEEVE_GAP_CLOSE * layout.shoulder_width_px
    )
    if agnostic:
        below_hips = np.zeros(shape, dtype=bool)
        if garment.category is Category.DRESS:  # a dress goes on past the grey region
            below_hips[int(max(layout.hip_l[1], layout.hip_r[1])) :] = True
        g_alpha = g_alpha * (inside | below_hips)
    else:
        g_rgb = transfer_shading(g_rgb, person_rgb, (g_alpha > 0) & region)
        head = np.zeros(shape, dtype=bool)
        head[: max(0, int(layout.chin_y))] = True
        g_alpha = g_alpha * ~head  # nothing is drawn over the head (or beside it)
    g_alpha = g_alpha * ~front
    g_alpha = cv2.GaussianBlur(g_alpha, (5, 5), 0) * (g_alpha > 0.02)
    if agnostic and garment.category is not Category.DRESS:
        g_alpha = g_alpha * region
    image = blend_onto(canvas, g_rgb, g_alpha)
    timings["blend_ms"] = (time.perf_counter() - t) * 1000
    timings["total_ms"] = (time.perf_counter() - started) * 1000
    return TryOnResult(
        image=image,
        region=region,
        garment_alpha=g_alpha,
        skin=painted,
        front=front,
        agnostic_input=agnostic,
        timings_ms=timings,
    )


def box_paste(
    person_rgb: NDArray[np.uint8], garment: PreparedGarment, layout: BodyLayout
) -> NDArray[np.uint8]:
    """Baseline: the garment cut-out scaled into the box from the shoulders to the hips."""
    x0 = int(min(layout.shoulder_l[0], layout.hip_l[0]))
    x1 = int(max(layout.shoulder_r[0], layout.hip_r[0]))
    y0 = int(min(layout.shoulder_l[1], layout.shoulder_r[1]))
    y1 = int(max(layout.hip_l[1], layout.hip_r[1]))
    height_px, width_px = person_rgb.shape[:2]
    x0, x1 = max(0, x0), min(width_px, max(x1, x0 + 2))
    y0, y1 = max(0, y0), min(height_px, max(y1, y0 + 2))
    out = person_rgb.copy()
    rgb = cv2.resize(garment.rgb, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    mask = (
        cv2.resize(
            garment.mask.astype(np.uint8), (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST
        )
        > 0
    )
    patch = out[y0:y1, x0:x1]
    patch[mask] = rgb[mask]
    return out
