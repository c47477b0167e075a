"""Garment product photos: background removal, garment landmarks, the prepared garment.

A product photo (in-shop flat lay or ghost mannequin) has a plain background. The
background colour is read from the photo's border; the background is every pixel that
is close to that colour *and* reachable from the border without crossing an edge, so a
white T-shirt on a white page keeps its inside (its outline is an edge). What is left,
largest piece with holes filled, is the garment.

Landmarks come from the mask's outline (pixel coordinates, x right, y down):

- ``neck``: the lowest point of the top outline near the centre (front neckline);
- ``shoulder_left/right``: the outline's extreme points towards up-and-out;
- ``armpit_left/right`` and ``hem_left/right``: the ends of the central run of mask
  pixels (the body panel, not the sleeves) where the sleeves leave it and at its bottom;
- ``cuff_left/right``: the sleeve point farthest from its shoulder (sleeveless: none).

"Left" is the image's left (the wearer's right), as a shopper sees a product photo.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from fitroom.errors import (
    GarmentBackgroundBusy,
    GarmentShowsPerson,
    NoGarmentFound,
    UnsupportedCategory,
)
from fitroom.vision.pose import Landmark, PoseObservation


class Category(enum.StrEnum):
    """What part of the body a garment dresses."""

    UPPER = "upper"
    LOWER = "lower"
    DRESS = "dress"


#: The try-on dresses these (all three; kept as a tuple so a new category is refused
#: until the compositor knows it).
SUPPORTED_CATEGORIES = (Category.UPPER, Category.LOWER, Category.DRESS)

#: Border pixels within this Lab distance of the border's median colour are background.
BACKGROUND_DELTA_E = 10.0
#: Below this share of border pixels matching the median colour, the background is busy.
MIN_PLAIN_BORDER_SHARE = 0.80
#: The garment must cover this share of the photo (too little: nothing; too much: no page).
MIN_GARMENT_SHARE = 0.03
MAX_GARMENT_SHARE = 0.92
#: Photos are analysed at this long side (landmarks scaled back to full size).
ANALYSIS_LONG_SIDE_PX = 512
#: A cut-out's outermost pixels (this wide) are part background; ``garment_colours``
#: recolours them and this many pixels beyond them from the garment just inside.
RIM_PX = 1
BLEED_PX = 2


def parse_category(value: str) -> Category:
    """A category string -> ``Category``; unknown or unsupported ones are specific errors."""
    try:
        category = Category(value.strip().lower())
    except ValueError:
        raise UnsupportedCategory(
            f"garment category {value!r} is unknown; use one of "
            f"{', '.join(c.value for c in Category)}",
            category=value,
            supported=[c.value for c in SUPPORTED_CATEGORIES],
        ) from None
    if category not in SUPPORTED_CATEGORIES:
        raise UnsupportedCategory(
            f"try-on dresses {', '.join(c.value for c in SUPPORTED_CATEGORIES)} garments "
            f"so far; {category.value!r} garments are not supported yet",
            category=category.value,
            supported=[c.value for c in SUPPORTED_CATEGORIES],
        )
    return category


@dataclass(frozen=True)
class GarmentLandmarks:
    """Named outline points of a garment photo, in pixels (x, y)."""

    neck: tuple[float, float]
    shoulder_left: tuple[float, float]
    shoulder_right: tuple[float, float]
    armpit_left: tuple[float, float]
    armpit_right: tuple[float, float]
    hem_left: tuple[float, float]
    hem_right: tuple[float, float]
    cuff_left: tuple[float, float] | None
    cuff_right: tuple[float, float] | None

    @property
    def shoulder_width_px(self) -> float:
        return float(np.hypot(*np.subtract(self.shoulder_right, self.shoulder_left)))

    def as_dict(self) -> dict[str, tuple[float, float] | None]:
        """Name -> (x, y) point, None where there is none."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class LowerLandmarks:
    """Named outline points of trousers, shorts or a skirt, in pixels (x, y).

    ``crotch`` and the ``*_inner`` hem points are None for a skirt (one opening).
    """

    waist_left: tuple[float, float]
    waist_right: tuple[float, float]
    crotch: tuple[float, float] | None
    hem_left_outer: tuple[float, float]
    hem_left_inner: tuple[float, float] | None
    hem_right_inner: tuple[float, float] | None
    hem_right_outer: tuple[float, float]

    @property
    def waist_width_px(self) -> float:
        return float(np.hypot(*np.subtract(self.waist_right, self.waist_left)))

    @property
    def has_legs(self) -> bool:
        return self.crotch is not None

    def as_dict(self) -> dict[str, tuple[float, float] | None]:
        """Name -> (x, y) point, None where there is none."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


@dataclass(frozen=True)
class PreparedGarment:
    """A garment cut out of its photo, ready to warp: done once per product.

    ``rgb`` and ``mask`` are cropped to the garment's box (plus a margin);
    ``sleeve_left/right`` are the parts of ``mask`` outside the body panel (empty for
    lower-body garments, whose ``landmarks`` are ``LowerLandmarks``).
    """

    @property
    def upper(self) -> GarmentLandmarks:
        """The landmarks of a top or dress (``ValueError`` for trousers or a skirt)."""
        if not isinstance(self.landmarks, GarmentLandmarks):
            raise ValueError(f"a {self.category.value} garment has no shoulders or sleeves")
        return self.landmarks

    @property
    def lower(self) -> LowerLandmarks:
        """The landmarks of trousers, shorts or a skirt (``ValueError`` otherwise)."""
        if not isinstance(self.landmarks, LowerLandmarks):
            raise ValueError(f"a {self.category.value} garment has no waistband or legs")
        return self.landmarks

    category: Category
    rgb: NDArray[np.uint8]
    mask: NDArray[np.bool_]
    landmarks: GarmentLandmarks | LowerLandmarks
    sleeve_left: NDArray[np.bool_]
    sleeve_right: NDArray[np.bool_]
    background_rgb: tuple[int, int, int]
    source_size_px: tuple[int, int] = field(default=(0, 0))

    def rgba(self) -> NDArray[np.uint8]:
        """The cut-out as RGBA (alpha 255 on the garment), for showing it."""
        alpha = np.where(self.mask, 255, 0).astype(np.uint8)
        return np.dstack([self.rgb, alpha])


def _lab(rgb: NDArray[np.uint8]) -> NDArray[np.float32]:
    lab = cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2LAB)
    return np.asarray(lab, dtype=np.float32)


def _border(values: NDArray[np.float32], width_px: int) -> NDArray[np.float32]:
    top = values[:width_px].reshape(-1, values.shape[-1])
    bottom = values[-width_px:].reshape(-1, values.shape[-1])
    left = values[width_px:-width_px, :width_px].reshape(-1, values.shape[-1])
    right = values[width_px:-width_px, -width_px:].reshape(-1, values.shape[-1])
    return np.concatenate([top, bottom, left, right])


def _fill_holes(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    padded = np.pad(mask.astype(np.uint8), 1)
    flood = padded.copy()
    cv2.floodFill(flood, None, (0, 0), (1,))
    holes = flood == 0
    filled = padded.astype(bool) | holes
    result: NDArray[np.bool_] = filled[1:-1, 1:-1]
    return result


def largest_component(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """The biggest 8-connected piece of a mask (empty mask stays empty)."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        mask.astype(np.uint8), connectivity=8
    )
    if count <= 1:
        return np.zeros_like(mask)
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    result: NDArray[np.bool_] = labels == biggest
    return result


