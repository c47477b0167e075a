"""Flat-lay product photos for the demo store, drawn with numpy and Pillow only.

The demo catalogue needs a believable picture for every product without shipping
photographs or downloading anything. Each garment is described once, in centimetres of
a real size-M garment laid flat (the ``GARMENTS`` spec table): a mirrored outline, the
panels sewn on top of it (collars, lapels, pockets, cuffs, waistbands), the seams and
topstitching, the buttons. Rendering is a chain of pure array steps:

1. ``fit_frame``: place the garment's bounding box in the picture (cm -> px).
2. ``silhouette_mask``: antialiased coverage of the outline and the panels that stick
   out of it (collars, hoods, sleeves laid over the body).
3. ``fabric_texture``: the cloth's albedo (jersey, denim twill, rib, herringbone...).
4. A height field (puffy edges, raised panels, folds, sunken seams) lit by
   ``lambert_shading`` from the top left, so the flat shape reads as cloth.
5. Details on top: stitching, buttons, zips, cords, rivets.
6. ``studio_background`` and a soft drop shadow: a light backdrop the garment casts on.

Tests check the shapes (``silhouette_mask``) rather than pixels: symmetry, a gap
between trouser legs, sleeves apart from the body, a flare towards a dress's hem.

Everything is deterministic: the only randomness is a ``numpy`` generator seeded by the
caller, so the same arguments give the same bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from fitroom.errors import InputError

FloatArray = npt.NDArray[np.float32]
Point = tuple[float, float]

#: Fabric patterns ``fabric_texture`` can weave.
PATTERNS: tuple[str, ...] = (
    "plain",
    "melange",
    "stripes",
    "pinstripe",
    "gingham",
    "check",
    "denim",
    "twill",
    "rib",
    "knit",
    "herringbone",
)

JPEG_QUALITY = 88
MIN_SIDE_PX = 64
MAX_SIDE_PX = 4096
#: Share of the frame the garment's bounding box may use, per axis.
FRAME_FILL = 0.86
SUPERSAMPLE = 2

# -- geometry ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Knot:
    """A control point of an outline in cm; ``sharp`` knots stay corners when smoothed."""

    x: float
    y: float
    sharp: bool = False


def k(x: float, y: float) -> Knot:
    """A smooth knot (the outline rounds off here)."""
    return Knot(x, y, False)


def c(x: float, y: float) -> Knot:
    """A corner knot (the outline keeps a corner here)."""
    return Knot(x, y, True)


@dataclass(frozen=True)
class Shape:
    """A polygon (closed) or polyline (open) of knots, in garment cm (y points down)."""

    knots: tuple[Knot, ...]
    closed: bool = True

    def mirrored(self) -> Shape:
        return Shape(tuple(Knot(-p.x, p.y, p.sharp) for p in self.knots), self.closed)


def shape(*knots: Knot) -> Shape:
    return Shape(tuple(knots), True)


def polyline(*knots: Knot) -> Shape:
    return Shape(tuple(knots), False)


def mirror_outline(*half: Knot) -> Shape:
    """A left-right symmetric outline from its right half.

    ``half`` runs from a point on the centre line (x = 0) at the top, round the right
    side, to a point on the centre line at the bottom; the left half is its mirror.
    """
    if abs(half[0].x) > 1e-9 or abs(half[-1].x) > 1e-9:
        raise ValueError("a half outline must start and end on the centre line (x = 0)")
    left = [Knot(-p.x, p.y, p.sharp) for p in reversed(half[1:-1])]
    return Shape((*half, *left), True)


def arc(
    cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float, n: int = 9
) -> list[Knot]:
    """Smooth knots along an ellipse arc (angles in degrees, y down, 90 = bottom)."""
    angles = np.linspace(math.radians(start_deg), math.radians(end_deg), n)
    return [k(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


def sleeve_end(
    shoulder: Point, angle_deg: float, length_cm: float, opening_cm: float
) -> tuple[Point, Point]:
    """Outer and inner corner of a sleeve hem for a sleeve laid out at ``angle_deg``.

    The angle is measured down from the horizontal; the opening is the flat width of
    the sleeve end, perpendicular to the sleeve's direction.
    """
    a = math.radians(angle_deg)
    dx, dy = math.cos(a), math.sin(a)
    outer = (shoulder[0] + length_cm * dx, shoulder[1] + length_cm * dy)
    inner = (outer[0] - opening_cm * dy, outer[1] + opening_cm * dx)
    return outer, inner


def _along(p: Point, q: Point, t: float) -> Point:
    return (p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t)


def _back_along(end: Point, direction_deg: float, dist: float) -> Point:
    a = math.radians(direction_deg)
    return (end[0] - dist * math.cos(a), end[1] - dist * math.sin(a))


# -- the spec table ---------------------------------------------------------------------

Fill = Literal["fabric", "rib", "inside", "lining"]
LineStyle = Literal["seam", "stitch", "double_stitch", "edge", "crease", "fold", "whisker"]
ButtonKind = Literal["sew", "shank", "rivet", "aglet", "snap"]


@dataclass(frozen=True)
class Part:
    """A panel drawn over the body: collar, lapel, pocket, cuff, waistband..."""

    shape: Shape
    fill: Fill = "fabric"
    #: Brightness of the panel relative to the body fabric.
    tone: float = 1.0
    #: How far the panel stands off the body (drives its relief and cast shadow).
    lift: float = 0.5
    #: Draw a seam along the panel's edge.
    outline: bool = True
    #: Topstitch this far (cm) inside the panel's edge; 0 = no topstitch.
    stitch_inset_cm: float = 0.0
    #: Keep the panel inside the body outline (bands); else it may stick out (collars).
    clip_to_body: bool = False
    mirror: bool = False


@dataclass(frozen=True)
class Line:
    """A seam, topstitch, crease, fold or edge drawn on the garment."""

    shape: Shape
    style: LineStyle
    mirror: bool = False


@dataclass(frozen=True)
class Button:
    """A button, rivet, snap or cord end at a point (cm)."""

    x: float
    y: float
    radius_cm: float
    kind: ButtonKind = "sew"
    mirror: bool = False


@dataclass(frozen=True)
class Cord:
    """A drawstring hanging from ``shape``'s first point, ending in an aglet."""

    shape: Shape
    width_cm: float = 0.7
    mirror: bool = False


@dataclass(frozen=True)
class Zip:
    """A vertical zip on the centre line from ``top_cm`` to ``bottom_cm``."""

    top_cm: float
    bottom_cm: float
    width_cm: float = 1.0


@dataclass(frozen=True)
class Fade:
    """An elliptic worn/faded area (jeans thighs and knees), mirrored."""

    x: float
    y: float
    rx: float
    ry: float
    strength: float


@dataclass(frozen=True)
class GarmentSpec:
    """One garment laid flat, front view, in cm of a size-M sample."""

    name: str
    outline: Shape
    parts: tuple[Part, ...] = ()
    lines: tuple[Line, ...] = ()
    buttons: tuple[Button, ...] = ()
    cords: tuple[Cord, ...] = ()
    zips: tuple[Zip, ...] = ()
    fades: tuple[Fade, ...] = ()
    #: Fabric folds (soft ridges); the seed jitters them a little.
    folds: tuple[Line, ...] = ()
    #: What the sewn buttons are made of (rivets and snaps are always metal).
    button_style: Literal["pearl", "horn", "metal", "tonal"] = "tonal"


def _expand(items: Iterable[Any]) -> list[Any]:
    """Items with ``mirror=True`` doubled by their mirror image."""
    out: list[Any] = []
    for item in items:
        out.append(item)
        if getattr(item, "mirror", False):
            if isinstance(item, Button):
                out.append(replace(item, x=-item.x, mirror=False))
            else:
                out.append(replace(item, shape=item.shape.mirrored(), mirror=False))
    return out


def _tshirt() -> GarmentSpec:
    shoulder = (23.0, 5.0)
    outer, inner = sleeve_end(shoulder, 32, 20, 17)
    underarm = (26.0, 23.5)
    outline = mirror_outline(
        k(0, 2.0),
        c(9, 0),
        c(*shoulder),
        c(*outer),
        c(*inner),
        c(*underarm),
        k(25.4, 45),
        c(26.4, 71),
        k(13, 71.6),
        k(0, 71.8),
    )
    back_neck = arc(0, 0, 9, 2.0, 180, 0)
    front_neck = arc(0, 0, 9, 9.5, 0, 180)
    neck_inside = Shape((*back_neck, *front_neck))
    back_rib = Shape((*arc(0, 0, 9, 2.0, 180, 0), *arc(0, 0, 8.6, 3.5, 0, 180)))
    front_rib = Shape((*arc(0, 0, 9, 9.5, 0, 180), *arc(0, 0.2, 10.9, 11.4, 180, 0)))
    hem_out = _back_along(outer, 32, 2.2)
    hem_in = _back_along(inner, 32, 2.2)
    return GarmentSpec(
        name="tshirt",
        outline=outline,
        parts=(
            Part(neck_inside, fill="inside", lift=-0.6, outline=False),
            Part(back_rib, fill="rib", tone=0.72, lift=0.1, outline=False),
            Part(front_rib, fill="rib", lift=0.25, clip_to_body=True, stitch_inset_cm=0.0),
        ),
        lines=(
            Line(polyline(c(9.3, 0.3), c(*shoulder)), "seam", mirror=True),
            Line(polyline(c(*shoulder), k(24.2, 14), c(*underarm)), "seam", mirror=True),
            Line(polyline(c(*hem_out), c(*hem_in)), "double_stitch", mirror=True),
            Line(polyline(c(-26.2, 69.6), k(0, 70.3), c(26.2, 69.6)), "double_stitch"),
            Line(polyline(k(-10.6, 1.1), k(0, 12.2), k(10.6, 1.1)), "stitch"),
        ),
        folds=(
            Line(polyline(k(21, 27), k(15, 33), k(9, 36)), "fold", mirror=True),
            Line(polyline(k(-17, 55), k(0, 57.5), k(17, 56)), "fold"),
            Line(polyline(k(26.5, 9), k(31, 20)), "fold", mirror=True),
        ),
    )


