"""The person side of try-on: body layout from MediaPipe, the region to repaint.

All points are image pixels (x right, y down) and named by the *image* side, as in a
mirror: ``shoulder_l`` is the shoulder on the image's left, which for a person facing
the camera is their right (MediaPipe's ``right_shoulder``). That matches the garment
photo's naming, where ``shoulder_left`` is the image-left shoulder of a garment shown
from the front.

The region to repaint ("agnostic" region, as in VITON-HD) is either given, painted
flat grey in the photo (the evaluation protocol's input), or derived from the pose the
way VITON-HD derives it: thick strokes along the arms, a torso polygon between shoulders
and hips, a box at the neck; the head and the lower body stay untouched.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from fitroom.errors import NoPersonFound, PersonFacingAway
from fitroom.tryon.garment import largest_component
from fitroom.vision.pose import Landmark, PoseObservation, PoseObserver

#: The grey VITON-HD paints the agnostic region with, and the JPEG tolerance around it.
AGNOSTIC_GREY = 128
AGNOSTIC_TOLERANCE = 10
#: Largest per-channel standard deviation (levels) of a painted agnostic region.
MAX_AGNOSTIC_SPREAD = 2.5
#: A grey patch smaller than this share of the photo is not an agnostic region.
MIN_AGNOSTIC_SHARE = 0.03
#: Colours the grey of an agnostic photo is painted in when MediaPipe sees no one there
#: (a skin-brown first: MediaPipe found the person on the VITON-HD pair at every scale
#: from 0.5 to 1 with it, a dark top only at some).
AGNOSTIC_RETRY_RGB = ((90, 70, 60), (40, 40, 45))
#: Landmarks the try-on needs to see (visibility above this).
MIN_VISIBILITY = 0.5

#: MediaPipe hand points (pinky, index, thumb) per side, for the hand regions.
_HAND_POINTS = {"r": (18, 20, 22), "l": (17, 19, 21)}


@dataclass(frozen=True)
class BodyLayout:
    """Image-side named body points of one person (pixels), plus the person mask."""

    shoulder_l: NDArray[np.float64]
    shoulder_r: NDArray[np.float64]
    elbow_l: NDArray[np.float64]
    elbow_r: NDArray[np.float64]
    wrist_l: NDArray[np.float64]
    wrist_r: NDArray[np.float64]
    hip_l: NDArray[np.float64]
    hip_r: NDArray[np.float64]
    nose: NDArray[np.float64]
    ears: NDArray[np.float64]
    hand_l: NDArray[np.float64]
    hand_r: NDArray[np.float64]
    person_mask: NDArray[np.float32]
    knee_l: NDArray[np.float64]
    knee_r: NDArray[np.float64]
    ankle_l: NDArray[np.float64]
    ankle_r: NDArray[np.float64]

    @property
    def shoulder_width_px(self) -> float:
        return float(np.hypot(*(self.shoulder_r - self.shoulder_l)))

    @property
    def shoulder_mid(self) -> NDArray[np.float64]:
        middle: NDArray[np.float64] = (self.shoulder_l + self.shoulder_r) / 2
        return middle

    @property
    def chin_y(self) -> float:
        """The chin line (pixels): nothing of a garment is drawn above it."""
        return float(self.nose[1] + 0.45 * (self.shoulder_mid[1] - self.nose[1]))

    @property
    def hip_mid(self) -> NDArray[np.float64]:
        middle: NDArray[np.float64] = (self.hip_l + self.hip_r) / 2
        return middle

    #: How many of ``points()`` belong to the upper body (the legs come after them).
    UPPER_POINTS = 17

    def points(self) -> NDArray[np.float64]:
        """The named points as one array (for smoothing between video frames): the
        upper body's ``UPPER_POINTS`` first, then knees and ankles."""
        return np.vstack(
            [
                self.shoulder_l, self.shoulder_r, self.elbow_l, self.elbow_r, self.wrist_l,
                self.wrist_r, self.hip_l, self.hip_r, self.nose, self.ears, self.hand_l,
                self.hand_r, self.knee_l, self.knee_r, self.ankle_l, self.ankle_r,
            ]
        )  # fmt: skip

    def with_points(self, points: NDArray[np.float64]) -> BodyLayout:
        """The same layout with its points replaced (order as ``points()``)."""
        return BodyLayout(
            shoulder_l=points[0], shoulder_r=points[1], elbow_l=points[2],
            elbow_r=points[3], wrist_l=points[4], wrist_r=points[5], hip_l=points[6],
            hip_r=points[7], nose=points[8], ears=points[9:11], hand_l=points[11:14],
            hand_r=points[14:17], person_mask=self.person_mask, knee_l=points[17],
            knee_r=points[18], ankle_l=points[19], ankle_r=points[20],
        )  # fmt: skip


