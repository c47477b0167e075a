"""Tape-like body measurements on a mesh, after ISO 8559-1:2017 (body dimensions).

A girth is what a tape pulled snug around the body reads: the perimeter of the convex
hull of the horizontal cross-section of one body part (the tape bridges concavities such
as the navel or the cleft between the breasts). Sections are taken on the "scan" pose
(``anny_model.build_mesh(..., pose="scan")``) where the arms stand away from the torso and
the legs apart, so the torso, each arm and each leg are separate loops. Heights are
found on the mesh itself (armpit and crotch levels) and placed with Anny's joints.

Frame: metres, Y up, feet on y = 0 (see ``anny_model.BodyMesh``). Results are in cm.

Speed: a body is cut at a few hundred levels, so the mesh's edges are indexed once
(``MeshSlicer``) and many levels are cut in one vectorised pass; hulls come from Qhull.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

from fitroom.body.anny_model import BodyMesh
from fitroom.errors import InputError, ModelError

Points2 = NDArray[np.float64]

#: Level search step, in metres (a 2 mm step moves a girth by < 0.1 cm).
_STEP_M = 0.002

#: Levels cut per pass by the top-down landmark searches, which stop at the first hit.
_SCAN_CHUNK = 16


@dataclass(frozen=True)
class MeshMeasurements:
    """Body dimensions in cm (mass in kg) and the heights in metres where girths were taken."""

    stature_cm: float
    chest_cm: float
    waist_cm: float
    hip_cm: float
    neck_cm: float
    shoulder_breadth_cm: float
    arm_length_cm: float
    inseam_cm: float
    thigh_cm: float
    mass_kg: float
    anny_waist_cm: float
    level_heights_m: dict[str, float]

    def to_dict(self) -> dict[str, float | dict[str, float]]:
        """Plain data (for JSON and training labels)."""
        return asdict(self)


@dataclass(frozen=True)
class Section:
    """A horizontal cross-section: one (K, 2) array of (x, z) points per loop, and each
    loop's bounding box as a row (x min, z min, x max, z max)."""

    loops: list[Points2]
    boxes: NDArray[np.float64]

    @classmethod
    def of(cls, loops: list[Points2]) -> Section:
        """A section of the given loops (their boxes computed here)."""
        boxes = np.array(
            [np.concatenate([loop.min(axis=0), loop.max(axis=0)]) for loop in loops if len(loop)]
        )
        return cls([loop for loop in loops if len(loop)], boxes.reshape(-1, 4))


