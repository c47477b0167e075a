"""Loose tops for synthetic scans: the shell's geometry has known answers on simple bodies."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from fitroom.body.clothing import (
    LooseTop,
    arm_abduction_deg,
    loose_top_prop,
    polar_radius,
    sample_loose_top,
    sleeve_props,
)
from fitroom.body.render import Scene, render_view
from fitroom.errors import InputError
from tests.body.conftest import as_body_mesh, prism

SEGMENTS = 96


def circle(radius_m: float, count: int = SEGMENTS) -> np.ndarray:
    angles = np.linspace(0.0, 2 * math.pi, count, endpoint=False)
    return np.column_stack([radius_m * np.cos(angles), radius_m * np.sin(angles)])


def torso_body(bust_radius_m: float | None = None, arms_deg: float = 5.0):  # type: ignore[no-untyped-def]
    """A 15 cm-radius column from 0.9 to 1.5 m (hips at 1.0, shoulders at 1.45), with
    optionally a wider band (the bust) from 1.25 to 1.33 m; the vertices sit in rings
    every centimetre so every level has its own section. The elbows are 28 cm from the
    shoulders, the upper arms ``arms_deg`` out from straight down (only keypoints: the
    shell reads the arms' angle, not their vertices)."""
    rings = []
    for y in np.arange(0.90, 1.505, 0.01):
        radius = bust_radius_m if bust_radius_m and 1.25 <= y <= 1.33 else 0.15
        outline = circle(radius)
        rings.append(np.column_stack([outline[:, 0], np.full(len(outline), y), outline[:, 1]]))
    vertices = np.vstack(rings)
    mesh = as_body_mesh(vertices, np.zeros((0, 3), dtype=np.int64))  # the shell reads vertices
    keys = {
        "upperleg01.L": np.array([0.08, 1.0, 0.0]),
        "upperleg01.R": np.array([-0.08, 1.0, 0.0]),
        "upperarm01.L": np.array([0.18, 1.45, 0.0]),
        "upperarm01.R": np.array([-0.18, 1.45, 0.0]),
    }
    out, down = 0.28 * math.sin(math.radians(arms_deg)), 0.28 * math.cos(math.radians(arms_deg))
    keys["lowerarm01.L"] = keys["upperarm01.L"] + np.array([out, -down, 0.0])
    keys["lowerarm01.R"] = keys["upperarm01.R"] + np.array([-out, -down, 0.0])
    return replace(mesh, keypoints_m=keys)


def ring_radii(prop, y_m: float) -> np.ndarray:  # type: ignore[no-untyped-def]
    at_level = prop.vertices_m[np.abs(prop.vertices_m[:, 1] - y_m) < 0.011]
    assert len(at_level) >= 48
    return np.linalg.norm(at_level[:, [0, 2]], axis=1)


def test_polar_radius_of_a_square() -> None:
    square = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    angles = np.array([0.0, math.pi / 4, math.pi / 2, math.pi])
    assert polar_radius(square, np.zeros(2), angles) == pytest.approx([1, math.sqrt(2), 1, 1])
    off_centre = polar_radius(square, np.array([0.5, 0.0]), angles)
    assert off_centre == pytest.approx([0.5, math.sqrt(0.5), 1.0, 1.5])


def test_a_plain_shirt_stands_off_by_its_ease_below_the_chest() -> None:
    body = torso_body()
    torso = np.ones(len(body.vertices_m), dtype=bool)
    prop = loose_top_prop(body, LooseTop(0.03, 0.0, 0.0, 0.05), (200, 0, 0), torso)
    # Rings from the shoulders (1.45 m) down to the hem (0.95 m).
    assert prop.vertices_m[:, 1].max() == pytest.approx(1.45)
    assert prop.vertices_m[:, 1].min() == pytest.approx(0.95)
    assert ring_radii(prop, 1.2) == pytest.approx(0.18, abs=1e-3)
    # It lies on the shoulders: no ease at the top ring.
    assert ring_radii(prop, 1.45) == pytest.approx(0.15, abs=1e-3)


def test_the_shirt_falls_from_the_bust_in_front_and_behind_but_not_at_the_sides() -> None:
    body = torso_body(bust_radius_m=0.20)
    torso = np.ones(len(body.vertices_m), dtype=bool)
    prop = loose_top_prop(body, LooseTop(0.02, 0.0, 1.0, 0.05), (200, 0, 0), torso)
    waist = prop.vertices_m[np.abs(prop.vertices_m[:, 1] - 1.1) < 0.011]
    front = waist[np.argmax(waist[:, 2])]
    side = waist[np.argmin(np.abs(waist[:, 2]) - waist[:, 0])]  # straight out to +x
    assert front[2] == pytest.approx(0.22, abs=2e-3)  # the bust's 20 cm + 2 cm ease
    assert side[0] == pytest.approx(0.17, abs=2e-3)  # the body's 15 cm + 2 cm ease


@pytest.mark.parametrize(("arms_deg", "side_m"), [(5.0, 0.17), (30.0, 0.195), (70.0, 0.22)])
def test_with_arms_out_the_sides_fall_from_the_bust_too(arms_deg: float, side_m: float) -> None:
    body = torso_body(bust_radius_m=0.20, arms_deg=arms_deg)
    assert arm_abduction_deg(body) == pytest.approx(arms_deg)
    torso = np.ones(len(body.vertices_m), dtype=bool)
    top = LooseTop(0.02, 0.0, 1.0, 0.05, side_drape=1.0)
    prop = loose_top_prop(body, top, (200, 0, 0), torso)
    waist = prop.vertices_m[np.abs(prop.vertices_m[:, 1] - 1.1) < 0.011]
    side = waist[np.argmin(np.abs(waist[:, 2]) - waist[:, 0])]
    # Arms down (under 15 degrees) hold the sides in: the body's 15 cm + 2 cm ease; from
    # 45 degrees they hang from the bust's 20 cm; halfway between at 30 degrees.
    assert side[0] == pytest.approx(side_m, abs=2e-3)
    assert max(waist[:, 2]) == pytest.approx(0.22, abs=2e-3)  # the front as before


def arm_tube(arms_deg: float, radius_m: float = 0.04):  # type: ignore[no-untyped-def]
    """A left upper arm alone: a 30 cm tube of ``radius_m`` from the shoulder joint at
    (0.18, 1.45, 0) to the elbow, ``arms_deg`` out from straight down, in rings every
    centimetre; every vertex is arm."""
    angle = math.radians(arms_deg)
    axis = np.array([math.sin(angle), -math.cos(angle), 0.0])
    cross_a = np.array([math.cos(angle), math.sin(angle), 0.0])
    cross_b = np.array([0.0, 0.0, 1.0])
    shoulder = np.array([0.18, 1.45, 0.0])
    turns = np.linspace(0.0, 2 * math.pi, 32, endpoint=False)
    rings = [
        shoulder
        + t * axis
        + radius_m * (np.cos(turns)[:, None] * cross_a + np.sin(turns)[:, None] * cross_b)
        for t in np.arange(0.0, 0.305, 0.01)
    ]
    vertices = np.vstack(rings)
    mesh = as_body_mesh(vertices, np.zeros((0, 3), dtype=np.int64))
    keys = {
        "upperarm01.L": shoulder,
        "lowerarm01.L": shoulder + 0.30 * axis,
        # The right arm mirrored (its mask below is empty of vertices but the same size).
        "upperarm01.R": shoulder * np.array([-1.0, 1.0, 1.0]),
        "lowerarm01.R": (shoulder + 0.30 * axis) * np.array([-1.0, 1.0, 1.0]),
    }
    return replace(mesh, keypoints_m=keys), axis, shoulder


def test_a_sleeve_covers_its_share_of_the_arm_and_hangs_below_a_raised_one() -> None:
    mesh, axis, shoulder = arm_tube(90.0)
    arms = {"L": np.ones(len(mesh.vertices_m), dtype=bool)}
    arms["R"] = arms["L"]  # the right tube is the same vertices: only the left is checked
    top = LooseTop(0.02, 0.0, 0.5, 0.05, sleeve_fraction=0.5)
    left, _right = sleeve_props(mesh, top, (0, 200, 0), arms)
    along = (left.vertices_m - shoulder) @ axis
    assert along.min() == pytest.approx(0.0, abs=1e-9)
    assert along.max() == pytest.approx(0.15, abs=1e-9)  # half of the 30 cm upper arm
    off = left.vertices_m - shoulder - along[:, None] * axis
    # Horizontal arm: 4 cm arm + 0.3 x 2 cm on top, the whole 2 cm more below.
    assert off[:, 1].max() == pytest.approx(0.046, abs=1e-3)
    assert off[:, 1].min() == pytest.approx(-0.066, abs=1e-3)
    triangles = left.vertices_m[left.faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    centres = triangles.mean(axis=1) - shoulder
    outward = centres - (centres @ axis)[:, None] * axis
    assert (np.einsum("ij,ij->i", normals, outward) > 0).all()
    assert sleeve_props(mesh, LooseTop(0.02, 0.0, 0.5, 0.05), (0, 0, 0), arms) == ()


def test_a_hanging_arms_sleeve_is_loose_all_round() -> None:
    mesh, axis, shoulder = arm_tube(0.0)
    arms = {side: np.ones(len(mesh.vertices_m), dtype=bool) for side in ("L", "R")}
    top = LooseTop(0.02, 0.0, 0.5, 0.05, sleeve_fraction=0.9)
    left, _ = sleeve_props(mesh, top, (0, 200, 0), arms)
    along = (left.vertices_m - shoulder) @ axis
    radii = np.linalg.norm(left.vertices_m - shoulder - along[:, None] * axis, axis=1)
    assert radii == pytest.approx(0.04 + 0.006 + 0.01, abs=1e-3)


def test_flare_grows_towards_the_hem_and_faces_point_outward() -> None:
    body = torso_body()
    torso = np.ones(len(body.vertices_m), dtype=bool)
    prop = loose_top_prop(body, LooseTop(0.0, 0.04, 0.0, 0.05), (0, 0, 200), torso)
    radii = [float(ring_radii(prop, y).mean()) for y in (1.3, 1.1, 0.95)]
    assert radii[0] < radii[1] < radii[2] == pytest.approx(0.19, abs=1e-3)
    triangles = prop.vertices_m[prop.faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    outward = triangles.mean(axis=1)
    outward[:, 1] = 0.0
    assert (np.einsum("ij,ij->i", normals, outward) > 0).all()


def test_a_loose_top_widens_the_rendered_silhouette() -> None:
    body = torso_body()
    torso = np.ones(len(body.vertices_m), dtype=bool)
    column_v, column_f = prism(circle(0.15), 0.9, 1.5)
    column = replace(body, vertices_m=column_v, faces=column_f)
    scene = Scene(distance_m=2.0, camera_height_m=1.2, focal_length_px=800.0)
    prop = loose_top_prop(body, LooseTop(0.04, 0.0, 0.0, 0.05), (200, 0, 0), torso)
    plain = render_view(column, "front", scene).mask
    dressed = render_view(column, "front", scene, (prop,)).mask
    row = scene.height_px // 2 + round(800.0 * (1.2 - 1.15) / 2.0)  # y = 1.15 m
    widths = plain[row].sum(), dressed[row].sum()
    # 8 cm more across, seen from about 2 m: 800 px x 0.08 / 2 = 32 px (perspective adds a few).
    assert 28 <= widths[1] - widths[0] <= 40


def test_sampled_tops_are_valid_and_bad_ones_are_refused() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        top = sample_loose_top(rng)
        assert 0.01 <= top.ease_m <= 0.05 and 0.2 <= top.drape <= 0.9
        assert top.side_drape == 0.0
    # Hanging sides take one more draw, after the same four: the rest of a top is as before.
    before, after = np.random.default_rng(3), np.random.default_rng(3)
    hanging = sample_loose_top(after, hanging_sides=True)
    assert replace(hanging, side_drape=0.0) == sample_loose_top(before)
    assert 0.4 <= hanging.side_drape <= 1.0
    sleeved = sample_loose_top(np.random.default_rng(3), hanging_sides=True, sleeves=True)
    assert replace(sleeved, sleeve_fraction=0.0) == hanging
    assert 0.3 <= sleeved.sleeve_fraction <= 0.9
    with pytest.raises(InputError, match="sleeve_fraction"):
        LooseTop(0.02, 0.0, 0.5, 0.0, sleeve_fraction=-0.1)
    with pytest.raises(InputError, match="side_drape"):
        LooseTop(0.02, 0.0, 0.5, 0.0, side_drape=1.2)
    with pytest.raises(InputError, match="drape"):
        LooseTop(0.02, 0.0, 1.5, 0.0)
    with pytest.raises(InputError, match="ease"):
        LooseTop(0.3, 0.0, 0.5, 0.0)
    body = torso_body()
    with pytest.raises(InputError, match="torso mask"):
        loose_top_prop(body, sample_loose_top(rng), (0, 0, 0), np.ones(3, dtype=bool))


@pytest.mark.slow
def test_anny_torso_mask_leaves_out_arms_and_legs() -> None:
    from fitroom.body.anny_model import BodyParams, build_meshes
    from fitroom.body.clothing import torso_vertex_mask, upper_arm_vertex_mask

    (body,) = build_meshes([BodyParams.average("female")], "scan", arm_abduction_deg=60.0)
    torso = torso_vertex_mask()
    keys = body.keypoints_m
    points = body.vertices_m[torso]
    # No torso vertex out along the arms (past the shoulder joints) or down the legs.
    assert np.abs(points[:, 0]).max() < abs(keys["upperarm01.L"][0]) + 0.03
    assert points[:, 1].min() > keys["lowerleg01.L"][1]
    assert 3000 < torso.sum() < 9000
    # Each upper arm's vertices lie around the line from its shoulder joint to its elbow.
    for side, sign in (("L", 1.0), ("R", -1.0)):
        arm = upper_arm_vertex_mask(side)
        assert not (arm & torso).any()
        shoulder, elbow = keys[f"upperarm01.{side}"], keys[f"lowerarm01.{side}"]
        axis = (elbow - shoulder) / np.linalg.norm(elbow - shoulder)
        along = (body.vertices_m[arm] - shoulder) @ axis
        assert (sign * body.vertices_m[arm][:, 0]).min() > 0  # on its own side
        assert along.min() > -0.08 and along.max() < np.linalg.norm(elbow - shoulder) + 0.05
        assert 200 < arm.sum() < 3000


@pytest.mark.slow
def test_a_scan_in_a_loose_top_is_warned_about_and_the_same_body_in_tight_clothes_is_not() -> None:
    import cv2

    from fitroom.body.anny_model import BodyParams, build_meshes
    from fitroom.body.loose_top import WARNING, load_loose_top_detector
    from fitroom.body.scan import ScanPipeline

    if load_loose_top_detector("front_side") is None:
        pytest.skip("no loose-top detector ships")
    params = BodyParams.average("female")
    (front,) = build_meshes([params], "scan", arm_abduction_deg=45.0, stance_width_m=0.25)
    (side,) = build_meshes([params], "scan", arm_abduction_deg=6.0, stance_width_m=0.12)
    scene = Scene(top_rgb=(60, 90, 160))
    top = LooseTop(0.04, 0.03, 0.8, 0.06)

    def jpeg(mesh, view, dressed):  # type: ignore[no-untyped-def]
        props = (loose_top_prop(mesh, top, scene.top_rgb),) if dressed else ()
        rgb = render_view(mesh, view, scene, props).image_rgb
        return cv2.imencode(".jpg", rgb[:, :, ::-1])[1].tobytes()

    height_cm = 100 * (front.vertices_m[:, 1].max() - front.vertices_m[:, 1].min())
    pipeline = ScanPipeline()
    for dressed in (True, False):
        result = pipeline(
            jpeg(front, "front", dressed), jpeg(side, "side", dressed), height_cm, sex="female"
        )
        assert (WARNING in result.warnings) is dressed