def _shirt() -> GarmentSpec:
    shoulder = (22.5, 4.5)
    angle = 70.0
    outer, inner = sleeve_end(shoulder, angle, 62, 12)
    underarm = (27.5, 24.5)
    outline = mirror_outline(
        k(0, 1.5),
        c(8, 0),
        c(*shoulder),
        c(*outer),
        c(*inner),
        c(*underarm),
        k(26.6, 45),
        c(27.2, 69),
        k(22, 71.5),
        k(12, 76),
        k(0, 77.5),
    )
    cuff_top_out = _back_along(outer, angle, 6.5)
    cuff_top_in = _back_along(inner, angle, 6.5)
    collar_back = shape(
        c(-8.6, 0.6), k(-7.2, -2.8), k(0, -3.7), k(7.2, -2.8), c(8.6, 0.6), k(0, 2.6)
    )
    collar_inside = shape(c(-6.6, -1.6), k(0, -2.4), c(6.6, -1.6), c(0, 3.4))
    collar_leaf = shape(
        c(0.5, 2.2), k(3.6, -0.6), c(7.6, -3.0), k(9.6, 0.4), c(12.6, 8.4), k(7.2, 7.6), c(1.0, 4.4)
    )
    pocket = shape(c(10.5, 20), c(20.5, 20), c(20.5, 31.5), c(15.5, 33.5), c(10.5, 31.5))
    cuff_mid = _along(_along(cuff_top_out, outer, 0.5), _along(cuff_top_in, inner, 0.5), 0.22)
    placket_lines = (
        Line(polyline(c(1.8, 4.6), c(1.8, 77.2)), "stitch"),
        Line(polyline(c(-1.8, 4.6), c(-1.8, 77.2)), "stitch"),
        Line(polyline(c(1.9, 4.6), c(1.9, 77.3)), "edge"),
    )
    return GarmentSpec(
        name="shirt",
        outline=outline,
        parts=(
            Part(collar_back, lift=0.4, outline=True, tone=0.97),
            Part(collar_inside, fill="inside", lift=-0.3, outline=False),
            Part(collar_leaf, lift=0.9, stitch_inset_cm=0.55, mirror=True),
            Part(pocket, lift=0.25, stitch_inset_cm=0.0),
            Part(
                shape(c(*cuff_top_out), c(*outer), c(*inner), c(*cuff_top_in)),
                lift=0.5,
                stitch_inset_cm=0.5,
                mirror=True,
            ),
        ),
        lines=(
            *placket_lines,
            Line(polyline(c(10.5, 21.4), c(20.5, 21.4)), "stitch"),
            Line(polyline(c(8.6, 0.6), c(*shoulder)), "seam", mirror=True),
            Line(polyline(c(*shoulder), k(24.6, 15), c(*underarm)), "seam", mirror=True),
            Line(
                polyline(
                    k(-27, 68.4),
                    k(-22, 70.7),
                    k(-12, 75.2),
                    k(0, 76.7),
                    k(12, 75.2),
                    k(22, 70.7),
                    k(27, 68.4),
                ),
                "stitch",
            ),
        ),
        buttons=(
            Button(0, 3.0, 0.5, "sew"),
            *(Button(0, y, 0.62, "sew") for y in (11.5, 21, 30.5, 40, 49.5, 59, 68.5)),
            Button(cuff_mid[0], cuff_mid[1], 0.55, "sew", mirror=True),
        ),
        folds=(
            Line(polyline(k(32.5, 36), k(37.5, 34)), "fold", mirror=True),
            Line(polyline(k(35, 47), k(40.5, 45)), "fold", mirror=True),
            Line(polyline(k(21, 38), k(12, 46)), "fold", mirror=True),
            Line(polyline(k(-20, 60), k(0, 62), k(20, 61)), "fold"),
        ),
        button_style="pearl",
    )


def _knit_body(name: str, *, hood: bool) -> GarmentSpec:
    """Sweater and hoodie share a knitted body with rib cuffs and hem band."""
    shoulder = (24.0, 5.0)
    angle = 70.0
    outer, inner = sleeve_end(shoulder, angle, 61, 10)
    underarm = (28.0, 25.0)
    top: list[Knot]
    if hood:
        top = [k(0, -26), k(9.5, -25), k(15.5, -18.5), k(16.5, -8), c(12.5, 1.8)]
    else:
        top = [k(0, 2.0), c(9.5, 0)]
    outline = mirror_outline(
        *top,
        c(*shoulder),
        c(*outer),
        c(*inner),
        c(*underarm),
        k(27.8, 45),
        c(27.4, 60.2),
        c(25.8, 61.2),
        c(25.8, 66),
        k(0, 66),
    )
    cuff_out = _back_along(outer, angle, 6.5)
    cuff_in = _back_along(inner, angle, 6.5)
    parts: list[Part] = [
        Part(
            shape(c(*cuff_out), c(*outer), c(*inner), c(*cuff_in)),
            fill="rib",
            lift=0.3,
            mirror=True,
        ),
        Part(
            shape(c(-25.8, 60.6), c(25.8, 60.6), c(25.8, 66), c(-25.8, 66)),
            fill="rib",
            lift=0.3,
            clip_to_body=True,
        ),
    ]
    lines: list[Line] = [
        Line(polyline(c(*shoulder), k(25.5, 15), c(*underarm)), "seam", mirror=True),
    ]
    buttons: list[Button] = []
    cords: list[Cord] = []
    if hood:
        rim = shape(
            c(0, 12.5),
            k(8.2, 6),
            k(11.6, -5),
            k(9.8, -17),
            k(0, -21.5),
            k(-9.8, -17),
            k(-11.6, -5),
            k(-8.2, 6),
        )
        opening = shape(
            c(0, 9.5),
            k(6.6, 4.4),
            k(9.3, -5),
            k(7.9, -15.5),
            k(0, -19),
            k(-7.9, -15.5),
            k(-9.3, -5),
            k(-6.6, 4.4),
        )
        pocket = shape(
            c(-13, 40), c(13, 40), k(16.5, 47), c(21.5, 58.6), c(-21.5, 58.6), k(-16.5, 47)
        )
        parts += [
            Part(rim, lift=0.7, stitch_inset_cm=0.0),
            Part(opening, fill="inside", lift=-0.8, outline=False),
            Part(pocket, lift=0.35, stitch_inset_cm=0.6),
        ]
        lines += [
            Line(polyline(c(12.5, 1.8), c(*shoulder)), "seam", mirror=True),
            Line(polyline(k(0, -21.5), k(0, -19)), "seam"),
        ]
        cords += [Cord(polyline(k(3.6, 8.3), k(4.4, 18), k(4.6, 29)), mirror=True)]
        buttons += [Button(3.6, 8.3, 0.45, "snap", mirror=True)]
    else:
        back_neck = arc(0, 0, 9.5, 2.0, 180, 0)
        front_neck = arc(0, 0, 9.5, 8.5, 0, 180)
        parts += [
            Part(Shape((*back_neck, *front_neck)), fill="inside", lift=-0.6, outline=False),
            Part(
                Shape((*arc(0, 0, 9.5, 2.0, 180, 0), *arc(0, 0, 9.0, 4.2, 0, 180))),
                fill="rib",
                tone=0.72,
                lift=0.1,
                outline=False,
            ),
            Part(
                Shape((*arc(0, 0, 9.5, 8.5, 0, 180), *arc(0, 0.3, 12.2, 11.3, 180, 0))),
                fill="rib",
                lift=0.35,
                clip_to_body=True,
            ),
        ]
        lines += [Line(polyline(c(9.9, 0.3), c(*shoulder)), "seam", mirror=True)]
    return GarmentSpec(
        name=name,
        outline=outline,
        parts=tuple(parts),
        lines=tuple(lines),
        buttons=tuple(buttons),
        cords=tuple(cords),
        folds=(
            Line(polyline(k(33, 37), k(38.5, 35)), "fold", mirror=True),
            Line(polyline(k(22, 30), k(12, 38)), "fold", mirror=True),
            Line(polyline(k(-20, 52), k(0, 54), k(20, 53)), "fold"),
        ),
    )


def _dress_aline() -> GarmentSpec:
    outline = mirror_outline(
        k(0, 2.0),
        c(7.5, 0),
        c(12.5, 1.0),
        k(13.2, 7),
        k(15.8, 14),
        c(20.5, 18.5),
        k(19.4, 28),
        c(18.4, 36),
        k(23.5, 50),
        c(36, 95),
        k(20, 96.6),
        k(0, 97),
    )
    back_neck = arc(0, 0, 7.5, 2.0, 180, 0)
    front_neck = arc(0, 0, 7.5, 12.5, 0, 180)
    skirt_folds = [
        Line(polyline(k(x0, 39), k(x1, 94)), "fold", mirror=True)
        for x0, x1 in ((3.5, 6.5), (9.5, 16.5), (15, 27.5))
    ]
    return GarmentSpec(
        name="dress_aline",
        outline=outline,
        parts=(Part(Shape((*back_neck, *front_neck)), fill="lining", lift=-0.5, outline=False),),
        lines=(
            Line(polyline(k(-18.4, 36), k(0, 36.6), k(18.4, 36)), "seam"),
            Line(polyline(c(9, 35.8), c(8.4, 25)), "seam", mirror=True),
            Line(polyline(c(7.8, 0.4), c(12.3, 1.4)), "seam", mirror=True),
            Line(
                polyline(k(-35.4, 93.6), k(-20, 95.2), k(0, 95.6), k(20, 95.2), k(35.4, 93.6)),
                "stitch",
            ),
            Line(polyline(*arc(0, 0, 8.5, 13.5, 0, 180)), "stitch"),
            Line(
                polyline(k(12.6, 2.3), k(13.4, 7.5), k(16, 13.8), k(19.8, 17.4)),
                "stitch",
                mirror=True,
            ),
        ),
        folds=tuple(skirt_folds),
    )