def body_layout(observation: PoseObservation, view: str = "person") -> BodyLayout:
    """Image-side body points from a MediaPipe observation; refuses a back view.

    Facing the camera, the person's right shoulder appears on the image's left; when it
    appears on the right (and no face is seen) the person has their back to the camera.
    """
    lm = observation.landmarks_px
    vis = observation.visibility
    needed = (Landmark.left_shoulder, Landmark.right_shoulder)
    if min(vis[int(i)] for i in needed) < MIN_VISIBILITY:
        raise NoPersonFound(
            "no shoulders found in the person photo",
            view=view,
            advice="use a photo of one person facing the camera, shoulders and hips in view",
        )
    right = lm[int(Landmark.right_shoulder)]
    left = lm[int(Landmark.left_shoulder)]
    if right[0] > left[0] and not observation.faces:
        raise PersonFacingAway(
            "the person has their back to the camera",
            view=view,
            advice="use a photo taken from the front, facing the camera",
        )
    if right[0] > left[0]:
        raise PersonFacingAway(
            "the person is turned away from the camera (their right shoulder is on the "
            "image's right)",
            view=view,
            advice="use a photo taken from the front, facing the camera",
        )
    return BodyLayout(
        shoulder_l=lm[int(Landmark.right_shoulder)].copy(),
        shoulder_r=lm[int(Landmark.left_shoulder)].copy(),
        elbow_l=lm[int(Landmark.right_elbow)].copy(),
        elbow_r=lm[int(Landmark.left_elbow)].copy(),
        wrist_l=lm[int(Landmark.right_wrist)].copy(),
        wrist_r=lm[int(Landmark.left_wrist)].copy(),
        hip_l=lm[int(Landmark.right_hip)].copy(),
        hip_r=lm[int(Landmark.left_hip)].copy(),
        nose=lm[int(Landmark.nose)].copy(),
        ears=lm[[int(Landmark.right_ear), int(Landmark.left_ear)]].copy(),
        hand_l=lm[list(_HAND_POINTS["r"])].copy(),
        hand_r=lm[list(_HAND_POINTS["l"])].copy(),
        person_mask=observation.mask,
        knee_l=lm[int(Landmark.right_knee)].copy(),
        knee_r=lm[int(Landmark.left_knee)].copy(),
        ankle_l=lm[int(Landmark.right_ankle)].copy(),
        ankle_r=lm[int(Landmark.left_ankle)].copy(),
    )


def observe_person(estimator: PoseObserver, rgb: NDArray[np.uint8]) -> PoseObservation | None:
    """The person in ``rgb``. On a grey agnostic photo where MediaPipe sees no one (the
    flat grey blob where the body is trips it now and then: on the shared VITON-HD pair
    scaled to 0.75), it is asked again with the grey painted in ``AGNOSTIC_RETRY_RGB``;
    the grey itself is what gets dressed either way."""
    seen = estimator.observe(rgb)
    if seen is not None:
        return seen
    grey = grey_region(rgb)
    if grey is None:
        return None
    for colour in AGNOSTIC_RETRY_RGB:
        painted = rgb.copy()
        painted[grey] = colour
        seen = estimator.observe(painted)
        if seen is not None:
            return seen
    return None