class MeshSlicer:
    """Horizontal sections of one triangle mesh, cut at many levels in one pass.

    The mesh's unique edges are indexed once. A plane y = h crosses an edge when exactly
    one end lies above it (y > h), and a face when two of its edges cross; a crossing
    point is keyed by its mesh edge, and the two crossing points of a face are joined,
    so loops never merge by proximity.
    """

    def __init__(self, vertices_m: NDArray[np.float64], faces: NDArray[np.int64]) -> None:
        self.vertices_m = np.asarray(vertices_m, dtype=np.float64)
        faces = np.asarray(faces, dtype=np.int64)
        count = int(self.vertices_m.shape[0]) + 1
        starts, ends = faces, np.roll(faces, -1, axis=1)
        keys = np.minimum(starts, ends) * count + np.maximum(starts, ends)
        edge_keys, face_edges = np.unique(keys.ravel(), return_inverse=True)
        self._face_edges = face_edges.reshape(-1, 3)
        self._edge_lo = edge_keys // count
        self._edge_hi = edge_keys % count
        y = self.vertices_m[:, 1]
        self._edge_y_min = np.minimum(y[self._edge_lo], y[self._edge_hi])
        self._edge_y_max = np.maximum(y[self._edge_lo], y[self._edge_hi])
        face_y = y[faces]
        self._face_y_min = face_y.min(axis=1)
        self._face_y_max = face_y.max(axis=1)

    def loops(self, heights_m: Sequence[float] | NDArray[np.float64]) -> list[list[Points2]]:
        """For each height, its section as one (K, 2) array of (x, z) points per loop."""
        return [section.loops for section in self.sections(heights_m)]

    def sections(self, heights_m: Sequence[float] | NDArray[np.float64]) -> list[Section]:
        """The section at each height, in the order given."""
        heights = np.asarray(heights_m, dtype=np.float64).reshape(-1)
        empty = Section([], np.empty((0, 4)))
        if len(heights) == 0:
            return []
        order = np.argsort(heights, kind="stable")
        levels = heights[order]
        # 1. Faces crossed by some level: min y <= h < max y (a vertex at h counts as below).
        first = np.searchsorted(levels, self._face_y_min, side="left")
        stop = np.searchsorted(levels, self._face_y_max, side="left")
        spans = np.maximum(stop - first, 0)
        crossed = np.flatnonzero(spans)
        if len(crossed) == 0:
            return [empty] * len(heights)
        spans = spans[crossed]
        # 2. One (face, level) pair per crossing; exactly two of the face's edges cross.
        pair_face = np.repeat(crossed, spans)
        offsets = np.arange(len(pair_face)) - np.repeat(np.cumsum(spans) - spans, spans)
        pair_level = np.repeat(first[crossed], spans) + offsets
        pair_height = levels[pair_level][:, None]
        edges = self._face_edges[pair_face]
        edge_crosses = (self._edge_y_min[edges] <= pair_height) & (
            pair_height < self._edge_y_max[edges]
        )
        pair_edges = edges[edge_crosses].reshape(-1, 2)
        # 3. Crossing points, one per (level, edge), in edge order within a level.
        keys = pair_level[:, None] * len(self._edge_lo) + pair_edges
        node_keys, links = np.unique(keys.ravel(), return_inverse=True)
        node_level = node_keys // len(self._edge_lo)
        node_edge = node_keys % len(self._edge_lo)
        lo, hi = self._edge_lo[node_edge], self._edge_hi[node_edge]
        vertices = self.vertices_m
        y_lo, y_hi = vertices[lo, 1], vertices[hi, 1]
        t = (levels[node_level] - y_lo) / (y_hi - y_lo)
        points = vertices[lo][:, [0, 2]] + t[:, None] * (
            vertices[hi][:, [0, 2]] - vertices[lo][:, [0, 2]]
        )
        # 4. Loops: connected crossing points (levels never share a point).
        links = links.reshape(-1, 2)
        size = len(node_keys)
        graph = coo_matrix(
            (np.ones(len(links), dtype=np.int8), (links[:, 0], links[:, 1])), shape=(size, size)
        )
        _, labels = connected_components(graph, directed=False)
        # Loops level by level; a loop's points in edge order, as in one level's cut.
        by_loop = np.lexsort((labels, node_level))
        grouped = points[by_loop]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(labels[by_loop])) + 1])
        boxes = np.hstack(
            [np.minimum.reduceat(grouped, starts, axis=0), np.maximum.reduceat(grouped, starts)]
        )
        loop_level = order[node_level[by_loop[starts]]]
        cuts = np.flatnonzero(np.diff(loop_level)) + 1
        loops = np.split(grouped, starts[1:])
        result = [empty] * len(heights)
        for first_loop, last_loop in zip(
            np.concatenate([[0], cuts]).tolist(),
            np.concatenate([cuts, [len(starts)]]).tolist(),
            strict=True,
        ):
            result[int(loop_level[first_loop])] = Section(
                loops[first_loop:last_loop], boxes[first_loop:last_loop]
            )
        return result


def horizontal_section_loops(
    vertices_m: NDArray[np.float64], faces: NDArray[np.int64], height_m: float
) -> list[Points2]:
    """Cross-section of a triangle mesh by the plane y = ``height_m``, as one (K, 2)
    array of (x, z) points per connected loop.

    Exact topology: a crossing point is keyed by the mesh edge it lies on, and the two
    crossing points of a triangle are joined, so loops never merge by proximity. To cut
    one mesh at many levels, build a ``MeshSlicer`` once.
    """
    return MeshSlicer(vertices_m, faces).loops([height_m])[0]