def _dress_shift() -> GarmentSpec:
    shoulder = (19.0, 3.5)
    outer, inner = sleeve_end(shoulder, 30, 14, 15)
    underarm = (23.0, 20.5)
    outline = mirror_outline(
        k(0, 2.0),
        c(8.5, 0),
        c(*shoulder),
        c(*outer),
        c(*inner),
        c(*underarm),
        k(21.8, 38),
        k(23.4, 60),
        c(25.5, 92),
        k(12, 92.4),
        k(0, 92.5),
    )
    back_neck = arc(0, 0, 8.5, 2.0, 180, 0)
    front_neck = arc(0, 0, 8.5, 8.0, 0, 180)
    hem_out = _back_along(outer, 30, 2.0)
    hem_in = _back_along(inner, 30, 2.0)
    return GarmentSpec(
        name="dress_shift",
        outline=outline,
        parts=(Part(Shape((*back_neck, *front_neck)), fill="lining", lift=-0.5, outline=False),),
        lines=(
            Line(polyline(c(8.8, 0.3), c(*shoulder)), "seam", mirror=True),
            Line(polyline(c(*shoulder), k(20.4, 12), c(*underarm)), "seam", mirror=True),
            Line(polyline(c(22.4, 26), c(14, 27.5)), "seam", mirror=True),
            Line(polyline(c(9.5, 52), k(9.2, 40), c(9.6, 30)), "seam", mirror=True),
            Line(polyline(c(*hem_out), c(*hem_in)), "stitch", mirror=True),
            Line(polyline(k(-25.3, 90.3), k(0, 90.8), k(25.3, 90.3)), "stitch"),
            Line(polyline(*arc(0, 0, 9.8, 9.3, 0, 180)), "stitch"),
        ),
        folds=(
            Line(polyline(k(12, 60), k(14, 90)), "fold", mirror=True),
            Line(polyline(k(-18, 70), k(0, 71.5), k(18, 70.5)), "fold"),
        ),
    )


def _dress_wrap() -> GarmentSpec:
    shoulder = (18.5, 3.0)
    angle = 58.0
    outer, inner = sleeve_end(shoulder, angle, 42, 12)
    underarm = (22.0, 19.0)
    outline = mirror_outline(
        k(0, 2.0),
        c(8, 0),
        c(*shoulder),
        c(*outer),
        c(*inner),
        c(*underarm),
        k(18.6, 30),
        c(17.6, 37),
        k(23, 52),
        c(35, 100),
        k(18, 101.6),
        k(0, 102),
    )
    back_neck = arc(0, 0, 8, 2.0, 180, 0)
    v_neck = Shape((*back_neck, c(8, 0), k(4.4, 9.5), c(0, 19), k(-4.4, 9.5), c(-8, 0)))
    cuff_out = _back_along(outer, angle, 2.0)
    cuff_in = _back_along(inner, angle, 2.0)
    belt = shape(c(-18.3, 35.2), c(18.3, 35.2), c(18.0, 39.2), c(-18.0, 39.2))
    knot = Shape(tuple(arc(-14.5, 37.3, 3.0, 2.6, 0, 360, 13)[:-1]))
    tie_a = shape(c(-13.2, 38.5), c(-10.2, 38.9), c(-7.4, 61.5), c(-10.9, 62.2))
    tie_b = shape(c(-17.6, 38.8), c(-14.8, 39.4), c(-19.6, 57.8), c(-23.0, 56.8))
    return GarmentSpec(
        name="dress_wrap",
        outline=outline,
        parts=(
            Part(v_neck, fill="lining", lift=-0.5, outline=False),
            Part(belt, lift=0.45, clip_to_body=True),
            Part(tie_b, lift=0.8),
            Part(tie_a, lift=0.9),
            Part(knot, lift=1.2),
        ),
        lines=(
            Line(polyline(c(8, 0), k(4.4, 9.5), k(0, 19), k(-8, 29), c(-16.5, 35.2)), "edge"),
            Line(polyline(k(-13.5, 39.4), k(-10.5, 60), k(-6.5, 85), c(-3.6, 101.8)), "edge"),
            Line(polyline(c(8.3, 0.3), c(*shoulder)), "seam", mirror=True),
            Line(polyline(c(*shoulder), k(19.8, 11), c(*underarm)), "seam", mirror=True),
            Line(polyline(c(*cuff_out), c(*cuff_in)), "stitch", mirror=True),
            Line(
                polyline(k(-34.5, 98.6), k(-18, 100.2), k(0, 100.6), k(18, 100.2), k(34.5, 98.6)),
                "stitch",
            ),
        ),
        folds=(
            Line(polyline(k(5, 42), k(9, 98)), "fold", mirror=True),
            Line(polyline(k(13, 42), k(24, 97)), "fold", mirror=True),
            Line(polyline(k(28, 24), k(33, 33)), "fold", mirror=True),
        ),
    )


def _trousers(name: str, *, jeans: bool) -> GarmentSpec:
    if jeans:
        half = (
            k(0, 0),
            c(20, 0),
            k(23.6, 16),
            k(23.4, 32),
            k(21.2, 66),
            c(20.4, 105),
            c(4.6, 105),
            k(4.0, 66),
            k(2.4, 38),
            k(0.8, 29.5),
            c(0, 27.5),
        )
    else:
        half = (
            k(0, 0),
            c(20, 0),
            k(24.2, 18),
            k(24.4, 34),
            k(22.6, 66),
            c(21.8, 106),
            c(3.8, 106),
            k(3.4, 66),
            k(2.0, 38),
            k(0.7, 31),
            c(0, 29),
        )
    outline = mirror_outline(*half)
    hem_y = half[5].y
    waistband = shape(c(-21, -0.5), c(21, -0.5), c(21, 4), c(-21, 4))
    loops = [
        Part(
            shape(c(x - 0.7, 0.0), c(x + 0.7, 0.0), c(x + 0.7, 5.2), c(x - 0.7, 5.2)),
            lift=0.6,
            mirror=True,
            stitch_inset_cm=0.0,
        )
        for x in ((10.5, 19.3) if jeans else (9.5, 18.6))
    ]
    hem_lines = [
        Line(
            polyline(c(half[5].x - 0.2, hem_y - 1.6), c(half[6].x + 0.2, hem_y - 1.6)),
            "double_stitch" if jeans else "seam",
            mirror=True,
        )
    ]
    lines: list[Line] = [*hem_lines]
    parts: list[Part] = [Part(waistband, lift=0.35, clip_to_body=True, stitch_inset_cm=0.5)]
    buttons: list[Button] = []
    fades: tuple[Fade, ...] = ()
    folds: list[Line] = [
        Line(polyline(k(6, 64), k(12, 66), k(20, 64)), "fold", mirror=True),
        Line(polyline(k(6, 95), k(13, 97.5), k(19.5, 96)), "fold", mirror=True),
    ]
    if jeans:
        scoop = shape(c(8.6, 4), k(11.6, 9.6), k(17.5, 12.8), c(23.7, 13.2), c(23.7, 4))
        coin = shape(c(-17.8, 4), c(-11.6, 4), c(-11.6, 10.6), c(-17.8, 10.6))
        parts += [
            Part(scoop, tone=0.82, lift=-0.35, outline=False, clip_to_body=True, mirror=True),
            Part(coin, lift=0.2, stitch_inset_cm=0.35, clip_to_body=True),
            *loops,
        ]
        lines += [
            Line(
                polyline(c(8.6, 4), k(11.6, 9.6), k(17.5, 12.8), c(23.7, 13.2)), "edge", mirror=True
            ),
            Line(
                polyline(c(9.4, 4), k(12.2, 9.0), k(17.7, 12.0), c(23.6, 12.4)),
                "double_stitch",
                mirror=True,
            ),
            Line(polyline(c(4.3, 4), c(4.3, 16), k(3.4, 19), c(0.4, 21)), "double_stitch"),
            Line(polyline(c(0, 21), c(0, 27.5)), "seam"),
        ]
        buttons += [
            Button(0, 1.8, 0.95, "shank"),
            Button(23.4, 13.0, 0.32, "rivet", mirror=True),
            Button(8.9, 4.5, 0.32, "rivet", mirror=True),
            Button(-17.5, 4.6, 0.3, "rivet"),
            Button(-11.9, 4.6, 0.3, "rivet"),
        ]
        fades = (Fade(11.5, 34, 6.5, 15, 0.22), Fade(11.8, 68, 5.0, 7.0, 0.16))
        lines += [
            Line(
                polyline(k(2.2 + i * 0.3, 25 + i * 2.6), k(9 + i * 1.2, 22.5 + i * 2.6)),
                "whisker",
                mirror=True,
            )
            for i in range(4)
        ]
    else:
        parts += loops
        lines += [
            Line(polyline(c(13.2, 4), c(23.8, 16.5)), "edge", mirror=True),
            Line(polyline(c(14.1, 4), c(23.9, 15.6)), "stitch", mirror=True),
            Line(polyline(c(3.8, 4), c(3.8, 16.5), k(3.0, 19), c(0.4, 20.5)), "stitch"),
            Line(polyline(c(0, 20.5), c(0, 29)), "seam"),
            Line(
                polyline(c(12.6, 4.3), k(12.9, 40), k(12.8, 70), c(12.6, 104)),
                "crease",
                mirror=True,
            ),
            Line(polyline(c(8.8, 4.2), c(9.0, 12)), "fold", mirror=True),
        ]
        buttons += [Button(1.6, 1.8, 0.55, "sew")]
    return GarmentSpec(
        name=name,
        outline=outline,
        parts=tuple(parts),
        lines=tuple(lines),
        buttons=tuple(buttons),
        fades=fades,
        folds=tuple(folds),
        button_style="metal" if jeans else "horn",
    )


