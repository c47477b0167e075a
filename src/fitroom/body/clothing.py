"""Loose tops for synthetic scans: a T-shirt body that hangs around the torso.

Real shoppers scan in their own clothes, and a loose top widens the silhouette where
the tape would not go. The renderer's "tight" clothing is paint on the skin; this
module adds a separate shell mesh, drawn as a :class:`~fitroom.body.render.Prop` in the
top's colour, so the measurement model can learn what a loose top does to the
silhouette while its targets stay the body's own girths.

The shell is built level by level between the hem and the shoulder joints, from the torso's
vertices only (chosen by Anny's skinning weights, so arms held near the body, as in a
side photo, are not wrapped in):

- the body's own section at a level is the convex hull of the torso vertices within
  1.5 cm of it (a tape's path, seen from above);
- a "curtain" section is the hull of everything from that level up to the shoulders: a
  shirt falls from the chest and shoulder blades and does not follow the waist in;
- the shirt's radius, in each of ``segments`` directions from the level's centre, is
  the body's plus ``drape`` times the gap to the curtain (in full to the front and
  back; at the sides only ``side_drape`` of it, and only as far as the arms are
  raised: arms at the sides hold the cloth in, arms out in the A-pose let it fall
  straight from the armpits), plus the ease (both growing from nothing at the
  shoulders to full 12 cm below), plus a flare that grows towards the hem.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from fitroom.body.anny_model import BodyMesh, load_anny
from fitroom.body.render import Prop, Rgb
from fitroom.errors import InputError

#: Anny rig labels whose skinning weight marks a vertex as arm or leg, not torso.
ARM_BONE_PREFIXES = ("upperarm", "lowerarm", "wrist", "metacarpal", "finger")
LEG_BONE_PREFIXES = ("upperleg", "lowerleg", "foot", "toe")
#: The shirt lies on the shoulders and stands off fully this far below them.
SETTLE_M = 0.12
#: Upper-arm angle from vertical (degrees) below which the arms hold a shirt's sides in,
#: and at and above which they let them hang straight (``LooseTop.side_drape`` in full).
ARMS_HOLD_DEG, ARMS_FREE_DEG = 15.0, 45.0


@dataclass(frozen=True)
class LooseTop:
    """One loose T-shirt: how far it stands off the body (metres) and how it hangs.

    ``ease_m`` is added all round from the chest down (none at the shoulders, where
    the shirt lies on the body); ``flare_m`` more is reached at the hem; ``drape`` 0
    follows the body's own section at each level, 1 falls straight from the widest
    section above; the hem is ``hem_below_hip_m`` under the hip joints' level
    (negative: above). ``side_drape`` is the drape at the sides when the arms are out,
    whatever ``drape`` is in front (0, the default and every top before it existed:
    the sides follow the body in any pose; a real T-shirt in the A-pose falls nearly
    straight from the armpits). ``sleeve_fraction`` is how much of each upper arm a
    sleeve covers, from the shoulder joint (0, the default and every top before it
    existed: no sleeves; ``sleeve_props``).
    """

    ease_m: float
    flare_m: float
    drape: float
    hem_below_hip_m: float
    side_drape: float = 0.0
    sleeve_fraction: float = 0.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.ease_m <= 0.15 or not 0.0 <= self.flare_m <= 0.15:
            raise InputError("a loose top's ease and flare must be 0-15 cm", field="ease_m")
        if not 0.0 <= self.drape <= 1.0:
            raise InputError(f"drape is {self.drape}; use 0 to 1", field="drape")
        if not 0.0 <= self.side_drape <= 1.0:
            raise InputError(f"side_drape is {self.side_drape}; use 0 to 1", field="side_drape")
        if not 0.0 <= self.sleeve_fraction <= 1.0:
            raise InputError(
                f"sleeve_fraction is {self.sleeve_fraction}; use 0 to 1", field="sleeve_fraction"
            )
        if not -0.1 <= self.hem_below_hip_m <= 0.2:
            raise InputError("the hem must sit 10 cm above to 20 cm below the hips")


def sample_loose_top(
    rng: np.random.Generator, hanging_sides: bool = False, sleeves: bool = False
) -> LooseTop:
    """A plausible everyday loose top: 1-5 cm of ease, up to 4 cm more at the hem.

    With ``hanging_sides`` its sides also fall from the armpits when the arms are out
    (``side_drape`` 0.4-1, one more draw); with ``sleeves`` it has sleeves over 30-90%
    of the upper arm (one more draw, after that one); without either, the draws are the
    ones every earlier data set was made with.
    """
    top = LooseTop(
        ease_m=float(rng.uniform(0.01, 0.05)),
        flare_m=float(rng.uniform(0.0, 0.04)),
        drape=float(rng.uniform(0.2, 0.9)),
        hem_below_hip_m=float(rng.uniform(-0.02, 0.12)),
    )
    if hanging_sides:
        top = replace(top, side_drape=float(rng.uniform(0.4, 1.0)))
    if sleeves:
        top = replace(top, sleeve_fraction=float(rng.uniform(0.3, 0.9)))
    return top


def arm_abduction_deg(mesh: BodyMesh) -> float:
    """The mean angle of the two upper arms from straight down, in the camera's plane
    (degrees): from the shoulder joint to the elbow, seen from the front."""
    keys = mesh.keypoints_m
    angles = []
    for side in ("L", "R"):
        upper = keys[f"lowerarm01.{side}"] - keys[f"upperarm01.{side}"]
        angles.append(math.degrees(math.atan2(abs(float(upper[0])), -float(upper[1]))))
    return float(np.mean(angles))


def torso_vertex_mask(model: Any | None = None) -> NDArray[np.bool_]:
    """Vertices of Anny's template that belong to the torso (same for every body).

    A vertex is torso when less than 20 % of its skinning weight is on arm bones and
    less than 60 % on leg bones (the pelvis and buttocks keep some leg weight).
    """
    return _torso_vertex_mask(model if model is not None else load_anny())


@functools.cache
def _bone_share(model: Any, chosen: Callable[[str], bool]) -> NDArray[np.float64]:
    """Each template vertex's skinning weight on the bones whose label is ``chosen``."""
    labels: list[str] = list(model.bone_labels)
    weights = model.vertex_bone_weights.detach().cpu().numpy().astype(np.float64)
    indices = model.vertex_bone_indices.detach().cpu().numpy()
    picked = np.array([chosen(label) for label in labels])
    return np.asarray((weights * picked[indices]).sum(axis=1), dtype=np.float64)


