"""The avatar as glTF binary (``.glb``) for three.js and any other glTF viewer.

One mesh in metres, Y up, facing +Z, feet on the floor, in the A-pose the scan uses.
The scene's ``extras`` carry what a viewer needs to draw a fit heat map without
knowing Anny: the height (m) of every measurement level (chest, waist, hip, thigh,
neck...), the target and achieved measurements (cm), and the body model's licence.
"""

from __future__ import annotations

from typing import Any

from fitroom.avatar.fit import AvatarFit, fit_summary

ANNY_LICENCE = "Anny body model (NAVER Corp.), Apache-2.0"


def avatar_glb(fit: AvatarFit, extra: dict[str, Any] | None = None) -> bytes:
    """Binary glTF 2.0 of a fitted avatar, with measurement levels in scene extras."""
    import trimesh

    mesh = trimesh.Trimesh(vertices=fit.mesh.vertices_m, faces=fit.mesh.faces, process=False)
    mesh.visual = trimesh.visual.ColorVisuals(
        mesh, face_colors=None, vertex_colors=[205, 180, 160, 255]
    )
    scene = trimesh.Scene()
    scene.add_geometry(mesh, node_name="avatar", geom_name="avatar")
    scene.metadata = {
        "generator": "fitroom",
        "units": "metres, Y up, facing +Z, feet at y = 0",
        "sex": fit.params.sex,
        "level_heights_m": {k: round(v, 4) for k, v in fit.measurements.level_heights_m.items()},
        "fit": fit_summary(fit),
        "licence": ANNY_LICENCE,
        **(extra or {}),
    }
    data: bytes = scene.export(file_type="glb", include_normals=True)  # type: ignore[no-untyped-call]
    return data