def segment_garment(
    rgb: NDArray[np.uint8], drop_shadow: bool = True
) -> tuple[NDArray[np.bool_], tuple[int, int, int]]:
    """Garment mask (H x W bool) and background colour of a product photo
    (``drop_shadow``: trim a drop shadow off the outline, see ``_cast_shadow``).

    Raises ``GarmentBackgroundBusy`` when the border is not one plain colour and
    ``NoGarmentFound`` when nothing (or everything) differs from the background.
    """
    height_px, width_px = rgb.shape[:2]
    scale = min(1.0, ANALYSIS_LONG_SIDE_PX / max(height_px, width_px))
    small: NDArray[np.uint8] = rgb
    if scale < 1.0:
        size = (round(width_px * scale), round(height_px * scale))
        small = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    lab = _lab(small)
    border = _border(lab, 3)
    background_lab = np.median(border, axis=0)
    border_delta = np.linalg.norm(border - background_lab, axis=1)
    plain_share = float(np.mean(border_delta < BACKGROUND_DELTA_E))
    if plain_share < MIN_PLAIN_BORDER_SHARE:
        raise GarmentBackgroundBusy(
            f"only {plain_share:.0%} of the garment photo's border is one plain colour "
            f"(at least {MIN_PLAIN_BORDER_SHARE:.0%} is needed to cut the garment out)",
            advice="use the product photo on a plain white or grey background "
            "(flat lay or ghost mannequin), with the garment not touching the edges",
            plain_border_share=round(plain_share, 3),
        )
    delta = np.linalg.norm(lab - background_lab, axis=2)
    # The garment's outline is an edge even where its colour matches the page (white
    # on white): Canny on lightness with low thresholds, thickened to close small gaps.
    luma_u8 = cv2.GaussianBlur(small, (3, 3), 0)
    luma_u8 = cv2.cvtColor(luma_u8, cv2.COLOR_RGB2GRAY)
    edges = cv2.dilate(cv2.Canny(luma_u8, 4, 12), np.ones((3, 3), np.uint8), iterations=2) > 0
    passable = (delta < 2.5 * BACKGROUND_DELTA_E) & ~edges
    passable_u8 = np.pad(passable.astype(np.uint8), 1, constant_values=1)
    _count, labels = cv2.connectedComponents(passable_u8, connectivity=4)
    outside = labels == labels[0, 0]
    background = outside[1:-1, 1:-1]
    garment = ~background
    garment = (
        cv2.morphologyEx(garment.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
    )
    garment = _fill_holes(largest_component(garment))
    share = float(garment.mean())
    if share < MIN_GARMENT_SHARE or share > MAX_GARMENT_SHARE:
        raise NoGarmentFound(
            f"no garment found in the photo: the part that differs from the background "
            f"covers {share:.0%} of it (expected {MIN_GARMENT_SHARE:.0%}-"
            f"{MAX_GARMENT_SHARE:.0%})",
            advice="send the garment's product photo: the whole garment, centred, on a "
            "plain background",
            garment_share=round(share, 3),
        )
    # A drop shadow is found at the analysis size (a soft rim needs no more detail).
    shadow = _cast_shadow(garment, lab, background_lab) if drop_shadow else None
    if scale < 1.0:
        full = cv2.resize(
            garment.astype(np.uint8) * 255, (width_px, height_px), interpolation=cv2.INTER_LINEAR
        )
        garment = full >= 128
        if shadow is not None:
            size = (width_px, height_px)
            shadow = cv2.resize(shadow.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    # The outline band (edges were thickened to stop the flood) holds background-coloured
    # pixels: drop those within a few pixels of the outline that match the page.
    band_px = max(3, round(4 / scale))
    inner = cv2.erode(garment.astype(np.uint8), np.ones((2 * band_px + 1,) * 2, np.uint8)) > 0
    full_delta = np.linalg.norm(_lab(rgb) - background_lab, axis=2)
    garment &= inner | (full_delta >= BACKGROUND_DELTA_E * 0.6)
    garment = _fill_holes(largest_component(garment))
    if shadow is not None and shadow.any():
        trimmed = _fill_holes(largest_component(garment & ~shadow))
        # A shadow is a thin rim: losing more than a few percent means pale parts of
        # the garment itself (a grey collar, white straps) looked like one.
        if trimmed.sum() >= (1.0 - MAX_SHADOW_SHARE) * garment.sum():
            garment = trimmed
    background_rgb = np.median(_border(rgb.astype(np.float32), 3), axis=0)
    colour = (int(background_rgb[0]), int(background_rgb[1]), int(background_rgb[2]))
    return garment, colour


#: A cast shadow is looked for within this share of the garment's height of its outline.
SHADOW_BAND = 0.025
#: Most of the garment's area a shadow trim may take away.
MAX_SHADOW_SHARE = 0.05


def _cast_shadow(
    mask: NDArray[np.bool_], lab: NDArray[np.float32], page_lab: NDArray[np.float32]
) -> NDArray[np.bool_]:
    """A drop shadow cut out with the garment: near its outline, pixels 4-20 L darker
    than the page and as colourless (a, b within 6), nearer the page's colour than the
    garment's. Empty when the garment's own colour is close to the page's (white on
    white), where a shadow and the garment cannot be told apart this way."""
    none = np.zeros_like(mask)
    ys = np.nonzero(mask.any(axis=1))[0]
    if not ys.size:
        return none
    band_px = max(2, round(SHADOW_BAND * (ys[-1] - ys[0])))
    kernel = np.ones((2 * band_px + 1,) * 2, np.uint8)
    inner = cv2.erode(mask.astype(np.uint8), kernel) > 0
    if not inner.any():
        return none
    garment_lab = np.median(lab[inner], axis=0)
    if np.linalg.norm(garment_lab - page_lab) < 20:
        return none
    band = mask & ~inner
    chroma = np.linalg.norm(lab[..., 1:] - page_lab[1:], axis=2)
    to_page = np.linalg.norm(lab - page_lab, axis=2)
    to_garment = np.linalg.norm(lab - garment_lab, axis=2)
    # A soft drop shadow: somewhat darker than the page, never much darker (a grey
    # collar or lining is).
    darker = (lab[..., 0] < page_lab[0] - 4.0) & (lab[..., 0] > page_lab[0] - 20.0)
    shadow: NDArray[np.bool_] = band & darker & (chroma < 6.0) & (to_page < to_garment)
    return shadow


def _extreme(points: NDArray[np.float64], direction: tuple[float, float]) -> tuple[float, float]:
    scores = points @ np.asarray(direction, dtype=np.float64)
    best = points[int(np.argmax(scores))]
    return float(best[0]), float(best[1])


def _central_runs(
    mask: NDArray[np.bool_], centre_x: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Per row, the [left, right] ends of the mask run through ``centre_x`` (-1 if none)."""
    height_px, width_px = mask.shape
    left = np.full(height_px, -1, dtype=np.int64)
    right = np.full(height_px, -1, dtype=np.int64)
    for y in range(height_px):
        row = mask[y]
        if not row[centre_x]:
            continue
        off = np.flatnonzero(~row[:centre_x])
        left[y] = (off[-1] + 1) if off.size else 0
        off_r = np.flatnonzero(~row[centre_x:])
        right[y] = (centre_x + off_r[0] - 1) if off_r.size else width_px - 1
    return left, right


#: A dress is read as a top cut at this share of its height (bodice and sleeves; the
#: skirt below would pass for sleeves where it flares), then given its own hem.
DRESS_TOP_SHARE = 0.45


def garment_landmarks(mask: NDArray[np.bool_]) -> GarmentLandmarks:
    """Landmarks of a top from its mask (see the module docstring)."""
    return _top_shape(mask)[0]


def _top_shape(
    mask: NDArray[np.bool_],
) -> tuple[GarmentLandmarks, NDArray[np.bool_], NDArray[np.bool_]]:
    """A top's landmarks and its image-left and right sleeve masks (found together: the
    cuffs are read off the sleeves)."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        raise NoGarmentFound("the garment mask is empty", advice="send the garment's product photo")
    y_top, y_bottom = int(ys.min()), int(ys.max())
    height = y_bottom - y_top + 1
    centre_x = round(float(np.median(xs)))
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64)
    run_left, run_right = _central_runs(mask, centre_x)
    rows = np.flatnonzero(run_left >= 0)
    hem_row = int(rows.max())
    # Body panel width: median over the lower third of the central run.
    lower_rows = rows[rows > y_top + 0.6 * height]
    lower_rows = lower_rows if lower_rows.size else rows
    panel_width = float(np.median(run_right[lower_rows] - run_left[lower_rows]))
    panel_left = float(np.median(run_left[lower_rows]))
    panel_right = float(np.median(run_right[lower_rows]))
    # Armpit: walking up from the hem, the first row where the run is much wider
    # than the body panel (the sleeves join), on each side separately.
    top_row = int(y_top + 0.08 * height)
    armpit_left_y = armpit_right_y = float(y_top + 0.35 * (hem_row - y_top))
    jump = 0.08 * panel_width
    for y in range(hem_row, top_row, -1):
        if run_left[y] >= 0 and run_left[y] < panel_left - jump:
            armpit_left_y = float(y)
            break
    for y in range(hem_row, top_row, -1):
        if run_right[y] >= 0 and run_right[y] > panel_right + jump:
            armpit_right_y = float(y)
            break
    # Shoulder tips: the outline's extreme point up-and-out, looked for above the
    # panel's sides (a T-shirt's straight sleeves would otherwise win at their ends).
    upper = outline[outline[:, 1] < y_top + 0.4 * height]
    window = 0.1 * panel_width

    def near(x_side: float, side: NDArray[np.bool_]) -> NDArray[np.float64]:
        close = upper[side & (np.abs(upper[:, 0] - x_side) <= window)]
        chosen: NDArray[np.float64] = close if close.size else upper[side]
        return chosen

    shoulder_left = _extreme(near(panel_left, upper[:, 0] < centre_x), (-1.0, -1.2))
    shoulder_right = _extreme(near(panel_right, upper[:, 0] > centre_x), (1.0, -1.2))
    # Neck: lowest top-outline point in the central band between the shoulders.
    band = max(2, int(0.12 * (shoulder_right[0] - shoulder_left[0])))
    top_profile = [
        int(np.argmax(mask[:, x]))
        for x in range(centre_x - band, centre_x + band + 1)
        if mask[:, x].any()
    ]
    neck_y = float(np.median(top_profile)) if top_profile else float(y_top)
    neck = (float(centre_x), neck_y)
    armpit_left_y = max(armpit_left_y, shoulder_left[1] + 0.2 * panel_width)
    armpit_right_y = max(armpit_right_y, shoulder_right[1] + 0.2 * panel_width)
    armpit_left = (panel_left, armpit_left_y)
    armpit_right = (panel_right, armpit_right_y)
    hem_rows = rows[rows > hem_row - 0.03 * height]
    hem_left = (float(np.median(run_left[hem_rows])), float(hem_row))
    hem_right = (float(np.median(run_right[hem_rows])), float(hem_row))
    sleeve_left, sleeve_right = _sleeve_masks(
        mask, shoulder_left, shoulder_right, armpit_left, armpit_right, hem_left, hem_right
    )
    cuff_left = _cuff(sleeve_left, shoulder_left, panel_width)
    cuff_right = _cuff(sleeve_right, shoulder_right, panel_width)
    landmarks = GarmentLandmarks(
        neck=neck,
        shoulder_left=shoulder_left,
        shoulder_right=shoulder_right,
        armpit_left=armpit_left,
        armpit_right=armpit_right,
        hem_left=hem_left,
        hem_right=hem_right,
        cuff_left=cuff_left,
        cuff_right=cuff_right,
    )
    return landmarks, sleeve_left, sleeve_right


def _panel_polygon(
    shoulder_left: tuple[float, float],
    shoulder_right: tuple[float, float],
    armpit_left: tuple[float, float],
    armpit_right: tuple[float, float],
    hem_left: tuple[float, float],
    hem_right: tuple[float, float],
    height_px: int,
) -> NDArray[np.int32]:
    top = min(shoulder_left[1], shoulder_right[1]) - 0.1 * height_px
    return (
        np.array(
            [
                (shoulder_left[0], top),
                (shoulder_right[0], top),
                shoulder_right,
                armpit_right,
                (hem_right[0], hem_right[1] + 2),
                (hem_left[0], hem_left[1] + 2),
                armpit_left,
                shoulder_left,
            ],
            dtype=np.float64,
        )
        .round()
        .astype(np.int32)
    )


def _sleeve_masks(
    mask: NDArray[np.bool_],
    shoulder_left: tuple[float, float],
    shoulder_right: tuple[float, float],
    armpit_left: tuple[float, float],
    armpit_right: tuple[float, float],
    hem_left: tuple[float, float],
    hem_right: tuple[float, float],
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Mask parts outside the body panel, split into the image-left and right sleeve."""
    panel = np.zeros(mask.shape, dtype=np.uint8)
    polygon = _panel_polygon(
        shoulder_left, shoulder_right, armpit_left, armpit_right, hem_left, hem_right, mask.shape[0]
    )
    cv2.fillPoly(panel, [polygon], (1,))
    outside = mask & (panel == 0)
    outside = (
        cv2.morphologyEx(outside.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
    )
    centre_x = (shoulder_left[0] + shoulder_right[0]) / 2
    columns = np.arange(mask.shape[1])[None, :]
    left = largest_component(outside & (columns < centre_x))
    right = largest_component(outside & (columns >= centre_x))
    # A sleeve hangs from the shoulder: a piece that starts below half-way down to the
    # armpit is a flared hem or skirt, not a sleeve.
    for piece, shoulder, armpit in (
        (left, shoulder_left, armpit_left),
        (right, shoulder_right, armpit_right),
    ):
        rows = np.nonzero(piece.any(axis=1))[0]
        if rows.size and rows.min() > shoulder[1] + 0.5 * (armpit[1] - shoulder[1]):
            piece[:] = False
    return left, right


def _dress_hem(mask: NDArray[np.bool_]) -> dict[str, tuple[float, float]]:
    """A dress's hem corners: the ends of its lowest rows (median over the last 3%)."""
    ys = np.nonzero(mask)[0]
    y_top, y_bottom = int(ys.min()), int(ys.max())
    rows = [
        y for y in range(int(y_bottom - 0.03 * (y_bottom - y_top)), y_bottom + 1) if mask[y].any()
    ]
    lefts = [int(np.flatnonzero(mask[y]).min()) for y in rows]
    rights = [int(np.flatnonzero(mask[y]).max()) for y in rows]
    return {
        "hem_left": (float(np.median(lefts)), float(y_bottom)),
        "hem_right": (float(np.median(rights)), float(y_bottom)),
    }


def _cuff(
    sleeve: NDArray[np.bool_], shoulder: tuple[float, float], panel_width: float
) -> tuple[float, float] | None:
    """The sleeve end farthest from the shoulder; None for a sleeveless garment."""
    if sleeve.sum() < (0.12 * panel_width) ** 2:
        return None
    ys, xs = np.nonzero(sleeve)
    distance = np.hypot(xs - shoulder[0], ys - shoulder[1])
    far = distance >= np.percentile(distance, 97)
    return float(xs[far].mean()), float(ys[far].mean())


def _runs(row: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) of each run of True in a row."""
    padded = np.concatenate([[False], row, [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def lower_landmarks(mask: NDArray[np.bool_]) -> LowerLandmarks:
    """Waistband corners, crotch and hem ends of trousers, shorts or a skirt."""
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        raise NoGarmentFound("the garment mask is empty", advice="send the garment's product photo")
    y_top, y_bottom = int(ys.min()), int(ys.max())
    height = y_bottom - y_top + 1
    width = int(xs.max()) - int(xs.min()) + 1
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = np.concatenate([c.reshape(-1, 2) for c in contours]).astype(np.float64)
    centre_x = float(np.median(xs))
    top = outline[outline[:, 1] < y_top + 0.15 * height]
    waist_left = _extreme(top[top[:, 0] < centre_x], (-1.0, -1.0))
    waist_right = _extreme(top[top[:, 0] > centre_x], (1.0, -1.0))
    # Two wide runs near the bottom: two legs (trousers, shorts); one: a skirt.
    min_leg = 0.08 * width
    probe = int(y_bottom - 0.03 * height)
    runs = [r for r in _runs(mask[probe]) if r[1] - r[0] >= min_leg]
    if len(runs) >= 2:
        left_run, right_run = runs[0], runs[-1]
        gap_x = round((left_run[1] + right_run[0]) / 2)
        column = mask[:, gap_x]
        above = np.flatnonzero(column[: probe + 1])
        crotch_y = float(above.max()) if above.size else float(y_top + 0.3 * height)
        hem_y = float(probe)
        return LowerLandmarks(
            waist_left=waist_left,
            waist_right=waist_right,
            crotch=(float(gap_x), crotch_y),
            hem_left_outer=(float(left_run[0]), hem_y),
            hem_left_inner=(float(left_run[1] - 1), hem_y),
            hem_right_inner=(float(right_run[0]), hem_y),
            hem_right_outer=(float(right_run[1] - 1), hem_y),
        )
    bottom_rows = [y for y in range(probe, y_bottom + 1) if mask[y].any()]
    lefts = [int(np.flatnonzero(mask[y]).min()) for y in bottom_rows]
    rights = [int(np.flatnonzero(mask[y]).max()) for y in bottom_rows]
    hem_y = float(probe)
    return LowerLandmarks(
        waist_left=waist_left,
        waist_right=waist_right,
        crotch=None,
        hem_left_outer=(float(np.median(lefts)), hem_y),
        hem_left_inner=None,
        hem_right_inner=None,
        hem_right_outer=(float(np.median(rights)), hem_y),
    )


#: MediaPipe's visibility above which both elbows count as seen; with a face too, the
#: "garment photo" is a photo of someone wearing clothes. (A printed portrait on a
#: T-shirt gives a face and a torso, but no elbows: about 0.2.)
WORN_ELBOW_VISIBILITY = 0.6


def refuse_worn_garment(observation: PoseObservation | None) -> None:
    """``GarmentShowsPerson`` when the pose estimator sees a person in the garment photo
    (a face, and both elbows clearly): try-on needs the garment on its own."""
    if observation is None or not observation.faces:
        return
    elbows = min(
        observation.visibility[int(Landmark.left_elbow)],
        observation.visibility[int(Landmark.right_elbow)],
    )
    if elbows >= WORN_ELBOW_VISIBILITY:
        raise GarmentShowsPerson(
            "the garment photo shows a person wearing clothes, not the garment on its own",
            advice="send the garment's product photo: flat lay or ghost mannequin, on a "
            "plain background, without a model",
            elbow_visibility=round(float(elbows), 2),
        )


def garment_colours(rgb: NDArray[np.uint8], mask: NDArray[np.bool_]) -> NDArray[np.uint8]:
    """``rgb`` with the cut-out's rim (``RIM_PX`` wide, part background after
    antialiasing and JPEG) and the pixels just outside it in the colour just inside.

    Warps sample between pixels: without this, the product photo's page (often white)
    bleeds into the garment's edges, and where a sleeve meets the body panel a dotted
    light line shows through. Done once per product."""
    inner = cv2.erode(mask.astype(np.uint8), np.ones((2 * RIM_PX + 1,) * 2, np.uint8))
    if not inner.any():
        return rgb
    reach = 2 * (RIM_PX + BLEED_PX) + 1
    weight = cv2.blur(inner.astype(np.float32), (reach, reach))
    total = cv2.blur(rgb.astype(np.float32) * inner[..., None], (reach, reach))
    near = (weight > 1e-6) & (inner == 0)
    out = rgb.copy()
    out[near] = np.clip(total[near] / weight[near][:, None] + 0.5, 0, 255).astype(np.uint8)
    return out


def prepare_garment(rgb: NDArray[np.uint8], category: Category | str) -> PreparedGarment:
    """Cut the garment out of its product photo and find its landmarks."""
    chosen = parse_category(category) if isinstance(category, str) else category
    if chosen not in SUPPORTED_CATEGORIES:
        parse_category(chosen.value)
    mask, background = segment_garment(rgb)
    ys, xs = np.nonzero(mask)
    margin = 4
    y0, y1 = max(0, int(ys.min()) - margin), min(mask.shape[0], int(ys.max()) + margin + 1)
    x0, x1 = max(0, int(xs.min()) - margin), min(mask.shape[1], int(xs.max()) + margin + 1)
    crop_mask = np.ascontiguousarray(mask[y0:y1, x0:x1])
    crop_rgb = garment_colours(np.ascontiguousarray(rgb[y0:y1, x0:x1]), crop_mask)
    if chosen is Category.LOWER:
        empty = np.zeros_like(crop_mask)
        return PreparedGarment(
            category=chosen,
            rgb=crop_rgb,
            mask=crop_mask,
            landmarks=lower_landmarks(crop_mask),
            sleeve_left=empty,
            sleeve_right=empty.copy(),
            background_rgb=background,
            source_size_px=(rgb.shape[1], rgb.shape[0]),
        )
    shape_mask = crop_mask
    if chosen is Category.DRESS:
        ys = np.nonzero(crop_mask)[0]
        shape_mask = crop_mask.copy()
        shape_mask[int(ys.min() + DRESS_TOP_SHARE * (ys.max() - ys.min())) :] = False
    landmarks, sleeve_left, sleeve_right = _top_shape(shape_mask)
    if chosen is Category.DRESS:
        landmarks = dataclasses.replace(landmarks, **_dress_hem(crop_mask))
    return PreparedGarment(
        category=chosen,
        rgb=crop_rgb,
        mask=crop_mask,
        landmarks=landmarks,
        sleeve_left=sleeve_left,
        sleeve_right=sleeve_right,
        background_rgb=background,
        source_size_px=(rgb.shape[1], rgb.shape[0]),
    )
