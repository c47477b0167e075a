"""Body fixtures: synthetic meshes of known size, wrapped as ``BodyMesh``."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from fitroom.body.anny_model import BodyMesh, BodyParams


def as_body_mesh(
    vertices_m: NDArray[np.float64], faces: NDArray[np.int64], pose: str = "scan"
) -> BodyMesh:
    """A plain mesh (Y up) as a ``BodyMesh`` with no keypoints."""
    return BodyMesh(
        vertices_m=np.asarray(vertices_m, dtype=np.float64),
        faces=np.asarray(faces, dtype=np.int64),
        keypoints_m={},
        params=BodyParams.average("male"),
        pose=pose,  # type: ignore[arg-type]
        anny_stature_m=0.0,
        anny_mass_kg=0.0,
        anny_waist_m=0.0,
    )


def prism(
    outline_xz: NDArray[np.float64], y0_m: float, y1_m: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """A closed vertical prism over a star-shaped outline (counter-clockwise seen from +Y
    looking down is clockwise in (x, z); faces wound outwards), capped by fans."""
    count = len(outline_xz)
    bottom = np.column_stack([outline_xz[:, 0], np.full(count, y0_m), outline_xz[:, 1]])
    top = np.column_stack([outline_xz[:, 0], np.full(count, y1_m), outline_xz[:, 1]])
    centre = outline_xz.mean(axis=0)
    vertices = np.vstack(
        [bottom, top, [[centre[0], y0_m, centre[1]]], [[centre[0], y1_m, centre[1]]]]
    )
    faces = []
    for i in range(count):
        j = (i + 1) % count
        faces += [[i, count + i, j], [j, count + i, count + j]]
        faces += [[2 * count, i, j], [2 * count + 1, count + j, count + i]]
    return vertices, np.array(faces, dtype=np.int64)