def _monotone_chain(unique: Points2) -> Points2:
    """Convex hull of sorted unique 2-D points, counter-clockwise (Andrew's monotone chain);
    the fallback for the degenerate (collinear) inputs Qhull refuses."""
    lower: list[NDArray[np.float64]] = []
    upper: list[NDArray[np.float64]] = []

    def turn(o: NDArray[np.float64], p: NDArray[np.float64], q: NDArray[np.float64]) -> float:
        return float((p[0] - o[0]) * (q[1] - o[1]) - (p[1] - o[1]) * (q[0] - o[0]))

    for point in unique:
        while len(lower) >= 2 and turn(lower[-2], lower[-1], point) <= 0:
            lower.pop()
        lower.append(point)
    for point in unique[::-1]:
        while len(upper) >= 2 and turn(upper[-2], upper[-1], point) <= 0:
            upper.pop()
        upper.append(point)
    return np.array(lower[:-1] + upper[:-1])


def convex_hull(points: Points2) -> Points2:
    """Convex hull of 2-D points, counter-clockwise, without collinear points (Qhull;
    Andrew's monotone chain when the points are all on one line)."""
    if len(points) >= 3:
        try:
            # Qhull takes repeated points and lists a 2-D hull's vertices counter-clockwise.
            hull: Points2 = points[ConvexHull(points).vertices]
            return hull
        except QhullError:
            pass
    unique = np.unique(points, axis=0)
    return unique if len(unique) < 3 else _monotone_chain(unique)


def _perimeter_m(hull: Points2) -> float:
    if len(hull) < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(hull, axis=0, append=hull[:1]), axis=1).sum())


def _hull_holds(hull: Points2, query: NDArray[np.float64]) -> bool:
    if len(hull) < 3:
        return False
    edges = np.diff(hull, axis=0, append=hull[:1])
    to_query = query[None, :] - hull
    return bool(np.all(edges[:, 0] * to_query[:, 1] - edges[:, 1] * to_query[:, 0] >= 0))


def convex_perimeter_m(points: Points2) -> float:
    """Girth a taut tape reads around ``points``: the perimeter of their convex hull."""
    return _perimeter_m(convex_hull(points))


def hull_contains(points: Points2, query: NDArray[np.float64]) -> bool:
    """Whether ``query`` (x, z) lies inside the convex hull of ``points``."""
    if len(points) == 0 or np.any(query < points.min(axis=0)) or np.any(query > points.max(axis=0)):
        return False  # outside the bounding box, so outside the hull
    return _hull_holds(convex_hull(points), query)


def _around(section: Section, query: NDArray[np.float64]) -> tuple[Points2, Points2, float] | None:
    """(loop, its hull, hull perimeter m) of the largest loop whose hull holds ``query``;
    the first such loop on a tie. Loops whose bounding box misses ``query`` are skipped."""
    boxes = section.boxes
    in_box = np.all((boxes[:, :2] <= query) & (query <= boxes[:, 2:]), axis=1)
    best: tuple[Points2, Points2, float] | None = None
    for index in np.flatnonzero(in_box).tolist():
        loop = section.loops[index]
        hull = convex_hull(loop)
        if _hull_holds(hull, query):
            perimeter = _perimeter_m(hull)
            if best is None or perimeter > best[2]:
                best = (loop, hull, perimeter)
    return best


def loop_around(loops: list[Points2], query: NDArray[np.float64]) -> Points2 | None:
    """The largest loop whose convex hull contains ``query`` (inner cavities are smaller)."""
    best = _around(Section.of(loops), query)
    return None if best is None else best[0]


def _girth_m(section: Section, query: NDArray[np.float64]) -> float:
    best = _around(section, query)
    return 0.0 if best is None else best[2]


def girth_around_m(
    vertices_m: NDArray[np.float64],
    faces: NDArray[np.int64],
    height_m: float,
    query: NDArray[np.float64],
) -> float:
    """Convex girth of the body part around the (x, z) point ``query`` at ``height_m``;
    0 when no loop surrounds it."""
    return _girth_m(MeshSlicer(vertices_m, faces).sections([height_m])[0], query)