def _tailored(name: str, *, length_cm: float, double_breasted: bool) -> GarmentSpec:
    """Blazer and overcoat: notch/peak lapels, sleeves laid over the body, pockets."""
    chest = 27.5 if not double_breasted else 30.0
    shoulder = (22.5, 3.5) if not double_breasted else (24.0, 4.8)
    hem = length_cm
    # A single-breasted front curves away below the last button (a notch at the hem);
    # a double-breasted one hangs straight.
    front_hem = (
        [k(10, hem + 1.0), k(0, hem + 1.2)]
        if double_breasted
        else [k(10, hem + 1.0), c(5.5, hem + 0.8), k(2.0, hem - 1.2), c(0, hem - 5)]
    )
    outline = mirror_outline(
        k(0, -2.2),
        k(5, -2.5),
        c(8.5, -1.4),
        k(16, 1.6),
        c(*shoulder),
        k(shoulder[0] + 1.5, 12),
        c(chest, 24),
        k(chest - 1.4, 40),
        c(chest + 0.4 + (hem - 74) * 0.06, hem),
        *front_hem,
    )
    angle = 78.0 if not double_breasted else 76.0
    sleeve_len = 60.0 if not double_breasted else 63.0
    outer, inner = sleeve_end(shoulder, angle, sleeve_len, 13.5)
    sleeve = shape(
        c(*shoulder),
        k(_along(shoulder, outer, 0.5)[0] + 0.6, _along(shoulder, outer, 0.5)[1]),
        c(*outer),
        c(*inner),
        k(chest - 1.2, 34),
        c(chest - 1.6, 23.5),
        k(shoulder[0] + 0.6, 12),
    )
    break_x = 0.6 if not double_breasted else 8.0
    break_y = 41.0 if not double_breasted else 36.0
    if double_breasted:
        lapel = shape(
            c(7.2, -2.4),
            c(12.6, 4.6),
            c(13.4, 6.6),
            c(18.2, 4.4),
            k(16.0, 16),
            c(break_x, break_y),
            k(4.2, 20),
            k(5.6, 6),
        )
    else:
        lapel = shape(
            c(7.2, -2.4),
            c(12.6, 4.2),
            c(11.2, 6.0),
            c(14.2, 6.8),
            k(9.8, 22),
            c(break_x, break_y),
            k(3.2, 22),
            k(5.6, 6),
        )
    v_inside = shape(c(-7.4, -1.2), k(0, -1.6), c(7.4, -1.2), c(0, break_y - 2))
    pocket_y = hem * 0.70
    flap = shape(
        c(12.2, pocket_y),
        c(chest - 2.6, pocket_y - 0.6),
        c(chest - 2.4, pocket_y + 5.6),
        c(12.3, pocket_y + 6.0),
    )
    welt = shape(c(15.2, 24.5), c(23.4, 23.2), c(23.6, 25.8), c(15.4, 27.1))
    parts: list[Part] = [
        Part(v_inside, fill="lining", lift=-0.6, outline=False),
        Part(flap, lift=0.45, stitch_inset_cm=0.0, mirror=True),
        Part(sleeve, lift=0.9, outline=True, mirror=True),
        Part(lapel, lift=0.9, stitch_inset_cm=0.5, mirror=True),
    ]
    if not double_breasted:
        parts.insert(1, Part(welt, lift=0.2, stitch_inset_cm=0.0))
    buttons: list[Button]
    if double_breasted:
        buttons = [
            Button(x, y, 1.2, "sew")
            for x in (-7.0, 7.0)
            for y in (break_y + 6, break_y + 17, break_y + 28)
        ]
        edge = Line(
            polyline(c(break_x, break_y), k(break_x, hem - 20), c(break_x, hem + 0.6)), "edge"
        )
    else:
        buttons = [Button(0, break_y + 5, 1.05, "sew"), Button(0, break_y + 16, 1.05, "sew")]
        edge = Line(polyline(c(break_x, break_y), k(0, hem - 12), c(0, hem - 5)), "edge")
    cuff_buttons = [
        Button(*_back_along(_along(outer, inner, 0.18), angle, d), 0.5, "sew", mirror=True)
        for d in (3.5, 5.2, 6.9)
    ]
    return GarmentSpec(
        name=name,
        outline=outline,
        parts=tuple(parts),
        lines=(
            edge,
            Line(polyline(c(11.2, 6.0), c(7.6, 3.4)), "seam", mirror=True),
            Line(polyline(c(8.5, -1.2), k(16, 1.8), c(*shoulder)), "seam", mirror=True),
            Line(
                polyline(c(12.2, pocket_y - 0.4), c(chest - 2.6, pocket_y - 1.0)),
                "seam",
                mirror=True,
            ),
            Line(polyline(c(10.5, pocket_y - 1.4), k(10.2, 40), c(10.8, 30)), "seam", mirror=True),
        ),
        buttons=(*buttons, *cuff_buttons),
        folds=(
            Line(polyline(k(5, hem - 15), k(14, hem - 13)), "fold", mirror=True),
            Line(polyline(k(26, 44), k(30.5, 42)), "fold", mirror=True),
        ),
        button_style="horn",
    )


def _parka() -> GarmentSpec:
    shoulder = (25.0, 6.0)
    angle = 70.0
    outer, inner = sleeve_end(shoulder, angle, 63, 12.5)
    underarm = (30.5, 26.0)
    outline = mirror_outline(
        k(0, -27),
        k(10, -26),
        k(16.5, -19),
        k(17.5, -8),
        c(13, 2.0),
        c(*shoulder),
        c(*outer),
        c(*inner),
        c(*underarm),
        k(30.2, 50),
        c(31, 82),
        k(15, 82.8),
        k(0, 83),
    )
    rim = shape(
        c(0, 13.5),
        k(8.6, 6),
        k(12.2, -5),
        k(10.4, -18),
        k(0, -22.5),
        k(-10.4, -18),
        k(-12.2, -5),
        k(-8.6, 6),
    )
    opening = shape(
        c(0, 10.5),
        k(7.0, 4.6),
        k(9.8, -5),
        k(8.4, -16.5),
        k(0, -20),
        k(-8.4, -16.5),
        k(-9.8, -5),
        k(-7.0, 4.6),
    )
    flap = shape(c(10.5, 52), c(25.5, 52), c(25.5, 57.5), c(10.5, 57.5))
    pocket = shape(c(10.8, 56.5), c(25.2, 56.5), c(25.2, 73), c(10.8, 73))
    cuff_out = _back_along(outer, angle, 5.5)
    cuff_in = _back_along(inner, angle, 5.5)
    return GarmentSpec(
        name="parka",
        outline=outline,
        parts=(
            Part(rim, lift=0.9),
            Part(opening, fill="inside", lift=-0.9, outline=False),
            Part(pocket, lift=0.35, stitch_inset_cm=0.5, mirror=True),
            Part(flap, lift=0.6, stitch_inset_cm=0.5, mirror=True),
            Part(
                shape(c(*cuff_out), c(*outer), c(*inner), c(*cuff_in)),
                lift=0.4,
                stitch_inset_cm=0.5,
                mirror=True,
            ),
        ),
        lines=(
            Line(polyline(c(13, 2.0), c(*shoulder)), "seam", mirror=True),
            Line(polyline(c(*shoulder), k(27, 16), c(*underarm)), "seam", mirror=True),
            Line(polyline(c(-30.2, 44), c(30.2, 44)), "stitch"),
            Line(polyline(c(-30.2, 47), c(30.2, 47)), "stitch"),
            Line(polyline(c(2.2, 11), c(2.2, 82)), "stitch"),
            Line(polyline(c(-2.2, 11), c(-2.2, 82)), "stitch"),
            Line(polyline(c(-30.6, 80.3), c(30.6, 80.3)), "double_stitch"),
            Line(polyline(c(14, 24), c(22, 34)), "edge"),
        ),
        zips=(Zip(11.0, 82.0),),
        cords=(Cord(polyline(k(4.0, 45.5), k(4.8, 52), k(5.2, 58)), 0.55, mirror=True),),
        buttons=(Button(18.0, 56.0, 0.6, "snap", mirror=True),),
        folds=(
            Line(polyline(k(36, 40), k(42, 38)), "fold", mirror=True),
            Line(polyline(k(24, 32), k(14, 40)), "fold", mirror=True),
            Line(polyline(k(-22, 64), k(0, 66), k(22, 65)), "fold"),
        ),
        button_style="metal",
    )


def _trucker() -> GarmentSpec:
    shoulder = (22.5, 4.5)
    angle = 70.0
    outer, inner = sleeve_end(shoulder, angle, 60, 12)
    underarm = (28.0, 24.0)
    outline = mirror_outline(
        k(0, 1.5),
        c(8.5, 0),
        c(*shoulder),
        c(*outer),
        c(*inner),
        c(*underarm),
        k(28, 40),
        c(27.8, 52.8),
        c(26.8, 53.4),
        c(26.8, 58.5),
        k(0, 58.5),
    )
    collar_back = shape(
        c(-9.2, 0.8), k(-7.6, -3.4), k(0, -4.3), k(7.6, -3.4), c(9.2, 0.8), k(0, 2.8)
    )
    collar_inside = shape(c(-7.0, -2.0), k(0, -2.9), c(7.0, -2.0), c(0, 3.4))
    leaf = shape(
        c(0.6, 2.4),
        k(3.8, -0.8),
        c(8.2, -3.6),
        k(10.8, 0.6),
        c(14.6, 10.0),
        k(8.2, 8.8),
        c(1.2, 4.8),
    )
    flap = shape(c(8.2, 16.5), c(19.8, 16.5), c(19.8, 20.5), c(14.0, 23.2), c(8.2, 20.5))
    pocket = shape(c(8.4, 20), c(19.6, 20), c(19.6, 29.5), c(8.4, 29.5))
    band = shape(c(-27.2, 53.2), c(27.2, 53.2), c(27.2, 58.6), c(-27.2, 58.6))
    cuff_out = _back_along(outer, angle, 6.0)
    cuff_in = _back_along(inner, angle, 6.0)
    cuff_mid = _along(_along(cuff_out, outer, 0.5), _along(cuff_in, inner, 0.5), 0.2)
    return GarmentSpec(
        name="trucker",
        outline=outline,
        parts=(
            Part(collar_back, lift=0.45, tone=0.96),
            Part(collar_inside, fill="inside", lift=-0.3, outline=False),
            Part(pocket, lift=0.15, outline=False, mirror=True),
            Part(flap, lift=0.6, stitch_inset_cm=0.5, mirror=True),
            Part(band, lift=0.3, clip_to_body=True, stitch_inset_cm=0.5),
            Part(
                shape(c(*cuff_out), c(*outer), c(*inner), c(*cuff_in)),
                lift=0.4,
                stitch_inset_cm=0.5,
                mirror=True,
            ),
            Part(leaf, lift=0.9, stitch_inset_cm=0.6, mirror=True),
        ),
        lines=(
            Line(polyline(c(24.3, 12.5), k(16, 14.6), c(4.0, 11.0)), "double_stitch", mirror=True),
            Line(polyline(c(9.6, 29.5), c(9.8, 53.2)), "double_stitch", mirror=True),
            Line(polyline(c(18.4, 29.5), c(19.8, 53.2)), "double_stitch", mirror=True),
            Line(polyline(c(3.0, 5.5), c(3.0, 58.4)), "double_stitch", mirror=True),
            Line(polyline(c(3.1, 5.5), c(3.1, 58.4)), "edge"),
            Line(polyline(c(9.2, 0.8), c(*shoulder)), "double_stitch", mirror=True),
            Line(polyline(c(*shoulder), k(24.8, 14), c(*underarm)), "seam", mirror=True),
        ),
        buttons=(
            Button(0, 4.2, 0.8, "shank"),
            *(Button(0, y, 0.85, "shank") for y in (15.5, 26, 36.5, 47, 56)),
            Button(14.0, 21.4, 0.75, "shank", mirror=True),
            Button(23.0, 55.9, 0.75, "shank", mirror=True),
            Button(cuff_mid[0], cuff_mid[1], 0.7, "shank", mirror=True),
        ),
        folds=(
            Line(polyline(k(33, 36), k(38.5, 34)), "fold", mirror=True),
            Line(polyline(k(22, 33), k(14, 40)), "fold", mirror=True),
        ),
        button_style="metal",
    )