def _torso_vertex_mask(model: Any) -> NDArray[np.bool_]:
    arm = _bone_share(model, lambda label: label.startswith(ARM_BONE_PREFIXES))
    leg = _bone_share(model, lambda label: label.startswith(LEG_BONE_PREFIXES))
    mask = (arm < 0.2) & (leg < 0.6)
    mask.setflags(write=False)
    return mask


def _hull(points_xz: NDArray[np.float64]) -> NDArray[np.float64]:
    import cv2

    hull = cv2.convexHull(points_xz.astype(np.float32)).reshape(-1, 2)
    return np.asarray(hull, dtype=np.float64)


def polar_radius(
    polygon: NDArray[np.float64], centre: NDArray[np.float64], angles: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Distance from ``centre`` to a convex polygon's boundary along each angle (radians,
    in the XZ plane: x = cos, z = sin). Where a ray misses (centre outside), the largest
    vertex distance."""
    directions = np.stack([np.cos(angles), np.sin(angles)], axis=1)  # A x 2
    start = polygon - centre  # E x 2
    edge = np.roll(polygon, -1, axis=0) - polygon  # E x 2
    # centre + r d = start + s e  ->  r d - s e = start; Cramer's rule per (angle, edge).
    det = directions[:, None, 0] * -edge[None, :, 1] + edge[None, :, 0] * directions[:, None, 1]
    safe = np.where(np.abs(det) < 1e-12, np.nan, det)
    sx, sz = start[None, :, 0], start[None, :, 1]
    dx, dz = directions[:, None, 0], directions[:, None, 1]
    r = (sx * -edge[None, :, 1] + edge[None, :, 0] * sz) / safe
    along = (dx * sz - dz * sx) / safe
    valid = (along >= -1e-9) & (along <= 1 + 1e-9) & (r > 0)
    hits = np.where(valid, r, -np.inf).max(axis=1)
    fallback = float(np.linalg.norm(start, axis=1).max())
    return np.where(np.isfinite(hits), hits, fallback)


def loose_top_prop(
    mesh: BodyMesh,
    top: LooseTop,
    rgb: Rgb,
    torso: NDArray[np.bool_] | None = None,
    levels: int = 28,
    segments: int = 48,
) -> Prop:
    """The shell of ``top`` around ``mesh`` (any pose: arms and legs are left out by
    skinning weight), as a prop in colour ``rgb``: an open tube, faces wound outward."""
    keys = mesh.keypoints_m
    torso_mask = torso if torso is not None else torso_vertex_mask()
    if torso_mask.shape[0] != mesh.vertices_m.shape[0]:
        raise InputError("the torso mask does not match the mesh's vertices", field="torso")
    points = mesh.vertices_m[torso_mask]
    hip_y = 0.5 * (keys["upperleg01.L"][1] + keys["upperleg01.R"][1])
    shoulder_y = min(keys["upperarm01.L"][1], keys["upperarm01.R"][1])
    hem_y = hip_y - top.hem_below_hip_m
    heights = np.linspace(shoulder_y, hem_y, levels)  # top ring first
    chest_y = shoulder_y - SETTLE_M
    angles = np.linspace(0.0, 2.0 * math.pi, segments, endpoint=False)
    band_m = 0.015
    # The shirt hangs straight down in front and behind; at the sides arms held down
    # keep it in, so it follows the body there (and arms hanging at the sides stay
    # outside); arms held out let the sides fall by ``side_drape``.
    front_back = np.abs(np.sin(angles))
    arms_out = float(
        np.clip(
            (arm_abduction_deg(mesh) - ARMS_HOLD_DEG) / (ARMS_FREE_DEG - ARMS_HOLD_DEG), 0.0, 1.0
        )
    )
    hang = top.drape * front_back + top.side_drape * arms_out * (1.0 - front_back)
    rings = []
    curtain: NDArray[np.float64] | None = None
    for y in heights:
        near = points[np.abs(points[:, 1] - y) < band_m][:, [0, 2]]
        if len(near) >= 3:
            body = _hull(near)
            curtain = body if curtain is None else _hull(np.vstack([curtain, body]))
        elif curtain is None:
            continue
        else:
            body = curtain
        centre = curtain.mean(axis=0)
        hanging = polar_radius(curtain, centre, angles)
        # The curtain holds the body's section; a sparse band can miss the centre.
        own = np.minimum(polar_radius(body, centre, angles), hanging)
        settled = float(np.clip((shoulder_y - y) / SETTLE_M, 0.0, 1.0))
        towards_hem = float(np.clip((chest_y - y) / max(chest_y - hem_y, 1e-6), 0.0, 1.0))
        radius = (
            own
            + settled * hang * np.maximum(hanging - own, 0.0)
            + settled * top.ease_m
            + top.flare_m * towards_hem
        )
        rings.append(
            np.stack(
                [
                    centre[0] + radius * np.cos(angles),
                    np.full(segments, y),
                    centre[1] + radius * np.sin(angles),
                ],
                axis=1,
            )
        )
    if len(rings) < 2:
        raise InputError("the body has no torso between the hem and the shoulders")
    vertices = np.vstack(rings)
    faces = []
    for k in range(len(rings) - 1):
        for i in range(segments):
            a, b = k * segments + i, k * segments + (i + 1) % segments
            c, d = b + segments, a + segments
            faces += [(a, b, c), (a, c, d)]
    face_array = np.array(faces, dtype=np.int64)
    return Prop(vertices, _outward(vertices, face_array, segments), rgb)


def upper_arm_vertex_mask(side: str, model: Any | None = None) -> NDArray[np.bool_]:
    """Vertices of Anny's template that move with the ``side`` ("L" or "R") upper arm:
    at least half their skinning weight on its ``upperarm`` bones."""
    if side not in ("L", "R"):
        raise InputError(f"side is {side!r}; use 'L' or 'R'", field="side")
    return _upper_arm_vertex_mask(model if model is not None else load_anny(), side)


@functools.cache
def _upper_arm_vertex_mask(model: Any, side: str) -> NDArray[np.bool_]:
    share = _bone_share(
        model, lambda label: label.startswith("upperarm") and label.endswith(f".{side}")
    )
    mask = share >= 0.5
    mask.setflags(write=False)
    return np.asarray(mask, dtype=np.bool_)


def sleeve_props(
    mesh: BodyMesh,
    top: LooseTop,
    rgb: Rgb,
    arms: dict[str, NDArray[np.bool_]] | None = None,
    rings: int = 8,
    segments: int = 24,
) -> tuple[Prop, ...]:
    """The sleeves of ``top`` (none when ``top.sleeve_fraction`` is 0) as props in colour
    ``rgb``: one open tube per arm from the shoulder joint along ``sleeve_fraction`` of
    the upper arm (shoulder joint to elbow). Each ring is round about the arm's axis,
    as wide as the arm's own vertices there (the 90th percentile of their distance
    from the axis) plus 0.3 of the top's ease, and hangs: on a raised arm the rest of
    the ease is added below it, so the cloth's lower side droops away as a loose
    sleeve does; on a hanging arm it goes half all round.
    ``arms``: vertex masks by side ("L", "R"; default ``upper_arm_vertex_mask``).
    """
    if top.sleeve_fraction <= 0.0:
        return ()
    keys = mesh.keypoints_m
    props = []
    for side in ("L", "R"):
        mask = arms[side] if arms is not None else upper_arm_vertex_mask(side)
        if mask.shape[0] != mesh.vertices_m.shape[0]:
            raise InputError("the arm mask does not match the mesh's vertices", field="arms")
        shoulder, elbow = keys[f"upperarm01.{side}"], keys[f"lowerarm01.{side}"]
        length = float(np.linalg.norm(elbow - shoulder))
        axis = (elbow - shoulder) / length
        # Two directions across the arm: "down" (gravity's part across it) and one more.
        gravity = np.array([0.0, -1.0, 0.0])
        down = gravity - float(gravity @ axis) * axis
        # How far the arm is from hanging straight (sine of its angle to the vertical):
        # a hanging arm's sleeve is loose all round rather than below it.
        tilt = float(np.linalg.norm(down))
        if tilt < 1e-6:  # an arm straight down: any cross direction
            down = np.array([0.0, 0.0, 1.0]) - axis[2] * axis
        down /= np.linalg.norm(down)
        across = np.cross(axis, down)
        points = mesh.vertices_m[mask] - shoulder
        along = points @ axis
        off_axis = np.linalg.norm(points - along[:, None] * axis, axis=1)
        angles = np.linspace(0.0, 2.0 * math.pi, segments, endpoint=False)
        below = np.clip(np.cos(angles), 0.0, None)  # 1 straight down, 0 from the sides up
        slack = tilt * below + (1.0 - tilt) * 0.5
        ring_list = []
        steps = np.linspace(0.0, top.sleeve_fraction * length, rings)
        for t in steps:
            near = off_axis[np.abs(along - t) < 0.015]
            arm_radius = float(np.quantile(near, 0.9)) if near.size >= 3 else 0.04
            radius = arm_radius + 0.3 * top.ease_m + top.ease_m * slack
            centre = shoulder + t * axis
            ring = centre + radius[:, None] * (
                np.cos(angles)[:, None] * down + np.sin(angles)[:, None] * across
            )
            ring_list.append(ring)
        vertices = np.vstack(ring_list)
        faces = []
        for k in range(rings - 1):
            for i in range(segments):
                a, b = k * segments + i, k * segments + (i + 1) % segments
                c, d = b + segments, a + segments
                faces += [(a, b, c), (a, c, d)]
        face_array = np.array(faces, dtype=np.int64)
        centres = np.repeat(shoulder + np.outer(steps, axis), segments, axis=0)
        props.append(Prop(vertices, _outward_from(vertices, face_array, centres), rgb))
    return tuple(props)


def _outward_from(
    vertices: NDArray[np.float64], faces: NDArray[np.int64], centres: NDArray[np.float64]
) -> NDArray[np.int64]:
    """Faces wound so that (v1 - v0) x (v2 - v0) points away from their first vertex's
    ring centre (``centres``: one per vertex)."""
    triangles = vertices[faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    outward = triangles.mean(axis=1) - centres[faces[:, 0]]
    flip = np.einsum("ij,ij->i", normals, outward) < 0
    fixed = faces.copy()
    fixed[flip] = fixed[flip][:, [0, 2, 1]]
    return fixed


def _outward(
    vertices: NDArray[np.float64], faces: NDArray[np.int64], segments: int
) -> NDArray[np.int64]:
    """Faces wound so that (v1 - v0) x (v2 - v0) points away from their ring's axis."""
    triangles = vertices[faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    ring = faces[:, 0] // segments
    ring_centres = vertices.reshape(-1, segments, 3).mean(axis=1)
    outward = triangles.mean(axis=1) - ring_centres[ring]
    outward[:, 1] = 0.0
    flip = np.einsum("ij,ij->i", normals, outward) < 0
    fixed = faces.copy()
    fixed[flip] = fixed[flip][:, [0, 2, 1]]
    return fixed
