"""Mesh measurements: girths of shapes with known perimeters, then one real Anny body."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import trimesh
from numpy.typing import NDArray

from fitroom.body.mesh_measure import (
    MeshSlicer,
    convex_hull,
    convex_perimeter_m,
    girth_around_m,
    horizontal_section_loops,
    hull_contains,
    loop_around,
    measure_mesh,
)
from fitroom.errors import InputError
from tests.body.conftest import as_body_mesh, prism


def _y_up(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """trimesh builds along Z; turn the axis to Y."""
    mesh.apply_transform(trimesh.transformations.rotation_matrix(-math.pi / 2, [1, 0, 0]))
    return mesh


def test_cylinder_girth_is_two_pi_r() -> None:
    radius_m = 0.15
    mesh = _y_up(trimesh.creation.cylinder(radius=radius_m, height=1.0, sections=256))
    girth = girth_around_m(mesh.vertices, mesh.faces, 0.1, np.array([0.0, 0.0]))
    assert girth == pytest.approx(2 * math.pi * radius_m, rel=0.005)


def test_capsule_girth_below_the_cap_is_two_pi_r() -> None:
    radius_m = 0.1
    mesh = _y_up(trimesh.creation.capsule(height=0.6, radius=radius_m, count=[128, 128]))
    girth = girth_around_m(mesh.vertices, mesh.faces, 0.0, np.array([0.0, 0.0]))
    assert girth == pytest.approx(2 * math.pi * radius_m, rel=0.005)


def test_ellipse_girth_matches_ramanujan() -> None:
    a_m, b_m = 0.18, 0.11
    angles = np.linspace(0, 2 * math.pi, 720, endpoint=False)
    vertices, faces = prism(np.column_stack([a_m * np.cos(angles), b_m * np.sin(angles)]), 0, 1)
    h = (a_m - b_m) ** 2 / (a_m + b_m) ** 2
    ramanujan = math.pi * (a_m + b_m) * (1 + 3 * h / (10 + math.sqrt(4 - 3 * h)))
    assert girth_around_m(vertices, faces, 0.5, np.zeros(2)) == pytest.approx(ramanujan, rel=0.001)


def test_concave_star_reads_its_convex_hull_not_its_outline() -> None:
    # Five-pointed star (ten outline points): tips at 0.2 m, notches at 0.05 m. A tape
    # spans the tips, so it reads the regular pentagon through the five tips.
    angles = np.arange(10) * math.pi / 5
    radii = np.where(np.arange(10) % 2 == 0, 0.2, 0.05)
    outline = np.column_stack([radii * np.cos(angles), radii * np.sin(angles)])
    vertices, faces = prism(outline, 0.0, 1.0)
    pentagon = 5 * 2 * 0.2 * math.sin(math.pi / 5)
    wiggly = float(np.linalg.norm(outline - np.roll(outline, 1, axis=0), axis=1).sum())
    girth = girth_around_m(vertices, faces, 0.5, np.zeros(2))
    assert girth == pytest.approx(pentagon, rel=1e-6)
    assert girth < wiggly - 0.2


def test_two_boxes_are_two_loops_and_the_query_picks_one() -> None:
    left = trimesh.creation.box(extents=[0.1, 1.0, 0.2])
    left.apply_translation([-0.3, 0.5, 0.0])
    right = trimesh.creation.box(extents=[0.2, 1.0, 0.2])
    right.apply_translation([0.3, 0.5, 0.0])
    both = trimesh.util.concatenate([left, right])
    loops = horizontal_section_loops(both.vertices, both.faces, 0.5)
    assert len(loops) == 2
    assert girth_around_m(both.vertices, both.faces, 0.5, np.array([-0.3, 0.0])) == (
        pytest.approx(0.6)
    )
    assert girth_around_m(both.vertices, both.faces, 0.5, np.array([0.3, 0.0])) == (
        pytest.approx(0.8)
    )
    assert girth_around_m(both.vertices, both.faces, 0.5, np.array([0.0, 0.0])) == 0.0


def test_square_perimeter_and_degenerate_inputs() -> None:
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], dtype=np.float64)
    assert convex_perimeter_m(square) == pytest.approx(4.0)
    assert convex_perimeter_m(np.zeros((1, 2))) == 0.0


def _loop_set(loops: list[NDArray[np.float64]]) -> set[tuple[tuple[float, float], ...]]:
    return {tuple(sorted(map(tuple, loop.tolist()))) for loop in loops}


def _reference_loops(
    vertices: NDArray[np.float64], faces: NDArray[np.int64], height: float
) -> list[NDArray[np.float64]]:
    """One level cut the plain way (a loop over the crossing faces, union-find over the
    edges they cross), to check the vectorised ``MeshSlicer`` against."""
    above = vertices[:, 1] > height
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def find(edge: tuple[int, int]) -> tuple[int, int]:
        while parent[edge] != edge:
            edge = parent[edge]
        return edge

    for face in faces.tolist():
        crossing = [
            (min(a, b), max(a, b))
            for a, b in zip(face, face[1:] + face[:1], strict=True)
            if above[a] != above[b]
        ]
        for edge in crossing:
            parent.setdefault(edge, edge)
        if crossing:
            parent[find(crossing[0])] = find(crossing[1])
    groups: dict[tuple[int, int], list[NDArray[np.float64]]] = {}
    for lo, hi in parent:
        t = (height - vertices[lo, 1]) / (vertices[hi, 1] - vertices[lo, 1])
        point = vertices[lo, [0, 2]] + t * (vertices[hi, [0, 2]] - vertices[lo, [0, 2]])
        groups.setdefault(find((lo, hi)), []).append(point)
    return [np.array(points) for points in groups.values()]


def test_slicer_cuts_many_levels_like_the_plain_cut() -> None:
    # A torus (one loop, or two where the plane crosses the hole's rim) and a box beside
    # it; levels unsorted, repeated, on a vertex row and off the mesh.
    ring = trimesh.creation.torus(major_radius=0.3, minor_radius=0.1)
    box = trimesh.creation.box(extents=[0.2, 0.5, 0.2])
    box.apply_translation([0.8, 0.0, 0.0])
    both = trimesh.util.concatenate([_y_up(ring), box])
    heights = [0.05, -0.4, 0.0, 0.3, 0.05, 0.09, -0.02, float(both.vertices[7, 1])]
    batched = MeshSlicer(both.vertices, both.faces).loops(heights)
    assert len(batched) == len(heights)
    for height, loops in zip(heights, batched, strict=True):
        reference = _reference_loops(both.vertices, both.faces, height)
        assert _loop_set(loops) == _loop_set(reference)
        single = horizontal_section_loops(both.vertices, both.faces, height)
        assert _loop_set(single) == _loop_set(reference)
    assert batched[1] == [] and batched[3] == []
    assert len(batched[0]) == 3  # outer and inner rim of the torus, and the box


def test_hull_of_degenerate_points() -> None:
    line = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5], [2.0, 2.0], [1.0, 1.0]])
    assert convex_hull(line).tolist() == [[0.0, 0.0], [2.0, 2.0]]
    assert convex_perimeter_m(line) == pytest.approx(4 * math.sqrt(2))
    assert not hull_contains(line, np.array([1.0, 1.0]))
    assert len(convex_hull(np.ones((4, 2)))) == 1


def test_hull_is_counter_clockwise_and_loop_around_picks_the_largest() -> None:
    angles = np.linspace(0, 2 * math.pi, 40, endpoint=False)
    circle = np.column_stack([np.cos(angles), np.sin(angles)])
    hull = convex_hull(np.vstack([circle, 0.5 * circle, circle[:3]]))
    assert len(hull) == 40
    area = 0.5 * np.sum(hull[:, 0] * np.roll(hull[:, 1], -1) - np.roll(hull[:, 0], -1) * hull[:, 1])
    assert area > 0
    assert hull_contains(circle, np.array([0.9, 0.0]))
    assert not hull_contains(circle, np.array([1.1, 0.0]))
    outer, inner, far = circle, 0.5 * circle, circle + 5.0
    chosen = loop_around([inner, far, outer], np.zeros(2))
    assert chosen is outer
    assert loop_around([far], np.zeros(2)) is None


def test_measure_mesh_refuses_the_neutral_pose() -> None:
    box = trimesh.creation.box(extents=[0.3, 1.7, 0.2])
    with pytest.raises(InputError, match="scan"):
        measure_mesh(as_body_mesh(box.vertices, box.faces, pose="neutral"))


@pytest.fixture(scope="session")
def anny_model() -> object:
    from fitroom.body.anny_model import default_cache_dir, load_anny

    return load_anny(Path(default_cache_dir()))


@pytest.mark.slow
def test_average_anny_bodies_measure_like_people(anny_model: object) -> None:
    from fitroom.body.anny_model import BodyParams, build_meshes

    male, female = build_meshes(
        [BodyParams.average("male"), BodyParams.average("female")], "scan", model=anny_model
    )
    for body in (male, female):
        result = measure_mesh(body)
        assert result.stature_cm == pytest.approx(100 * body.anny_stature_m, abs=2.0)
        assert 140 < result.stature_cm < 205
        assert 70 < result.chest_cm < 140
        assert 55 < result.waist_cm < 130
        assert 75 < result.hip_cm < 140
        assert 28 < result.neck_cm < 52
        assert 28 < result.shoulder_breadth_cm < 48
        assert 40 < result.arm_length_cm < 70
        assert 0.40 < result.inseam_cm / result.stature_cm < 0.52
        assert 40 < result.thigh_cm < 75
        assert 40 < result.mass_kg < 110
        levels = result.level_heights_m
        assert levels["crotch"] < levels["hip"] < levels["waist"] < levels["chest"]
        assert levels["chest"] < levels["armpit"] < levels["neck"]
    male_result, female_result = measure_mesh(male), measure_mesh(female)
    assert male_result.chest_cm > male_result.waist_cm + 10
    assert female_result.hip_cm > female_result.waist_cm + 15
    assert male_result.stature_cm > female_result.stature_cm