def _build_garments() -> dict[str, GarmentSpec]:
    builders: dict[str, Callable[[], GarmentSpec]] = {
        "tshirt": _tshirt,
        "shirt": _shirt,
        "sweater": lambda: _knit_body("sweater", hood=False),
        "hoodie": lambda: _knit_body("hoodie", hood=True),
        "dress_aline": _dress_aline,
        "dress_shift": _dress_shift,
        "dress_wrap": _dress_wrap,
        "trousers": lambda: _trousers("trousers", jeans=False),
        "jeans": lambda: _trousers("jeans", jeans=True),
        "blazer": lambda: _tailored("blazer", length_cm=74, double_breasted=False),
        "coat": lambda: _tailored("coat", length_cm=100, double_breasted=True),
        "parka": _parka,
        "trucker": _trucker,
    }
    return {name: build() for name, build in builders.items()}


#: The spec table: every garment the renderer can draw, by name.
GARMENTS: Mapping[str, GarmentSpec] = _build_garments()


def _f32(values: Any) -> FloatArray:
    """``values`` as a float32 array (and typed as one)."""
    return np.asarray(values, dtype=np.float32)


# -- frame and rasterising ----------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """Where the garment sits in the picture: px = origin + cm * px_per_cm."""

    width_px: int
    height_px: int
    px_per_cm: float
    origin_x_px: float
    origin_y_px: float

    def to_px(self, points: FloatArray) -> FloatArray:
        out = np.empty_like(points)
        out[:, 0] = self.origin_x_px + points[:, 0] * self.px_per_cm
        out[:, 1] = self.origin_y_px + points[:, 1] * self.px_per_cm
        return out

    def cm(self, value_cm: float) -> float:
        return value_cm * self.px_per_cm


def smooth_points(knots: Sequence[Knot], closed: bool, iterations: int = 3) -> FloatArray:
    """Chaikin corner cutting that keeps sharp knots: cloth has soft, not polygon, edges."""
    pts = np.array([(p.x, p.y) for p in knots], dtype=np.float32)
    sharp = [p.sharp for p in knots]
    for _ in range(iterations):
        new_pts: list[FloatArray] = []
        new_sharp: list[bool] = []
        n = len(pts)
        last_edge = n if closed else n - 1
        for i in range(n):
            p = pts[i]
            is_end = not closed and i in (0, n - 1)
            if sharp[i] or is_end:
                new_pts.append(p)
                new_sharp.append(True)
            if i < last_edge:
                q = pts[(i + 1) % n]
                new_pts.append(0.75 * p + 0.25 * q)
                new_pts.append(0.25 * p + 0.75 * q)
                new_sharp += [False, False]
        pts = np.array(new_pts, dtype=np.float32)
        sharp = new_sharp
    return pts


@lru_cache(maxsize=2048)
def _shape_points(spec_shape: Shape) -> FloatArray:
    """Smoothed points of a shape (cached: the spec table is fixed; read-only result)."""
    points = smooth_points(spec_shape.knots, spec_shape.closed)
    points.flags.writeable = False
    return points