def _axis_point(mesh: BodyMesh, upper: str, lower: str, height_m: float) -> NDArray[np.float64]:
    """(x, z) of the straight line between two keypoints, at ``height_m``."""
    top, bottom = mesh.keypoints_m[upper], mesh.keypoints_m[lower]
    t = (height_m - bottom[1]) / (top[1] - bottom[1])
    point = bottom + t * (top - bottom)
    return np.array([point[0], point[2]])


def _spine_point(mesh: BodyMesh, height_m: float) -> NDArray[np.float64]:
    """(x, z) of the body's central axis (hip-joint midpoint to neck base) at ``height_m``."""
    keys = mesh.keypoints_m
    pelvis = 0.5 * (keys["upperleg01.L"] + keys["upperleg01.R"])
    chain = np.array(
        [pelvis, keys["spine03"], keys["spine02"], keys["spine01"], keys["neck01"], keys["head"]]
    )
    return np.array(
        [
            np.interp(height_m, chain[:, 1], chain[:, 0]),
            np.interp(height_m, chain[:, 1], chain[:, 2]),
        ]
    )


def _levels(low_m: float, high_m: float) -> NDArray[np.float64]:
    return np.arange(low_m, high_m + 1e-9, _STEP_M)


def _top_down(slicer: MeshSlicer, low_m: float, high_m: float) -> Iterator[tuple[float, Section]]:
    """(height, section) from ``high_m`` down to ``low_m``, cut a chunk of levels at a time
    so that a search which stops early cuts few levels it never looks at."""
    heights = _levels(low_m, high_m)[::-1]
    for start in range(0, len(heights), _SCAN_CHUNK):
        chunk = heights[start : start + _SCAN_CHUNK]
        yield from zip(chunk.tolist(), slicer.sections(chunk), strict=True)


def _armpit_height_m(mesh: BodyMesh, slicer: MeshSlicer) -> float:
    """Highest level below the shoulder joints where both upper arms are loops of their
    own, apart from the torso loop (ISO 8559-1 3.1.x armpit / axilla level)."""
    keys = mesh.keypoints_m
    top = min(keys["upperarm01.L"][1], keys["upperarm01.R"][1])
    bottom = max(keys["lowerarm01.L"][1], keys["lowerarm01.R"][1])
    for height, section in _top_down(slicer, bottom, top):
        torso = _around(section, _spine_point(mesh, height))
        if torso is None:
            continue
        arms_free = all(
            not _hull_holds(
                torso[1], _axis_point(mesh, f"upperarm01.{side}", f"lowerarm01.{side}", height)
            )
            for side in ("L", "R")
        )
        if arms_free:
            return height
    raise ModelError("no level where the arms stand free of the torso; use the scan pose")


def _crotch_height_m(mesh: BodyMesh, slicer: MeshSlicer) -> float:
    """Highest level where the two legs are separate loops (ISO 8559-1 5.1.15 crotch
    height, the inside-leg length standing)."""
    keys = mesh.keypoints_m
    top = max(keys["upperleg01.L"][1], keys["upperleg01.R"][1])
    bottom = min(keys["lowerleg01.L"][1], keys["lowerleg01.R"][1])
    for height, section in _top_down(slicer, bottom, top):
        left = _axis_point(mesh, "upperleg01.L", "lowerleg01.L", height)
        right = _axis_point(mesh, "upperleg01.R", "lowerleg01.R", height)
        left_leg = _around(section, left)
        if left_leg is not None and not _hull_holds(left_leg[1], right):
            return height
    raise ModelError("the legs never join; is this a full body mesh?")


def _extreme_girth(
    mesh: BodyMesh,
    slicer: MeshSlicer,
    low_m: float,
    high_m: float,
    largest: bool,
    leg: str | None = None,
) -> tuple[float, float]:
    """(girth m, height m) of the largest or smallest torso (or ``leg``) girth in a band."""
    heights = _levels(low_m, high_m)
    results = []
    for height, section in zip(heights.tolist(), slicer.sections(heights), strict=True):
        if leg is None:
            query = _spine_point(mesh, height)
        else:
            query = _axis_point(mesh, f"upperleg01.{leg}", f"lowerleg01.{leg}", height)
        girth = _girth_m(section, query)
        if girth > 0:
            results.append((girth, height))
    if not results:
        raise ModelError(f"no body section between {low_m:.3f} m and {high_m:.3f} m")
    return max(results) if largest else min(results)


