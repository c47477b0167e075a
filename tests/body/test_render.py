"""Renderer: pinhole sizes, occlusion, silhouette mask, front vs side, on boxes."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import trimesh

from fitroom.body.render import (
    Scene,
    nearest_distance_m,
    render_background,
    render_view,
    retake_scene,
    sample_scene,
)
from tests.body.conftest import as_body_mesh

FOCAL_PX = 900.0
DISTANCE_M = 3.0
CAMERA_HEIGHT_M = 1.0
SCENE = Scene(
    focal_length_px=FOCAL_PX,
    distance_m=DISTANCE_M,
    camera_height_m=CAMERA_HEIGHT_M,
    background_rgb=(0, 255, 0),
    jpeg_quality=None,
)


def _box(width_m: float, height_m: float, depth_m: float) -> trimesh.Trimesh:
    """A box standing on y = 0, centred on x = z = 0."""
    box = trimesh.creation.box(extents=[width_m, height_m, depth_m])
    box.apply_translation([0.0, height_m / 2, 0.0])
    return box


def _row_width_px(mask: np.ndarray, row: int) -> int:
    return int(mask[row].sum())


def test_box_width_follows_the_pinhole_formula() -> None:
    width_m, depth_m = 0.4, 0.2
    box = _box(width_m, 2.0, depth_m)
    rendered = render_view(as_body_mesh(box.vertices, box.faces), "front", SCENE)
    # The widest outline is the front face, nearest the camera: w = f W / Z.
    expected_px = FOCAL_PX * width_m / (DISTANCE_M - depth_m / 2)
    assert _row_width_px(rendered.mask, SCENE.height_px // 2) == pytest.approx(expected_px, abs=2)
    assert rendered.image_rgb.shape == (SCENE.height_px, SCENE.width_px, 3)
    assert rendered.image_rgb.dtype == np.uint8


def test_camera_projects_the_box_corner_where_the_mask_ends() -> None:
    box = _box(0.4, 1.5, 0.2)
    rendered = render_view(as_body_mesh(box.vertices, box.faces), "front", SCENE)
    u, v = rendered.camera.project(np.array([[0.2, 1.5, 0.1]]))[0]
    rows = np.flatnonzero(rendered.mask.any(axis=1))
    cols = np.flatnonzero(rendered.mask.any(axis=0))
    assert rows.min() == pytest.approx(v, abs=1.5)
    assert cols.max() == pytest.approx(u, abs=1.5)
    assert rendered.camera.vertical_fov_deg == pytest.approx(
        math.degrees(2 * math.atan(512 / FOCAL_PX))
    )


def test_near_triangles_hide_far_ones_in_any_face_order() -> None:
    far = _box(0.8, 1.6, 0.2)
    near = _box(0.3, 0.6, 0.1)
    near.apply_transform(trimesh.transformations.rotation_matrix(math.radians(35), [0, 1, 0]))
    near.apply_translation([0.0, 0.7, 0.5])
    centre = SCENE.height_px // 2 + int(FOCAL_PX * (CAMERA_HEIGHT_M - 1.0) / 2.5)
    pixel = (centre, SCENE.width_px // 2)

    def colour_at(*meshes: trimesh.Trimesh) -> np.ndarray:
        merged = trimesh.util.concatenate(list(meshes))
        image = render_view(as_body_mesh(merged.vertices, merged.faces), "front", SCENE)
        return image.image_rgb[pixel]

    near_alone, far_alone = colour_at(near), colour_at(far)
    assert not np.array_equal(near_alone, far_alone)
    assert np.array_equal(colour_at(far, near), near_alone)
    assert np.array_equal(colour_at(near, far), near_alone)


def test_mask_is_where_the_image_differs_from_the_background() -> None:
    box = _box(0.5, 1.8, 0.3)
    rendered = render_view(as_body_mesh(box.vertices, box.faces), "front", SCENE)
    background = render_background(SCENE)
    differs = np.any(rendered.image_rgb != background, axis=2)
    assert rendered.mask.sum() > 10_000
    assert np.array_equal(differs, rendered.mask)


def test_side_view_of_an_elongated_box_is_narrower_by_the_expected_ratio() -> None:
    width_m, depth_m = 0.6, 0.2
    mesh = _box(width_m, 2.0, depth_m)
    box = as_body_mesh(mesh.vertices, mesh.faces)
    row = SCENE.height_px // 2
    front = _row_width_px(render_view(box, "front", SCENE).mask, row)
    side = _row_width_px(render_view(box, "side", SCENE).mask, row)
    expected_front = FOCAL_PX * width_m / (DISTANCE_M - depth_m / 2)
    expected_side = FOCAL_PX * depth_m / (DISTANCE_M - width_m / 2)
    assert front == pytest.approx(expected_front, abs=2)
    assert side == pytest.approx(expected_side, abs=2)
    assert side / front == pytest.approx(expected_side / expected_front, rel=0.03)


def test_sampled_scenes_frame_a_tall_adult() -> None:
    rng = np.random.default_rng(7)
    box = _box(0.5, 2.0, 0.3)
    for _ in range(6):
        scene = sample_scene(rng)
        rendered = render_view(as_body_mesh(box.vertices, box.faces), "front", scene)
        rows = np.flatnonzero(rendered.mask.any(axis=1))
        assert rows.min() > 0
        assert rows.max() < scene.height_px - 1


def test_nearest_distance_frames_the_tallest_person_with_the_margin() -> None:
    scene = Scene(focal_length_px=887.0, height_px=1024, camera_height_m=1.0)
    distance_m = nearest_distance_m(scene, 1.0)
    # Camera at 1 m: the head of a 2.05 m person is 1.05 m above the optical axis, and
    # lands 8 % of the half-height inside the top edge.
    head_px = 887.0 * 1.05 / distance_m
    assert head_px == pytest.approx(0.92 * 512, rel=1e-9)


def test_retaken_scenes_move_the_phone_only_and_keep_the_person_in_frame() -> None:
    rng = np.random.default_rng(3)
    box = _box(0.5, 2.0, 0.3)
    first = sample_scene(rng)
    nearest = replace(first, distance_m=nearest_distance_m(first, first.camera_height_m))
    for base in (first, nearest):
        for _ in range(4):
            again = retake_scene(base, rng)
            # Within 0.25 m, or pushed back to the nearest distance that frames the person.
            closest = nearest_distance_m(again, again.camera_height_m)
            moved = abs(again.distance_m - base.distance_m)
            assert moved <= 0.25 or again.distance_m == pytest.approx(closest)
            assert abs(again.camera_height_m - base.camera_height_m) <= 0.1
            assert again.distance_m >= closest
            same = replace(again, distance_m=base.distance_m, camera_height_m=base.camera_height_m)
            assert same == base  # room, clothes, light and lens unchanged
            rendered = render_view(as_body_mesh(box.vertices, box.faces), "front", again)
            rows = np.flatnonzero(rendered.mask.any(axis=1))
            assert rows.min() > 0 and rows.max() < again.height_px - 1