def garment_bounds_cm(spec: GarmentSpec) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of everything that forms the silhouette, in cm."""
    shapes = [spec.outline] + [p.shape for p in _expand(spec.parts) if not p.clip_to_body]
    pts = np.concatenate([_shape_points(s) for s in shapes])
    return (
        float(pts[:, 0].min()),
        float(pts[:, 1].min()),
        float(pts[:, 0].max()),
        float(pts[:, 1].max()),
    )


def fit_frame(spec: GarmentSpec, width_px: int, height_px: int) -> Frame:
    """Scale and centre the garment so its bounding box fills ``FRAME_FILL`` of the frame."""
    x0, y0, x1, y1 = garment_bounds_cm(spec)
    scale = min(width_px * FRAME_FILL / (x1 - x0), height_px * FRAME_FILL / (y1 - y0))
    origin_x = width_px / 2 - (x0 + x1) / 2 * scale
    # A little above centre: the drop shadow falls down and right.
    origin_y = height_px * 0.49 - (y0 + y1) / 2 * scale
    return Frame(width_px, height_px, scale, origin_x, origin_y)


def _canvas(frame: Frame) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (frame.width_px * SUPERSAMPLE, frame.height_px * SUPERSAMPLE), 0)
    return image, ImageDraw.Draw(image)


def _ss_points(frame: Frame, points: FloatArray) -> list[tuple[float, float]]:
    px = frame.to_px(points) * SUPERSAMPLE
    return [(float(x), float(y)) for x, y in px]


def _resolve(image: Image.Image) -> FloatArray:
    small = image.reduce(SUPERSAMPLE)
    return np.asarray(small, dtype=np.float32) / np.float32(255.0)


def rasterize(frame: Frame, shapes: Iterable[Shape]) -> FloatArray:
    """Antialiased coverage (0..1) of the union of closed shapes."""
    image, draw = _canvas(frame)
    for item in shapes:
        draw.polygon(_ss_points(frame, _shape_points(item)), fill=255)
    return _resolve(image)


def stroke(
    frame: Frame,
    lines: Iterable[FloatArray],
    width_px: float,
    *,
    dash_px: tuple[float, float] | None = None,
) -> FloatArray:
    """Antialiased coverage of polylines (given in px), optionally dashed."""
    image, draw = _canvas(frame)
    width = max(1, round(width_px * SUPERSAMPLE))
    for pts in lines:
        segments = _dashes(pts, *dash_px) if dash_px else [pts]
        for seg in segments:
            if len(seg) >= 2:
                draw.line(
                    [(float(x) * SUPERSAMPLE, float(y) * SUPERSAMPLE) for x, y in seg],
                    fill=255,
                    width=width,
                    joint="curve",
                )
    return _resolve(image)


def taper_stroke(frame: Frame, lines: Iterable[FloatArray], width_px: float) -> FloatArray:
    """Coverage of polylines that are widest in the middle and fade to points: folds."""
    image, draw = _canvas(frame)
    for pts in lines:
        seg_len = np.hypot(*np.diff(pts, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg_len)])
        ts = np.linspace(0.0, float(cum[-1]), 25)
        xs = np.interp(ts, cum, pts[:, 0]) * SUPERSAMPLE
        ys = np.interp(ts, cum, pts[:, 1]) * SUPERSAMPLE
        for i in range(len(ts) - 1):
            t = (i + 0.5) / (len(ts) - 1)
            width = width_px * SUPERSAMPLE * (0.15 + 0.85 * math.sin(math.pi * t))
            r = width / 2
            draw.ellipse((xs[i] - r, ys[i] - r, xs[i] + r, ys[i] + r), fill=255)
            draw.line(
                [(xs[i], ys[i]), (xs[i + 1], ys[i + 1])], fill=255, width=max(1, round(width))
            )
    return _resolve(image)


def _dashes(pts: FloatArray, on_px: float, off_px: float) -> list[FloatArray]:
    """Split a polyline into straight dashes of ``on_px`` separated by ``off_px``."""
    seg_len = np.hypot(*np.diff(pts, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    starts = np.arange(0.0, float(cum[-1]), on_px + off_px)
    ends = np.minimum(starts + on_px, cum[-1])
    ts = np.stack([starts, ends], axis=1).ravel()
    xy = np.stack([np.interp(ts, cum, pts[:, 0]), np.interp(ts, cum, pts[:, 1])], axis=1)
    return list(_f32(xy).reshape(-1, 2, 2))


def offset_polyline(pts: FloatArray, distance: float) -> FloatArray:
    """The polyline moved sideways by ``distance`` (left of the direction of travel)."""
    if len(pts) < 2:
        return pts
    tangent = np.gradient(pts, axis=0)
    norm = np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-6)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1) / norm[:, None]
    return _f32(pts + normal * distance)


def inset_polygon(pts: FloatArray, distance: float) -> FloatArray:
    """A closed polygon shrunk by about ``distance`` (for topstitching inside a panel)."""
    closed = np.concatenate([pts[-1:], pts, pts[:1]])
    tangent = (closed[2:] - closed[:-2]) / 2
    norm = np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-6)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1) / norm[:, None]
    # Orientation decides which side is inside (shoelace sign).
    area = 0.5 * float(
        np.sum(pts[:, 0] * np.roll(pts[:, 1], -1) - np.roll(pts[:, 0], -1) * pts[:, 1])
    )
    sign = 1.0 if area > 0 else -1.0
    return _f32(pts - sign * normal * distance)


# -- filters --------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _gauss_matrix(n: int, sigma: float) -> FloatArray:
    idx = np.arange(n, dtype=np.float32)
    weights = np.exp(-0.5 * ((idx[:, None] - idx[None, :]) / sigma) ** 2)
    weights /= weights.sum(axis=1, keepdims=True)
    return _f32(weights)


def nonzero_window(array: FloatArray, margin_px: int) -> tuple[slice, slice] | None:
    """Row and column slices around the non-zero part of ``array`` (None if all zero)."""
    rows = np.flatnonzero(array.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(array.any(axis=0))
    h, w = array.shape
    return (
        slice(max(0, int(rows[0]) - margin_px), min(h, int(rows[-1]) + margin_px + 1)),
        slice(max(0, int(cols[0]) - margin_px), min(w, int(cols[-1]) + margin_px + 1)),
    )


def gaussian_blur(array: FloatArray, sigma_px: float) -> FloatArray:
    """Float Gaussian blur (Pillow's blur is 8-bit, which bands the lighting).

    Only the window around the non-zero pixels is blurred (panels are small), and large
    radii are blurred on a downsampled copy: the result is smooth anyway.
    """
    if sigma_px < 0.3:
        return array
    window = nonzero_window(array, int(3 * sigma_px) + 2)
    out = np.zeros_like(array, dtype=np.float32)
    if window is None:
        return out
    out[window] = _blur_dense(np.ascontiguousarray(array[window], dtype=np.float32), sigma_px)
    return out


def _blur_dense(array: FloatArray, sigma_px: float) -> FloatArray:
    h, w = array.shape
    factor = int(min(8, max(1, sigma_px // 2.5)))
    if factor > 1 and min(h, w) >= 4 * factor:
        small_size = (w // factor, h // factor)
        small = np.asarray(
            Image.fromarray(array, mode="F").resize(small_size, Image.Resampling.BOX)
        )
    else:
        small = array
    sh, sw = small.shape
    s = round(sigma_px * sh / h, 2)
    blurred = _gauss_matrix(sh, s) @ small @ _gauss_matrix(sw, s).T
    if small is not array:
        blurred = np.asarray(
            Image.fromarray(blurred.astype(np.float32), mode="F").resize(
                (w, h), Image.Resampling.BILINEAR
            )
        )
    return _f32(blurred)


def shift(array: FloatArray, dx_px: int, dy_px: int) -> FloatArray:
    """The array moved right/down by whole pixels, zero filled."""
    out = np.zeros_like(array)
    h, w = array.shape
    dx, dy = int(dx_px), int(dy_px)
    out[max(0, dy) : h + min(0, dy), max(0, dx) : w + min(0, dx)] = array[
        max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)
    ]
    return out


def smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], cells: tuple[int, int]
) -> FloatArray:
    """Zero-mean noise of unit-ish amplitude with features about shape/cells px across."""
    coarse = rng.standard_normal((cells[0], cells[1])).astype(np.float32)
    image = Image.fromarray(coarse, mode="F").resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.float32)


def _smoothstep(edge0: float, edge1: float, x: FloatArray) -> FloatArray:
    t = np.clip((x - edge0) / (edge1 - edge0), 0.0, 1.0)
    return (t * t * (3 - 2 * t)).astype(np.float32)


# -- fabric -----------------------------------------------------------------------------------


def _luminance(rgb: FloatArray) -> float:
    return float(0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2])


def accent_colour(base: FloatArray) -> FloatArray:
    """The second yarn of a two-colour weave: ecru on dark cloth, navy on light cloth."""
    if _luminance(base) < 0.45:
        return np.array([0.93, 0.91, 0.86], dtype=np.float32)
    return np.array([0.12, 0.16, 0.30], dtype=np.float32)


def fabric_texture(
    pattern: str,
    base_rgb: FloatArray,
    size: tuple[int, int],
    px_per_cm: float,
    rng: np.random.Generator,
) -> FloatArray:
    """Albedo (H, W, 3) of a cloth, in 0..1 sRGB; texture scale follows the garment's cm."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    phase = rng.uniform(0, 1000, size=2).astype(np.float32)
    xx += phase[0]
    yy += phase[1]
    fine = rng.standard_normal((h, w)).astype(np.float32)
    base = base_rgb.reshape(1, 1, 3)
    accent = accent_colour(base_rgb).reshape(1, 1, 3)

    def period(cm: float, min_px: float) -> float:
        return max(cm * px_per_cm, min_px)

    def mix(a: FloatArray, b: FloatArray, t: FloatArray) -> FloatArray:
        return (a * (1 - t[..., None]) + b * t[..., None]).astype(np.float32)

    def bands(coord: FloatArray, period_px: float, duty: float) -> FloatArray:
        """Antialiased 0/1 bands: 1 for the first ``duty`` of each period."""
        frac = (coord / period_px) % 1.0
        edge = 0.7 / period_px
        up = _smoothstep(0.0, edge, frac)
        down = 1 - _smoothstep(duty, duty + edge, frac)
        return (up * down).astype(np.float32)

    grain = 1 + 0.03 * fine
    if pattern == "plain":
        wale = 1 + 0.02 * np.sin(xx * (2 * np.pi / period(0.12, 2.2)))
        out = base * (grain * wale)[..., None]
    elif pattern == "melange":
        streaks = smooth_noise(rng, (h, w), (max(2, h // 2), max(2, w // 14)))
        speck = rng.random((h, w)).astype(np.float32)
        light = np.clip(0.5 + 0.5 * streaks, 0, 1)
        out = base * (0.9 + 0.2 * light)[..., None]
        white = np.array([0.92, 0.92, 0.9], dtype=np.float32).reshape(1, 1, 3)
        out = mix(out, white, (speck > 0.93).astype(np.float32) * 0.35)
        out = mix(out, base * 0.6, (speck < 0.05).astype(np.float32) * 0.4)
        out = out * grain[..., None]
    elif pattern == "stripes":
        t = bands(yy, period(2.6, 9.0), 0.36)
        out = mix(base, accent, t) * grain[..., None]
    elif pattern == "pinstripe":
        t = bands(xx, period(1.3, 6.0), 0.14) * 0.8
        out = mix(base, accent, t) * grain[..., None]
    elif pattern == "gingham":
        p = period(0.9, 6.0)
        hb = bands(yy, p, 0.5)
        vb = bands(xx, p, 0.5)
        white = np.array([0.95, 0.94, 0.92], dtype=np.float32).reshape(1, 1, 3)
        mid = (base + white) / 2
        both = (hb * vb)[..., None]
        one = ((hb + vb) - 2 * hb * vb)[..., None]
        none = ((1 - hb) * (1 - vb))[..., None]
        out = (base * both + mid * one + white * none) * grain[..., None]
    elif pattern == "check":
        p = period(6.0, 24.0)
        light = (base * 0.55 + 0.45).astype(np.float32)
        dark = (base * 0.55).astype(np.float32)
        hb = bands(yy, p, 0.5)
        vb = bands(xx, p, 0.5)
        out = mix(mix(light, base, np.maximum(hb, vb)), dark, hb * vb)
        line_t = np.maximum(bands(yy + p * 0.72, p, 0.05), bands(xx + p * 0.72, p, 0.05))
        out = mix(out, accent, line_t * 0.7) * grain[..., None]
    elif pattern == "denim":
        twill = 0.5 + 0.5 * np.sin((xx - yy * 0.9) * (2 * np.pi / period(0.09, 3.0)))
        # Slub yarns: faint vertical streaks, a few px wide and tens of px long.
        slub = smooth_noise(rng, (h, w), (max(2, h // 30), max(2, w // 3)))
        weft = np.array([0.86, 0.86, 0.84], dtype=np.float32).reshape(1, 1, 3)
        value = (0.87 + 0.12 * twill + 0.03 * slub + 0.04 * fine).astype(np.float32)
        out = mix(base * value[..., None], weft, (1 - twill) * 0.09 + 0.02 * np.clip(slub, 0, 1))
    elif pattern == "twill":
        twill = 0.5 + 0.5 * np.sin((xx + yy * 0.8) * (2 * np.pi / period(0.1, 3.0)))
        out = base * (0.94 + 0.08 * twill + 0.03 * fine)[..., None]
    elif pattern == "rib":
        rib = 0.5 + 0.5 * np.cos(xx * (2 * np.pi / period(0.45, 4.0)))
        out = base * (0.8 + 0.26 * rib + 0.03 * fine)[..., None]
    elif pattern == "knit":
        col_w = period(0.42, 4.5)
        row_h = col_w * 0.75
        u = (xx / col_w) % 1.0 - 0.5
        v = (yy / row_h + np.abs(u) * 1.2) % 1.0
        stitch_v = np.sin(np.pi * v) * (1 - 0.6 * np.abs(u) * 2)
        out = base * (0.78 + 0.3 * stitch_v + 0.03 * fine)[..., None]
    elif pattern == "herringbone":
        band_w = period(1.2, 8.0)
        direction = np.where(((xx / band_w) % 2.0) < 1.0, 1.0, -1.0).astype(np.float32)
        twill = 0.5 + 0.5 * np.sin((yy + direction * xx) * (2 * np.pi / period(0.3, 3.2)))
        out = mix(base * 0.82, np.minimum(base * 1.25 + 0.06, 1.0), twill * 0.8)
        out = out * grain[..., None]
    else:
        raise InputError(
            f"unknown pattern {pattern!r}; choose one of {', '.join(PATTERNS)}", field="pattern"
        )
    return _f32(np.clip(out, 0.0, 1.0))


# -- relief and light ---------------------------------------------------------------------

LIGHT = np.array([-0.45, -0.62, 0.64], dtype=np.float32) / np.float32(
    np.linalg.norm([-0.45, -0.62, 0.64])
)


def lambert_shading(height_cm: FloatArray, px_per_cm: float) -> FloatArray:
    """Brightness of a height field lit from the top left, 1.0 on flat cloth."""
    gy, gx = np.gradient(height_cm)
    gx *= px_per_cm
    gy *= px_per_cm
    norm = np.sqrt(gx * gx + gy * gy + 1.0)
    lit = (-gx * LIGHT[0] - gy * LIGHT[1] + LIGHT[2]) / norm
    return _f32(lit / LIGHT[2])


# -- the renderer ---------------------------------------------------------------------------


@dataclass
class _Layers:
    """Working arrays of one render."""

    frame: Frame
    body: FloatArray
    silhouette: FloatArray
    albedo: FloatArray
    height: FloatArray
    shadow: FloatArray = field(init=False)

    def __post_init__(self) -> None:
        self.shadow = np.zeros_like(self.body)


def check_inputs(
    garment: str,
    colour_rgb: Sequence[int],
    pattern: str,
    seed: int,
    width_px: int,
    height_px: int,
) -> None:
    """Raise InputError naming what is wrong, before any drawing."""
    if garment not in GARMENTS:
        raise InputError(
            f"unknown garment {garment!r}; choose one of {', '.join(sorted(GARMENTS))}",
            field="garment",
        )
    if pattern not in PATTERNS:
        raise InputError(
            f"unknown pattern {pattern!r}; choose one of {', '.join(PATTERNS)}", field="pattern"
        )
    if len(colour_rgb) != 3 or not all(
        isinstance(v, int | np.integer) and 0 <= int(v) <= 255 for v in colour_rgb
    ):
        raise InputError(
            f"colour_rgb must be three integers 0-255, got {list(colour_rgb)!r}",
            field="colour_rgb",
        )
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}", field="seed")
    for name, value in (("width_px", width_px), ("height_px", height_px)):
        if not MIN_SIDE_PX <= value <= MAX_SIDE_PX:
            raise InputError(
                f"{name} is {value}; it must be {MIN_SIDE_PX}-{MAX_SIDE_PX} px", field=name
            )


def silhouette_mask(garment: str, width_px: int = 600, height_px: int = 800) -> FloatArray:
    """Coverage (0..1) of the garment in a frame: its outline plus protruding panels."""
    spec = GARMENTS[garment]
    frame = fit_frame(spec, width_px, height_px)
    return _silhouette(spec, frame)[1]


def _silhouette(spec: GarmentSpec, frame: Frame) -> tuple[FloatArray, FloatArray]:
    body = rasterize(frame, [spec.outline])
    free_parts = [p.shape for p in _expand(spec.parts) if not p.clip_to_body]
    silhouette = np.maximum(body, rasterize(frame, free_parts)) if free_parts else body
    return body, silhouette


def studio_background(size: tuple[int, int], rng: np.random.Generator) -> FloatArray:
    """A light, warm-grey sweep: brighter in the middle, faintly mottled like paper."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r = np.hypot((xx - w / 2) / w, (yy - h * 0.45) / h)
    value = 0.955 - 0.06 * r**2 * 2 - 0.015 * (yy / h)
    value += 0.006 * smooth_noise(rng, (h, w), (6, 5))
    tint = np.array([0.985, 0.975, 0.955], dtype=np.float32).reshape(1, 1, 3)
    return _f32(value[..., None] * tint)


def _stitch_colour(pattern: str, base: FloatArray) -> FloatArray:
    if pattern == "denim":
        return np.array([0.80, 0.56, 0.22], dtype=np.float32)  # gold denim thread
    lum = _luminance(base)
    if lum < 0.25:
        return np.clip(base * 1.5 + 0.08, 0, 1).astype(np.float32)
    return np.clip(base * 0.72, 0, 1).astype(np.float32)


def _button_colour(style: str, base: FloatArray) -> FloatArray:
    if style == "pearl":
        return np.array([0.93, 0.92, 0.88], dtype=np.float32)
    if style == "horn":
        return np.array([0.22, 0.16, 0.12], dtype=np.float32)
    if style == "metal":
        return np.array([0.72, 0.60, 0.36], dtype=np.float32)
    return np.clip(base * 0.8, 0, 1).astype(np.float32)


def _lining_colour(base: FloatArray) -> FloatArray:
    grey = np.array([0.30, 0.28, 0.30], dtype=np.float32)
    return (base * 0.45 + grey * 0.35).astype(np.float32)


def _blend(target: FloatArray, colour: FloatArray, alpha: FloatArray) -> None:
    """Paint ``colour`` (RGB or an image like ``target``) over ``target`` with ``alpha``.

    Only the window where ``alpha`` is non-zero is touched: most layers are small.
    """
    window = nonzero_window(alpha, 0)
    if window is None:
        return
    a = alpha[window][..., None]
    paint = colour[window] if colour.ndim == 3 and colour.shape[:2] == alpha.shape else colour
    view = target[window]
    view *= 1 - a
    view += paint * a


def _apply_parts(
    layers: _Layers, spec: GarmentSpec, fabric: FloatArray, rib: FloatArray, base: FloatArray
) -> tuple[list[FloatArray], list[FloatArray]]:
    """Paint panels over the body; return their seam and topstitch polylines (px)."""
    frame = layers.frame
    outlines: list[FloatArray] = []
    stitches: list[FloatArray] = []
    for index, part in enumerate(_expand(spec.parts)):
        mask = rasterize(frame, [part.shape])
        if part.clip_to_body:
            mask *= layers.body
        if part.fill == "fabric":
            dy, dx = 3 + 2 * index, 5 + 3 * index
            albedo = np.roll(fabric, (dy, dx), axis=(0, 1)) * part.tone
        elif part.fill == "rib":
            albedo = rib * part.tone
        elif part.fill == "inside":
            albedo = fabric * (0.6 * part.tone)
        else:
            albedo = np.broadcast_to(_lining_colour(base) * part.tone, fabric.shape)
        window = nonzero_window(mask, 1)
        if window is None:
            continue
        _blend(layers.albedo[window], albedo[window].astype(np.float32), mask[window])
        soft = gaussian_blur(mask, frame.cm(0.3))
        layers.height += part.lift * 0.5 * soft
        if part.lift > 0:
            cast = gaussian_blur(
                shift(mask, round(frame.cm(0.2)), round(frame.cm(0.35))), frame.cm(0.35)
            )
            layers.shadow = np.maximum(layers.shadow, cast * (1 - mask) * min(1.0, part.lift))
        pts = frame.to_px(_shape_points(part.shape))
        if part.outline:
            outlines.append(np.concatenate([pts, pts[:1]]))
        if part.stitch_inset_cm > 0:
            inset = inset_polygon(pts, frame.cm(part.stitch_inset_cm))
            stitches.append(np.concatenate([inset, inset[:1]]))
    return outlines, stitches


def render_garment(
    garment: str,
    colour_rgb: tuple[int, int, int],
    pattern: str,
    *,
    seed: int,
    width_px: int = 600,
    height_px: int = 800,
) -> Image.Image:
    """A flat-lay studio photo (RGB) of ``garment`` in ``pattern`` cloth of ``colour_rgb``."""
    check_inputs(garment, colour_rgb, pattern, seed, width_px, height_px)
    spec = GARMENTS[garment]
    rng = np.random.default_rng(int(seed))
    frame = fit_frame(spec, width_px, height_px)
    size = (height_px, width_px)
    base = np.array(colour_rgb, dtype=np.float32) / np.float32(255.0)

    # 1. silhouette
    body, silhouette = _silhouette(spec, frame)
    # 2. cloth
    fabric = fabric_texture(pattern, base, size, frame.px_per_cm, rng)
    rib = (
        fabric_texture("rib", base, size, frame.px_per_cm, rng)
        if any(p.fill == "rib" for p in spec.parts)
        else fabric
    )
    if spec.fades:
        fabric = _apply_fades(fabric, spec, frame)
    layers = _Layers(frame, body, silhouette, fabric.copy(), np.zeros(size, np.float32))
    layers.height += 0.6 * gaussian_blur(body, frame.cm(1.6))
    # 3. panels
    panel_seams, panel_stitches = _apply_parts(layers, spec, fabric, rib, base)
    # 4. relief: folds, seams, creases
    _add_folds(layers, spec, rng)
    seam_mask = _add_lines(layers, spec, panel_seams)
    layers.height += 0.35 * smooth_noise(rng, size, (5, 4)) * silhouette
    shade = lambert_shading(layers.height, frame.px_per_cm)
    edge = gaussian_blur(silhouette, frame.cm(0.5))
    ambient = 0.82 + 0.18 * _smoothstep(0.35, 0.95, edge)
    shade = np.clip(shade * ambient * (1 - 0.35 * layers.shadow), 0.35, 1.45)
    garment_rgb = layers.albedo * shade[..., None]
    _blend(garment_rgb, np.clip(base * 0.35, 0, 1), seam_mask * 0.45)
    # 5. stitching and hardware
    _draw_stitches(garment_rgb, spec, frame, panel_stitches, pattern, base, silhouette)
    _draw_zips(garment_rgb, spec, frame, base)
    _draw_cords(garment_rgb, spec, frame, base)
    _draw_buttons(garment_rgb, spec, frame, base)
    # 6. backdrop and cast shadow
    background = studio_background(size, rng)
    drop = gaussian_blur(
        shift(silhouette, round(frame.cm(0.5)), round(frame.cm(0.9))), frame.cm(1.1)
    )
    contact = gaussian_blur(silhouette, frame.cm(0.2))
    background *= (1 - 0.22 * drop - 0.12 * contact)[..., None]
    out = background
    _blend(out, garment_rgb, silhouette)
    pixels = np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, mode="RGB")


def _apply_fades(fabric: FloatArray, spec: GarmentSpec, frame: Frame) -> FloatArray:
    """Lighten worn areas (denim thighs and knees) toward a paler indigo."""
    h, w = fabric.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    wear = np.zeros((h, w), np.float32)
    for fade in spec.fades:
        for sx in (1.0, -1.0):
            cx = frame.origin_x_px + sx * fade.x * frame.px_per_cm
            cy = frame.origin_y_px + fade.y * frame.px_per_cm
            d = ((xx - cx) / frame.cm(fade.rx)) ** 2 + ((yy - cy) / frame.cm(fade.ry)) ** 2
            wear = np.maximum(wear, fade.strength * np.exp(-1.5 * d))
    pale = np.clip(fabric * 1.25 + 0.12, 0, 1)
    return _f32(fabric * (1 - wear[..., None]) + pale * wear[..., None])


def _add_folds(layers: _Layers, spec: GarmentSpec, rng: np.random.Generator) -> None:
    frame = layers.frame
    polylines = []
    for fold in _expand(spec.folds):
        jitter = rng.normal(0, 0.9, size=2).astype(np.float32)
        pts = _shape_points(fold.shape) + jitter
        polylines.append(frame.to_px(pts))
    if not polylines:
        return
    ridge = taper_stroke(frame, polylines, frame.cm(0.9))
    layers.height += 0.6 * gaussian_blur(ridge, frame.cm(1.0)) * layers.silhouette


def _add_lines(layers: _Layers, spec: GarmentSpec, panel_seams: list[FloatArray]) -> FloatArray:
    """Sink seams into the relief; return a thin mask of seam lines for darkening."""
    frame = layers.frame
    seams: list[FloatArray] = list(panel_seams)
    edges: list[FloatArray] = []
    creases: list[FloatArray] = []
    whiskers: list[FloatArray] = []
    folds: list[FloatArray] = []
    for line in _expand(spec.lines):
        pts = frame.to_px(_shape_points(line.shape))
        if line.style == "seam":
            seams.append(pts)
        elif line.style == "edge":
            edges.append(pts)
        elif line.style == "crease":
            creases.append(pts)
        elif line.style == "whisker":
            whiskers.append(pts)
        elif line.style == "fold":
            folds.append(pts)
    if folds:
        ridge = taper_stroke(frame, folds, frame.cm(0.7))
        layers.height += 0.5 * gaussian_blur(ridge, frame.cm(0.8)) * layers.body
    seam_mask = (
        stroke(frame, seams, max(1.0, frame.cm(0.12))) if seams else np.zeros_like(layers.body)
    )
    if seams:
        layers.height -= 0.18 * gaussian_blur(seam_mask, max(0.8, frame.cm(0.12)))
    if edges:
        edge_mask = stroke(frame, edges, max(1.0, frame.cm(0.14)))
        seam_mask = np.maximum(seam_mask, edge_mask)
        cast = gaussian_blur(
            shift(edge_mask, round(frame.cm(0.25)), round(frame.cm(0.3))), frame.cm(0.35)
        )
        layers.shadow = np.maximum(layers.shadow, cast * 0.9)
        layers.height += 0.25 * gaussian_blur(edge_mask, frame.cm(0.4))
    if creases:
        crease = stroke(frame, creases, max(1.0, frame.cm(0.2)))
        layers.height += 0.35 * gaussian_blur(crease, frame.cm(0.25)) * layers.body
    if whiskers:
        whisker = gaussian_blur(stroke(frame, whiskers, frame.cm(0.5)), frame.cm(0.35))
        pale = np.clip(layers.albedo * 1.3 + 0.1, 0, 1)
        _blend(layers.albedo, pale, whisker * 0.35 * layers.body)
    return seam_mask * layers.silhouette


def _draw_stitches(
    rgb: FloatArray,
    spec: GarmentSpec,
    frame: Frame,
    panel_stitches: list[FloatArray],
    pattern: str,
    base: FloatArray,
    silhouette: FloatArray,
) -> None:
    singles: list[FloatArray] = list(panel_stitches)
    for line in _expand(spec.lines):
        pts = frame.to_px(_shape_points(line.shape))
        if line.style == "stitch":
            singles.append(pts)
        elif line.style == "double_stitch":
            gap = max(1.6, frame.cm(0.3))
            singles += [offset_polyline(pts, gap), offset_polyline(pts, -gap)]
    if not singles:
        return
    dash = (max(2.0, frame.cm(0.4)), max(1.2, frame.cm(0.22)))
    thread = stroke(frame, singles, max(0.8, frame.cm(0.09)), dash_px=dash) * silhouette
    colour = _stitch_colour(pattern, base)
    _blend(rgb, colour, thread * (0.9 if pattern == "denim" else 0.7))


def _disc(
    frame: Frame, cx: float, cy: float, r: float
) -> tuple[slice, slice, FloatArray, FloatArray, FloatArray]:
    """A local window around a disc: slices, x and y offsets from the centre (px)."""
    x0, x1 = max(0, int(cx - 3 * r - 3)), min(frame.width_px, int(cx + 3 * r + 4))
    y0, y1 = max(0, int(cy - 3 * r - 3)), min(frame.height_px, int(cy + 3 * r + 4))
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    return slice(y0, y1), slice(x0, x1), xx - cx, yy - cy, np.hypot(xx - cx, yy - cy)


def _draw_buttons(rgb: FloatArray, spec: GarmentSpec, frame: Frame, base: FloatArray) -> None:
    """Buttons, rivets and snaps: a cast shadow, a shaded disc, holes or a rim."""
    colour = _button_colour(spec.button_style, base)
    copper = np.array([0.70, 0.42, 0.22], dtype=np.float32)
    silver = np.array([0.75, 0.75, 0.74], dtype=np.float32)
    for button in _expand(spec.buttons):
        cx = frame.origin_x_px + button.x * frame.px_per_cm
        cy = frame.origin_y_px + button.y * frame.px_per_cm
        r = max(1.2, frame.cm(button.radius_cm))
        sy, sx, dx, dy, dist = _disc(frame, cx, cy, r)
        tone = {"rivet": copper, "snap": silver, "aglet": silver}.get(button.kind, colour)
        if button.kind == "shank":
            tone = colour if spec.button_style == "metal" else silver
        shadow_d = np.hypot(dx - 0.25 * r - 0.5, dy - 0.35 * r - 0.5)
        shadow = np.clip((r * 1.25 - shadow_d) / (0.6 * r), 0, 1) * 0.35
        patch = rgb[sy, sx]
        patch *= (1 - shadow)[..., None]
        cover = np.clip(r - dist + 0.5, 0, 1)
        light = 1.0 + 0.35 * np.clip(-(dx * 0.55 + dy * 0.8) / r, -1, 1)
        rim = 1 - 0.25 * _smoothstep(0.65 * r, r, dist)
        metal = button.kind in ("rivet", "snap", "aglet", "shank")
        if metal:
            light = 1.0 + 0.6 * np.clip(-(dx * 0.55 + dy * 0.8) / r, -1, 1)
        shaded = np.clip(tone.reshape(1, 1, 3) * (light * rim)[..., None], 0, 1)
        _blend(patch, shaded.astype(np.float32), cover)
        if button.kind == "sew" and r >= 2.5:
            hole_r = max(0.5, 0.14 * r)
            for hx, hy in ((-0.28, -0.28), (0.28, -0.28), (-0.28, 0.28), (0.28, 0.28)):
                hd = np.hypot(dx - hx * r, dy - hy * r)
                _blend(patch, tone * 0.45, np.clip(hole_r - hd + 0.5, 0, 1) * 0.9)
        elif button.kind in ("shank", "snap") and r >= 2.5:
            ring = np.clip(1 - np.abs(dist - 0.62 * r) / max(0.8, 0.08 * r), 0, 1)
            _blend(patch, tone * 0.55, ring * cover * 0.7)
        rgb[sy, sx] = patch


def _draw_zips(rgb: FloatArray, spec: GarmentSpec, frame: Frame, base: FloatArray) -> None:
    metal = np.array([0.55, 0.55, 0.56], dtype=np.float32)
    for zip_ in spec.zips:
        x = frame.origin_x_px
        y0 = frame.origin_y_px + zip_.top_cm * frame.px_per_cm
        y1 = frame.origin_y_px + zip_.bottom_cm * frame.px_per_cm
        half = max(1.5, frame.cm(zip_.width_cm) / 2)
        sy = slice(max(0, int(y0)), min(frame.height_px, int(y1)))
        sx = slice(max(0, int(x - 2 * half)), min(frame.width_px, int(x + 2 * half) + 1))
        yy, xx = np.mgrid[sy, sx].astype(np.float32)
        tape = np.clip(half - np.abs(xx - x) + 0.5, 0, 1)
        pitch = max(2.0, frame.cm(0.35))
        teeth = ((yy / pitch) % 1.0 < 0.55).astype(np.float32)
        teeth *= np.clip(half * 0.55 - np.abs(xx - x) + 0.5, 0, 1)
        patch = rgb[sy, sx]
        _blend(patch, np.clip(base * 0.6, 0, 1), tape * 0.8)
        _blend(patch, metal, teeth)
        rgb[sy, sx] = patch
        # the puller
        pull = _disc(frame, x, y0 + 2.2 * half, 1.3 * half)
        py, px, dx, dy, _ = pull
        box = np.clip(1.2 * half - np.abs(dx) + 0.5, 0, 1) * np.clip(
            2.4 * half - np.abs(dy) + 0.5, 0, 1
        )
        light = 1.0 + 0.4 * np.clip(-(dx + dy) / (2 * half), -1, 1)
        _blend(
            rgb[py, px], _f32(np.clip(metal.reshape(1, 1, 3) * light[..., None], 0, 1)), _f32(box)
        )


def _draw_cords(rgb: FloatArray, spec: GarmentSpec, frame: Frame, base: FloatArray) -> None:
    cords = _expand(spec.cords)
    if not cords:
        return
    colour = accent_colour(base) if _luminance(base) < 0.45 else np.clip(base * 0.75, 0, 1)
    for cord in cords:
        pts = frame.to_px(_shape_points(cord.shape))
        width = max(1.5, frame.cm(cord.width_cm))
        mask = stroke(frame, [pts], width)
        shadow = gaussian_blur(
            shift(mask, max(1, round(width * 0.4)), max(1, round(width * 0.6))), width * 0.5
        )
        rgb *= (1 - 0.3 * shadow * (1 - mask))[..., None]
        core = stroke(frame, [offset_polyline(pts, width * 0.2)], width * 0.35)
        _blend(rgb, colour.astype(np.float32), mask)
        _blend(rgb, np.clip(colour * 1.2 + 0.05, 0, 1).astype(np.float32), core * 0.5)
        end = pts[-1]
        tip = Button(
            (float(end[0]) - frame.origin_x_px) / frame.px_per_cm,
            (float(end[1]) - frame.origin_y_px) / frame.px_per_cm + cord.width_cm,
            cord.width_cm * 0.75,
            "aglet",
        )
        _draw_buttons(rgb, replace(spec, buttons=(tip,)), frame, base)


def render_product_image(
    product: Mapping[str, Any], *, width_px: int = 600, height_px: int = 800
) -> bytes:
    """JPEG bytes (quality 88) of a product's picture, from its ``image`` field."""
    image_spec = product.get("image")
    if not isinstance(image_spec, Mapping):
        raise InputError(
            f"product {product.get('product_id')!r} has no 'image' object "
            "({'garment', 'colour_rgb', 'pattern', 'seed'})",
            field="image",
        )
    missing = [key for key in ("garment", "colour_rgb", "pattern", "seed") if key not in image_spec]
    if missing:
        raise InputError(
            f"product {product.get('product_id')!r} image lacks {', '.join(missing)}",
            field="image",
        )
    colour = image_spec["colour_rgb"]
    if not isinstance(colour, Sequence) or len(colour) != 3:
        raise InputError(
            f"product {product.get('product_id')!r} image colour_rgb must be [r, g, b]",
            field="image.colour_rgb",
        )
    picture = render_garment(
        str(image_spec["garment"]),
        (colour[0], colour[1], colour[2]),
        str(image_spec["pattern"]),
        seed=image_spec["seed"],
        width_px=width_px,
        height_px=height_px,
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()