def measure_mesh(mesh: BodyMesh) -> MeshMeasurements:
    """ISO 8559-1 dimensions of a body in the scan pose.

    Landmark levels found on the mesh: armpit A (``_armpit_height_m``) and crotch C
    (``_crotch_height_m``); t = (y - C) / (A - C) places a level on the torso.

    - stature (5.1.1): top of the head above the floor (max y; feet on y = 0).
    - chest / bust girth (5.3.4 / 5.3.5): largest torso girth from 1 cm below the
      armpit down 0.07 x stature (over the bust points for women).
    - waist girth (5.3.10, natural waist): smallest torso girth for t in [0.35, 0.70],
      i.e. between the top of the hip bone and the lowest rib / under-bust.
    - hip girth (5.3.13): largest torso girth for t in [0.02, 0.40], i.e. between the
      crotch and the top of the hip bone, at buttock prominence.
    - neck base girth (5.3.2): horizontal girth of the neck 2 cm above Anny's ``neck01``
      joint (C7 level), a horizontal stand-in for the slanted tape path.
    - shoulder breadth: straight distance between the shoulder joint centres
      (``upperarm01.L/R``); biacromial breadth (5.2.?) reads ~2-4 cm more on the skin.
    - arm length (5.7.8): shoulder joint -> elbow -> wrist joint, along the arm.
    - inseam (5.1.15 crotch height): the crotch level C above the floor.
    - thigh girth (5.3.20): largest left-leg girth from C - 1 cm down to C - 8 cm
      (just below the gluteal fold).
    """
    if mesh.pose != "scan":
        raise InputError(
            f"mesh is in the {mesh.pose!r} pose; girths need the 'scan' pose", field="pose"
        )
    keys = mesh.keypoints_m
    stature = float(mesh.vertices_m[:, 1].max())
    slicer = MeshSlicer(mesh.vertices_m, mesh.faces)
    armpit = _armpit_height_m(mesh, slicer)
    crotch = _crotch_height_m(mesh, slicer)
    span = armpit - crotch
    chest, chest_level = _extreme_girth(mesh, slicer, armpit - 0.07 * stature, armpit - 0.01, True)
    waist, waist_level = _extreme_girth(
        mesh, slicer, crotch + 0.35 * span, crotch + 0.70 * span, False
    )
    hip, hip_level = _extreme_girth(mesh, slicer, crotch + 0.02 * span, crotch + 0.40 * span, True)
    thigh, thigh_level = _extreme_girth(mesh, slicer, crotch - 0.08, crotch - 0.01, True, leg="L")
    neck_level = float(keys["neck01"][1] + 0.02)
    neck = _girth_m(slicer.sections([neck_level])[0], _spine_point(mesh, neck_level))
    shoulder_breadth = float(np.linalg.norm(keys["upperarm01.L"] - keys["upperarm01.R"]))
    arm_lengths = [
        float(
            np.linalg.norm(keys[f"lowerarm01.{side}"] - keys[f"upperarm01.{side}"])
            + np.linalg.norm(keys[f"wrist.{side}"] - keys[f"lowerarm01.{side}"])
        )
        for side in ("L", "R")
    ]
    return MeshMeasurements(
        stature_cm=100 * stature,
        chest_cm=100 * chest,
        waist_cm=100 * waist,
        hip_cm=100 * hip,
        neck_cm=100 * neck,
        shoulder_breadth_cm=100 * shoulder_breadth,
        arm_length_cm=100 * float(np.mean(arm_lengths)),
        inseam_cm=100 * crotch,
        thigh_cm=100 * thigh,
        mass_kg=mesh.anny_mass_kg,
        anny_waist_cm=100 * mesh.anny_waist_m,
        level_heights_m={
            "armpit": armpit,
            "crotch": crotch,
            "chest": chest_level,
            "waist": waist_level,
            "hip": hip_level,
            "thigh": thigh_level,
            "neck": neck_level,
        },
    )