def grey_region(rgb: NDArray[np.uint8]) -> NDArray[np.bool_] | None:
    """The flat-grey agnostic region of a VITON-HD style input; None when there is none."""
    lo, hi = AGNOSTIC_GREY - AGNOSTIC_TOLERANCE, AGNOSTIC_GREY + AGNOSTIC_TOLERANCE
    grey = cv2.inRange(rgb, np.full(3, lo, np.uint8), np.full(3, hi, np.uint8)) > 0
    grey = cv2.morphologyEx(grey.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
    grey = largest_component(grey)
    if grey.mean() < MIN_AGNOSTIC_SHARE:
        return None
    # Painted grey is flat (JPEG leaves a spread under 1 level); a grey wall or shirt
    # near 128 has light, texture and noise.
    spread = float(rgb[grey].astype(np.float32).std(axis=0).max())
    if spread > MAX_AGNOSTIC_SPREAD:
        return None
    # JPEG rings at the boundary are not grey enough: grow by a couple of pixels.
    grown = cv2.dilate(grey.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    lo, hi = AGNOSTIC_GREY - 3 * AGNOSTIC_TOLERANCE, AGNOSTIC_GREY + 3 * AGNOSTIC_TOLERANCE
    greyish = cv2.inRange(rgb, np.full(3, lo, np.uint8), np.full(3, hi, np.uint8)) > 0
    region: NDArray[np.bool_] = (grown & greyish) | grey
    return region


#: Sub-pixel bits for OpenCV drawing (coordinates are multiplied by 2**bits).
_SHIFT = 4
#: Fitting the agnostic strokes: the grey region is compared at this share of the
#: photo's size, first coarse then fine, moving one coordinate by these steps (photo px).
FIT_SCALES = ((0.125, (16.0, 8.0)), (0.25, (4.0,)))
#: Each fitted point is pulled towards MediaPipe's guess with this spread (photo px):
#: where the grey does not say (an elbow inside the torso's grey), the guess stays.
FIT_PRIOR_PX = 40.0
#: A fitted joint is used only where the grey still covers this share of its disc.
MIN_DISC_GREY = 0.5

#: Stroke pose indices: neck, shoulders, elbows, wrists (image left, right), and the hips
#: as VITON-HD widens them (to the shoulder distance, about their middle).
NECK, SHOULDER_L, SHOULDER_R, ELBOW_L, ELBOW_R, WRIST_L, WRIST_R, HIP_L, HIP_R = range(9)
#: The points the fit moves: the neck square and the hips change only the torso's grey.
FITTED = (SHOULDER_L, SHOULDER_R, ELBOW_L, ELBOW_R, WRIST_L, WRIST_R)


def _fixed(point: NDArray[np.float64], scale: float) -> tuple[int, int]:
    return (round(point[0] * scale * (1 << _SHIFT)), round(point[1] * scale * (1 << _SHIFT)))


def agnostic_mask(
    pose: NDArray[np.float64],
    r_px: float,
    shape: tuple[int, int],
    scale: float = 1.0,
    parts: str = "all",
) -> NDArray[np.bool_]:
    """VITON-HD's grey strokes for a stroke pose (9 x 2 photo px, indices above) and
    stroke unit ``r_px``, drawn at ``scale`` of the photo (``shape`` is the drawn size).

    As VITON-HD (HR-VITON's ``get_agnostic``) draws them: the shoulder line and each arm
    segment 10 r wide with 5 r discs at the joints; ellipses 3 r x 6 r at the hips, the
    shoulder-to-hip lines 6 r wide, the hip line 12 r wide and the torso polygon; a
    14 r square at the neck. ``parts="arms"`` draws the arms' segments with their elbow
    and wrist discs only, ``parts="torso"`` everything else.
    """
    canvas = np.zeros(shape, dtype=np.uint8)
    p = [_fixed(point, scale) for point in pose]
    unit = r_px * scale

    def stroke(i: int, j: int, width: float) -> None:
        cv2.line(canvas, p[i], p[j], (1,), max(1, round(width * unit)), cv2.LINE_8, _SHIFT)

    def disc(i: int, radius: float) -> None:
        cv2.circle(canvas, p[i], round(radius * unit * (1 << _SHIFT)), (1,), -1, cv2.LINE_8, _SHIFT)

    arm_segments = (
        (SHOULDER_L, ELBOW_L),
        (ELBOW_L, WRIST_L),
        (SHOULDER_R, ELBOW_R),
        (ELBOW_R, WRIST_R),
    )
    for a, b in arm_segments if parts != "torso" else ():
        stroke(a, b, 10)
        disc(b, 5)
    if parts == "arms":
        arms: NDArray[np.bool_] = canvas > 0
        return arms
    stroke(SHOULDER_L, SHOULDER_R, 10)
    disc(SHOULDER_L, 5)
    disc(SHOULDER_R, 5)
    axes = (round(3 * unit * (1 << _SHIFT)), round(6 * unit * (1 << _SHIFT)))
    for hip in (HIP_L, HIP_R):
        cv2.ellipse(canvas, p[hip], axes, 0, 0, 360, (1,), -1, cv2.LINE_8, _SHIFT)
    stroke(SHOULDER_L, HIP_L, 6)
    stroke(SHOULDER_R, HIP_R, 6)
    stroke(HIP_L, HIP_R, 12)
    cv2.fillPoly(
        canvas,
        [np.array([p[SHOULDER_L], p[SHOULDER_R], p[HIP_R], p[HIP_L]])],
        (1,),
        cv2.LINE_8,
        _SHIFT,
    )
    neck = pose[NECK]
    half = 7 * r_px
    cv2.rectangle(
        canvas, _fixed(neck - half, scale), _fixed(neck + half, scale), (1,), -1, cv2.LINE_8, _SHIFT
    )
    mask: NDArray[np.bool_] = canvas > 0
    return mask


def stroke_unit_px(pose: NDArray[np.float64]) -> int:
    """VITON-HD's stroke unit r: the shoulder distance / 16, plus one."""
    return int(np.hypot(*(pose[SHOULDER_R] - pose[SHOULDER_L])) / 16) + 1


def stroke_pose(layout: BodyLayout) -> NDArray[np.float64]:
    """The stroke pose of a body layout (neck at the shoulders' middle, hips widened)."""
    length_a = layout.shoulder_width_px
    hip_mid = layout.hip_mid
    hip_width = float(np.hypot(*(layout.hip_r - layout.hip_l))) or 1.0
    hip_l = hip_mid + (layout.hip_l - hip_mid) / hip_width * length_a
    hip_r = hip_mid + (layout.hip_r - hip_mid) / hip_width * length_a
    return np.array(
        [
            layout.shoulder_mid, layout.shoulder_l, layout.shoulder_r, layout.elbow_l,
            layout.elbow_r, layout.wrist_l, layout.wrist_r, hip_l, hip_r,
        ],
        dtype=np.float64,
    )  # fmt: skip


def pose_region(layout: BodyLayout, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """VITON-HD's agnostic geometry from the pose: arms, torso and neck, as a mask."""
    pose = stroke_pose(layout)
    r = stroke_unit_px(pose)
    region = agnostic_mask(pose, r, shape)
    # The head and the lower body stay: cut above the chin line and below the hips.
    chin_y = layout.chin_y
    rows = np.arange(shape[0])[:, None]
    region &= rows > chin_y
    hip_y = float(max(pose[HIP_L][1], pose[HIP_R][1]) + r * 6)
    region &= rows < hip_y
    return region


def fit_stroke_pose(region: NDArray[np.bool_], layout: BodyLayout) -> NDArray[np.float64]:
    """The stroke pose that drew a grey agnostic ``region``, found by coordinate descent
    from MediaPipe's guess (``layout``, read from the grey photo itself).

    The grey hides the arms, so MediaPipe guesses them; the strokes were drawn around
    the pose of the person before the grey (10 r wide, centred on the bones), so their
    outline says where the arms are. Cost: grey pixels the strokes miss, plus pixels the
    strokes cover that are neither grey nor person (the head and the lower body were
    pasted back over the grey, so non-grey person pixels cost nothing), plus a pull
    towards the guess (``FIT_PRIOR_PX``) for what the outline leaves open.
    """
    start = stroke_pose(layout)
    pose = start.copy()
    height_px, width_px = region.shape
    person = layout.person_mask > 0.5
    for scale, steps in FIT_SCALES:
        size = (max(8, round(width_px * scale)), max(8, round(height_px * scale)))
        grey: NDArray[np.float32] = np.asarray(
            cv2.resize(region.astype(np.float32), size, interpolation=cv2.INTER_AREA), np.float32
        )
        body = cv2.resize(person.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        outside = (1.0 - grey) * (1.0 - body)
        weight: NDArray[np.float32] = (grey - outside).astype(np.float32)
        grey_total = float(grey.sum())
        best = _stroke_cost(pose, start, weight, grey_total, scale)
        for step in steps:
            improved = True
            while improved:
                improved = False
                for index in FITTED:
                    for axis in (0, 1):
                        for delta in (-step, step):
                            pose[index, axis] += delta
                            value = _stroke_cost(pose, start, weight, grey_total, scale)
                            if value < best - 1e-9:
                                best = value
                                improved = True
                            else:
                                pose[index, axis] -= delta
    return pose


def _stroke_cost(
    pose: NDArray[np.float64],
    start: NDArray[np.float64],
    weight: NDArray[np.float32],
    grey_total: float,
    scale: float,
) -> float:
    """``fit_stroke_pose``'s cost: mismatched photo pixels / 16, plus the pull.
    ``weight`` is grey minus outside per drawn pixel, so the mismatch is the grey total
    less the weight summed over the drawn strokes."""
    shape = (int(weight.shape[0]), int(weight.shape[1]))
    drawn = agnostic_mask(pose, stroke_unit_px(pose), shape, scale).view(np.uint8)
    count = cv2.countNonZero(drawn)
    covered = float(cv2.mean(weight, mask=drawn)[0]) * count if count else 0.0
    missed = grey_total - covered
    pull = float(((pose - start) ** 2).sum()) / FIT_PRIOR_PX**2
    return missed / scale**2 / 16.0 + pull


def _disc_grey_share(
    region: NDArray[np.bool_], centre: NDArray[np.float64], radius_px: float
) -> float:
    """The share of the disc around ``centre`` that is grey in ``region``."""
    disc = np.zeros(region.shape, dtype=np.uint8)
    cv2.circle(
        disc, _fixed(centre, 1.0), round(radius_px * (1 << _SHIFT)), (1,), -1, cv2.LINE_8, _SHIFT
    )
    inside = disc > 0
    return float(region[inside].mean()) if inside.any() else 0.0


@dataclass(frozen=True)
class AgnosticFit:
    """What the grey strokes of an agnostic photo say (``fit_agnostic``)."""

    layout: BodyLayout
    pose: NDArray[np.float64]
    unit_px: int

    def arms_only(self, shape: tuple[int, int]) -> NDArray[np.bool_]:
        """The arms' strokes outside the torso's (where the grey is around an arm)."""
        arms = agnostic_mask(self.pose, self.unit_px, shape, parts="arms")
        torso = agnostic_mask(self.pose, self.unit_px, shape, parts="torso")
        only: NDArray[np.bool_] = arms & ~torso
        return only


def fit_agnostic(layout: BodyLayout, region: NDArray[np.bool_]) -> AgnosticFit:
    """``layout`` with the elbows and wrists read from the grey region's arm strokes
    (``fit_stroke_pose``), with the fitted stroke pose and unit r in pixels.

    A joint is read from the grey where the grey still shows at least ``MIN_DISC_GREY``
    of its 5 r disc. Elsewhere the clothing there was pasted back over the grey (a
    sleeve taken for trousers by the parser, say): the strokes say nothing there, and
    MediaPipe, which sees that clothing, keeps its guess. The shoulders stay
    MediaPipe's: the garment's placement constants are calibrated on them."""
    pose = fit_stroke_pose(region, layout)
    unit_px = stroke_unit_px(pose)
    joints = {}
    for name, index in (
        ("elbow_l", ELBOW_L), ("elbow_r", ELBOW_R), ("wrist_l", WRIST_L), ("wrist_r", WRIST_R)
    ):  # fmt: skip
        shown = _disc_grey_share(region, pose[index], 5 * unit_px) >= MIN_DISC_GREY
        joints[name] = pose[index].copy() if shown else getattr(layout, name)
    fitted = dataclasses.replace(
        layout,
        hand_l=layout.hand_l + (joints["wrist_l"] - layout.wrist_l),
        hand_r=layout.hand_r + (joints["wrist_r"] - layout.wrist_r),
        **joints,
    )
    return AgnosticFit(fitted, pose, unit_px)


def skin_colour(rgb: NDArray[np.uint8], layout: BodyLayout) -> NDArray[np.float64]:
    """Median skin colour from the face: a patch between the nose and the ears."""
    face_width = (
        float(np.hypot(*(layout.ears[1] - layout.ears[0]))) or 0.3 * layout.shoulder_width_px
    )
    cx, cy = layout.nose
    half = max(3.0, 0.22 * face_width)
    x0, x1 = int(max(0, cx - half)), int(min(rgb.shape[1], cx + half))
    y0, y1 = int(max(0, cy - half * 0.5)), int(min(rgb.shape[0], cy + half * 1.2))
    patch = rgb[y0:y1, x0:x1].reshape(-1, 3).astype(np.float64)
    if patch.shape[0] < 4:
        return np.array([200.0, 160.0, 140.0])
    luma = patch @ np.array([0.299, 0.587, 0.114])
    lo, hi = np.percentile(luma, [35, 85])
    chosen = patch[(luma >= lo) & (luma <= hi)]
    colour: NDArray[np.float64] = np.median(chosen if chosen.size else patch, axis=0)
    return colour


def skin_like(rgb: NDArray[np.uint8], skin: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Pixels whose chroma is near ``skin`` (YCrCb, lightness within a wide band)."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    ref = cv2.cvtColor(np.clip(skin, 0, 255).astype(np.uint8)[None, None, :], cv2.COLOR_RGB2YCrCb)
    ref_f = ref.reshape(3).astype(np.float32)
    chroma = np.hypot(ycc[..., 1] - ref_f[1], ycc[..., 2] - ref_f[2])
    result: NDArray[np.bool_] = (chroma < 9.0) & (np.abs(ycc[..., 0] - ref_f[0]) < 60)
    return result


def _patch_colour(
    rgb: NDArray[np.uint8], centre: NDArray[np.float64], half_px: float
) -> NDArray[np.float64] | None:
    height_px, width_px = rgb.shape[:2]
    x0, x1 = int(max(0, centre[0] - half_px)), int(min(width_px, centre[0] + half_px))
    y0, y1 = int(max(0, centre[1] - half_px)), int(min(height_px, centre[1] + half_px))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    colour: NDArray[np.float64] = np.median(rgb[y0:y1, x0:x1].reshape(-1, 3), axis=0)
    return colour


def top_in_front(
    rgb: NDArray[np.uint8],
    layout: BodyLayout,
    skin: NDArray[np.bool_],
    below_hip: float = 0.1,
) -> NDArray[np.bool_]:
    """The shopper's top, from the shoulders to ``below_hip`` shoulder widths under the
    hip line: person pixels nearer the top's colour (on the chest) than the lower
    garment's (just under the hips, or on a thigh), in the piece that holds the chest
    (a patterned skirt's top-coloured spots are islands of their own). Without two
    colours to tell apart, the non-skin person pixels above the hip line. ``skin``: the
    photo's skin-coloured pixels (``skin_like``), never part of the top."""
    d = layout.shoulder_width_px
    shape = rgb.shape[:2]
    shoulder_y = float(min(layout.shoulder_l[1], layout.shoulder_r[1]))
    hip_y = float(max(layout.hip_l[1], layout.hip_r[1]))
    # Work on the band of rows only (a third of the photo or less).
    y0 = int(np.clip(shoulder_y + 1, 0, shape[0]))
    y1 = int(np.clip(hip_y + below_hip * d, y0, shape[0]))
    found_mask = np.zeros(shape, dtype=bool)
    if y1 <= y0:
        return found_mask
    band_rgb = rgb[y0:y1]
    person = layout.person_mask[y0:y1] > 0.5
    band_skin = skin[y0:y1]
    chest = layout.shoulder_mid + 0.45 * (layout.hip_mid - layout.shoulder_mid)
    top = _patch_colour(rgb, chest, 0.1 * d)
    # The old lower garment: just below the hip line (shorts, skirts and trousers all
    # cover it), or on a thigh when that is bare.
    bottom = None
    for probe in (
        layout.hip_mid + np.array([0.0, 0.15 * d]),
        layout.hip_l + 0.4 * (layout.knee_l - layout.hip_l),
    ):
        colour = _patch_colour(rgb, probe, 0.06 * d)
        row, column = int(probe[1]), int(probe[0])
        if colour is None or not (0 <= row < shape[0] and 0 <= column < shape[1]):
            continue
        if not skin[row, column]:
            bottom = colour
            break
    if top is None or bottom is None or np.linalg.norm(top - bottom) < 20:
        # No second colour to tell them apart: the top ends at the hip line.
        stop = int(np.clip(hip_y, y0, y1)) - y0
        found_mask[y0 : y0 + stop] = (person & ~band_skin)[:stop]
        return found_mask
    # Nearest colour at half resolution (a mask; 4x less work), back to full size.
    half = band_rgb[::2, ::2].astype(np.float32)
    nearer = ((half - top) ** 2).sum(axis=2) < ((half - bottom) ** 2).sum(axis=2)
    near_top = (
        cv2.resize(
            nearer.astype(np.uint8),
            (band_rgb.shape[1], band_rgb.shape[0]),
            interpolation=cv2.INTER_NEAREST,
        )
        > 0
    )
    candidate = person & near_top & ~band_skin
    candidate_u8 = cv2.morphologyEx(
        candidate.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)
    )
    _count, labels = cv2.connectedComponents(candidate_u8, connectivity=8)
    row, column = int(chest[1]) - y0, int(chest[0])
    if (
        not (0 <= row < labels.shape[0] and 0 <= column < labels.shape[1])
        or labels[row, column] == 0
    ):
        found_mask[y0:y1] = candidate_u8 > 0
        return found_mask
    found_mask[y0:y1] = labels == labels[row, column]
    return found_mask


#: Hair is looked for down to this many shoulder widths below the shoulder line, and
#: at most this far sideways from the nose (long hair over the chest, not the top).
HAIR_REACH = (0.7, 0.6)
#: RGB distance to the hair colour (sampled at the crown) that still counts as hair.
HAIR_DISTANCE = 40.0


def hair_mask(rgb: NDArray[np.uint8], layout: BodyLayout) -> NDArray[np.bool_]:
    """Hair that falls over the shoulders or chest (it stays in front of a garment).

    The colour is sampled at the crown (the person mask's top above the nose); hair is
    person pixels of that colour connected to the crown, within ``HAIR_REACH``. A bald
    or covered head (skin or nothing at the crown) gives an empty mask, and so does a
    top that matches the hair (too much of the torso would be "hair").
    """
    shape = (int(rgb.shape[0]), int(rgb.shape[1]))
    hair = np.zeros(shape, dtype=bool)
    d = layout.shoulder_width_px
    face = float(np.hypot(*(layout.ears[1] - layout.ears[0]))) or 0.3 * d
    nose_x, nose_y = int(layout.nose[0]), int(layout.nose[1])
    person = layout.person_mask > 0.5
    if not (0 <= nose_x < shape[1]) or not person[: max(0, nose_y), nose_x].any():
        return hair
    crown_y = int(np.argmax(person[:, nose_x]))
    y0, y1 = crown_y + int(0.05 * face), crown_y + max(2, int(0.25 * face))
    x0, x1 = max(0, nose_x - int(0.2 * face)), min(shape[1], nose_x + int(0.2 * face) + 1)
    sample = rgb[y0:y1, x0:x1].reshape(-1, 3)
    if sample.shape[0] < 4:
        return hair
    colour = np.median(sample, axis=0).astype(np.float32)
    tone = skin_colour(rgb, layout)
    if skin_like(colour.astype(np.uint8)[None, None, :], tone)[0, 0]:
        return hair
    shoulder_y = float(min(layout.shoulder_l[1], layout.shoulder_r[1]))
    bottom = int(np.clip(shoulder_y + HAIR_REACH[0] * d, 0, shape[0]))
    left = int(np.clip(nose_x - HAIR_REACH[1] * d, 0, shape[1]))
    right = int(np.clip(nose_x + HAIR_REACH[1] * d, 0, shape[1]))
    if bottom <= crown_y or right <= left:
        return hair
    box = rgb[crown_y:bottom, left:right].astype(np.float32)
    near = ((box - colour) ** 2).sum(axis=2) < HAIR_DISTANCE**2
    near &= person[crown_y:bottom, left:right]
    near_u8 = cv2.morphologyEx(near.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    _count, labels = cv2.connectedComponents(near_u8, connectivity=8)
    seeds = np.unique(labels[y0 - crown_y : y1 - crown_y, x0 - left : x1 - left])
    seeds = seeds[seeds > 0]
    if not seeds.size:
        return hair
    found = np.isin(labels, seeds)
    # A top of the hair's colour would join the hair at the neck: then keep only what
    # is above the shoulder line.
    below = found[max(0, int(shoulder_y) - crown_y) :]
    if below.sum() > 0.15 * below.size:
        found[max(0, int(shoulder_y) - crown_y) :] = False
    hair[crown_y:bottom, left:right] = found
    return hair
