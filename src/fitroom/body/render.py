"""A plain numpy + OpenCV renderer of body meshes, for synthetic "phone photos".

Pinhole camera on the +Z side of the body looking along -Z with a level optical axis
(a phone held upright), principal point at the image centre. Hidden surfaces by the
painter's algorithm: back faces culled, the rest filled far to near. Lambert shading
from two directional lights plus ambient. Clothing is paint: "tight" clothes, a top on
the torso and upper arms and a bottom from the hips to above the ankles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from fitroom.body.anny_model import BodyMesh
from fitroom.errors import InputError

View = Literal["front", "side"]
Rgb = tuple[int, int, int]
Vec3 = tuple[float, float, float]

#: Skin tones from very light to very dark (sRGB), roughly Fitzpatrick I to VI.
SKIN_TONES_RGB: tuple[Rgb, ...] = (
    (255, 224, 196),
    (241, 194, 167),
    (224, 172, 138),
    (198, 134, 98),
    (160, 102, 70),
    (115, 72, 48),
    (80, 51, 36),
)


@dataclass(frozen=True)
class Scene:
    """Everything about a photo except the body. Colours are sRGB 0-255.

    ``light_directions`` point from the body towards each light, in the camera's world
    frame (Y up, +Z towards the camera). ``background`` is "plain" (``background_rgb``),
    "gradient" (top ``background_rgb`` to bottom ``background_rgb2``) or "noise"
    (low-frequency noise around both colours, from ``background_seed``).
    ``jpeg_quality`` None skips JPEG; ``downscale`` > 1 shrinks the image by that factor
    and scales it back (detail loss at fixed size, so the camera stays valid).
    ``side_faces_right``: in the side view the body looks towards the image's right.
    """

    skin_rgb: Rgb = (224, 172, 138)
    top_rgb: Rgb = (40, 60, 120)
    bottom_rgb: Rgb = (30, 30, 35)
    background: Literal["plain", "gradient", "noise"] = "plain"
    background_rgb: Rgb = (235, 235, 230)
    background_rgb2: Rgb = (200, 200, 195)
    background_seed: int = 0
    light_directions: tuple[Vec3, Vec3] = ((0.4, 0.5, 1.0), (-0.6, 0.2, 0.6))
    light_intensities: tuple[float, float] = (0.65, 0.3)
    ambient: float = 0.3
    distance_m: float = 2.8
    camera_height_m: float = 1.1
    focal_length_px: float = 887.0
    width_px: int = 768
    height_px: int = 1024
    jpeg_quality: int | None = None
    downscale: float = 1.0
    side_faces_right: bool = True


@dataclass(frozen=True)
class Camera:
    """Pinhole camera at (0, ``height_m``, ``distance_m``) looking along -Z. The body is
    turned by ``body_yaw_deg`` about the vertical (0 front view, +-90 side view) before
    projection; ``project`` takes points in the body's own frame."""

    focal_length_px: float
    width_px: int
    height_px: int
    distance_m: float
    height_m: float
    body_yaw_deg: float

    def to_camera_world(self, points_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Body-frame points turned by the view's yaw (still Y up, metres)."""
        yaw = math.radians(self.body_yaw_deg)
        cos, sin = math.cos(yaw), math.sin(yaw)
        points = np.atleast_2d(points_m)
        x = cos * points[:, 0] + sin * points[:, 2]
        z = -sin * points[:, 0] + cos * points[:, 2]
        return np.stack([x, points[:, 1], z], axis=1)

    def project(self, points_m: NDArray[np.float64]) -> NDArray[np.float64]:
        """Pixel (u, v) of body-frame points: u = f X / Z + w / 2, v = f Y / Z + h / 2."""
        world = self.to_camera_world(points_m)
        depth = self.distance_m - world[:, 2]
        u = self.focal_length_px * world[:, 0] / depth + 0.5 * self.width_px
        v = self.focal_length_px * (self.height_m - world[:, 1]) / depth + 0.5 * self.height_px
        return np.stack([u, v], axis=1)

    @property
    def vertical_fov_deg(self) -> float:
        return math.degrees(2 * math.atan(0.5 * self.height_px / self.focal_length_px))


@dataclass(frozen=True)
class Prop:
    """Extra geometry drawn with the body in one colour (hair, a ponytail...), in the
    body's frame (metres, Y up); part of the silhouette like the body itself."""

    vertices_m: NDArray[np.float64]
    faces: NDArray[np.int64]
    rgb: Rgb


@dataclass(frozen=True)
class RenderedView:
    """An image (H x W x 3 uint8 RGB), the body's true silhouette and the camera."""

    image_rgb: NDArray[np.uint8]
    mask: NDArray[np.bool_]
    camera: Camera
    view: View


#: Every scene frames people up to this tall (m), keeping this share of the half-height
#: of the image as margin (``nearest_distance_m``).
FRAMED_HEIGHT_M = 2.05
FRAME_MARGIN = 0.92


def nearest_distance_m(scene: Scene, camera_height_m: float) -> float:
    """The nearest camera distance (m) at which ``scene``'s lens, from a camera
    ``camera_height_m`` high, keeps the floor to 2.05 m in frame with an 8 % margin."""
    reach = FRAME_MARGIN * 0.5 * scene.height_px / scene.focal_length_px
    return max(camera_height_m, FRAMED_HEIGHT_M - camera_height_m) / reach


def retake_scene(
    scene: Scene,
    rng: np.random.Generator,
    distance_m: float = 0.25,
    camera_height_m: float = 0.1,
) -> Scene:
    """The same set-up photographed again a few minutes later: the same room, clothes,
    light and lens, the phone up to ``distance_m`` nearer or further and up to
    ``camera_height_m`` higher or lower (never so near that a 2.05 m person leaves the
    frame)."""
    height = scene.camera_height_m + float(rng.uniform(-camera_height_m, camera_height_m))
    distance = scene.distance_m + float(rng.uniform(-distance_m, distance_m))
    return replace(
        scene,
        camera_height_m=height,
        distance_m=max(nearest_distance_m(scene, height), distance),
    )


def sample_scene(rng: np.random.Generator) -> Scene:
    """A varied, plausible phone photo set-up that frames any adult up to 2.05 m.

    Vertical field of view 50-65 degrees, camera 0.9-1.4 m high, the distance drawn from
    the nearest one that keeps 0-2.05 m in frame (8 % margin) to 0.8 m further.
    """
    fov = math.radians(rng.uniform(50.0, 65.0))
    height_px, width_px = 1024, 768
    focal = 0.5 * height_px / math.tan(0.5 * fov)
    camera_height = float(rng.uniform(0.9, 1.4))
    # nearest_distance_m's bound, from the angle (the same draws as before it existed).
    reach = FRAME_MARGIN * math.tan(0.5 * fov)
    nearest = max(camera_height, FRAMED_HEIGHT_M - camera_height) / reach
    tone = rng.uniform(0, len(SKIN_TONES_RGB) - 1)
    low = SKIN_TONES_RGB[math.floor(tone)]
    high = SKIN_TONES_RGB[min(math.floor(tone) + 1, len(SKIN_TONES_RGB) - 1)]
    mix = tone - math.floor(tone)
    skin = _rgb(np.array(low) * (1 - mix) + np.array(high) * mix)
    key_side = 1.0 if rng.random() < 0.5 else -1.0
    key: Vec3 = (float(key_side * rng.uniform(0.1, 0.8)), float(rng.uniform(0.2, 0.8)), 1.0)
    fill: Vec3 = (float(-key_side * rng.uniform(0.3, 1.0)), float(rng.uniform(-0.1, 0.4)), 0.7)
    jpeg = int(rng.integers(55, 96)) if rng.random() < 0.8 else None
    background = ("plain", "gradient", "noise")[int(rng.integers(0, 3))]
    return Scene(
        skin_rgb=skin,
        top_rgb=_rgb(rng.uniform(15, 240, 3)),
        bottom_rgb=_rgb(rng.uniform(10, 180, 3)),
        background=background,  # type: ignore[arg-type]
        background_rgb=_rgb(rng.uniform(90, 250, 3)),
        background_rgb2=_rgb(rng.uniform(60, 250, 3)),
        background_seed=int(rng.integers(0, 2**31 - 1)),
        light_directions=(key, fill),
        light_intensities=(float(rng.uniform(0.5, 0.8)), float(rng.uniform(0.15, 0.35))),
        ambient=float(rng.uniform(0.2, 0.4)),
        distance_m=float(rng.uniform(nearest, nearest + 0.8)),
        camera_height_m=camera_height,
        focal_length_px=focal,
        width_px=width_px,
        height_px=height_px,
        jpeg_quality=jpeg,
        downscale=float(rng.choice([1.0, 1.0, 1.5, 2.0])),
        side_faces_right=bool(rng.random() < 0.5),
    )


def _rgb(values: NDArray[np.float64]) -> Rgb:
    clipped = np.clip(np.round(values), 0, 255).astype(int)
    return (int(clipped[0]), int(clipped[1]), int(clipped[2]))


def render_background(scene: Scene) -> NDArray[np.uint8]:
    """The empty photo: plain colour, vertical gradient or low-frequency noise."""
    import cv2

    height, width = scene.height_px, scene.width_px
    first = np.array(scene.background_rgb, dtype=np.float64)
    second = np.array(scene.background_rgb2, dtype=np.float64)
    if scene.background == "plain":
        image = np.broadcast_to(first, (height, width, 3)).astype(np.float64)
    elif scene.background == "gradient":
        t = np.linspace(0.0, 1.0, height)[:, None, None]
        image = np.broadcast_to(first * (1 - t) + second * t, (height, width, 3))
    elif scene.background == "noise":
        rng = np.random.default_rng(scene.background_seed)
        coarse = rng.uniform(0.0, 1.0, (6, 5, 1)).astype(np.float32)
        weight = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
        weight = np.clip(weight, 0.0, 1.0)[:, :, None].astype(np.float64)
        image = first * (1 - weight) + second * weight
    else:
        raise InputError(
            f"background is {scene.background!r}; use plain, gradient or noise",
            field="background",
        )
    return np.ascontiguousarray(np.clip(np.round(image), 0, 255).astype(np.uint8))


def _face_albedo(mesh: BodyMesh, scene: Scene) -> NDArray[np.float64]:
    """Per-face colour: skin, or clothing paint on Anny bodies (top: hips to neck and
    short sleeves; bottom: hips to 8 cm above the ankles, hands excluded)."""
    centres = mesh.vertices_m[mesh.faces].mean(axis=1)
    albedo = np.tile(np.array(scene.skin_rgb, dtype=np.float64), (len(centres), 1))
    keys = mesh.keypoints_m
    needed = ("upperleg01.L", "upperleg01.R", "neck01", "foot.L", "foot.R")
    if not all(name in keys for name in needed):
        return albedo
    hip_y = 0.5 * (keys["upperleg01.L"][1] + keys["upperleg01.R"][1])
    neck_y = keys["neck01"][1]
    ankle_y = max(keys["foot.L"][1], keys["foot.R"][1]) + 0.08
    top = (centres[:, 1] >= hip_y) & (centres[:, 1] <= neck_y)
    bottom = (centres[:, 1] < hip_y) & (centres[:, 1] > ankle_y)
    for side in ("L", "R"):
        shoulder, wrist = keys.get(f"upperarm01.{side}"), keys.get(f"wrist.{side}")
        if shoulder is None or wrist is None:
            continue
        # Arm faces: within 8 cm of the shoulder-to-fingertip segment (wrist + 40 %).
        arm = 1.4 * (wrist - shoulder)
        along = np.clip((centres - shoulder) @ arm / float(arm @ arm), 0.0, 1.0)
        distance = np.linalg.norm(centres - (shoulder + along[:, None] * arm), axis=1)
        on_arm = (distance < 0.08) & (along > 0.1)
        top &= ~(on_arm & (along > 0.2))  # short sleeves
        bottom &= ~on_arm
    albedo[top] = scene.top_rgb
    albedo[bottom] = scene.bottom_rgb
    return albedo


def render_view(
    mesh: BodyMesh, view: View, scene: Scene, props: tuple[Prop, ...] = ()
) -> RenderedView:
    """Render ``mesh`` (and ``props``) as a photo from the front (body facing the camera)
    or the side (body turned 90 degrees, in profile)."""
    import cv2

    albedo = _face_albedo(mesh, scene)
    if props:
        vertices, faces, colours_list = [mesh.vertices_m], [mesh.faces], [albedo]
        offset = len(mesh.vertices_m)
        for prop in props:
            vertices.append(prop.vertices_m)
            faces.append(prop.faces + offset)
            colours_list.append(np.tile(np.array(prop.rgb, np.float64), (len(prop.faces), 1)))
            offset += len(prop.vertices_m)
        mesh = replace(mesh, vertices_m=np.vstack(vertices), faces=np.vstack(faces))
        albedo = np.vstack(colours_list)

    if view not in ("front", "side"):
        raise InputError(f"view is {view!r}; use 'front' or 'side'", field="view")
    yaw = 0.0 if view == "front" else (90.0 if scene.side_faces_right else -90.0)
    camera = Camera(
        focal_length_px=scene.focal_length_px,
        width_px=scene.width_px,
        height_px=scene.height_px,
        distance_m=scene.distance_m,
        height_m=scene.camera_height_m,
        body_yaw_deg=yaw,
    )
    world = camera.to_camera_world(mesh.vertices_m)
    triangles = world[mesh.faces]
    normals = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    # Outward normals need counter-clockwise faces; flip if the mesh is wound the other way.
    if np.einsum("ij,ij->i", np.cross(triangles[:, 0], triangles[:, 1]), triangles[:, 2]).sum() < 0:
        normals = -normals
    lengths = np.linalg.norm(normals, axis=1)
    valid = lengths > 0
    normals[valid] /= lengths[valid, None]
    centres = triangles.mean(axis=1)
    to_camera = np.array([0.0, camera.height_m, camera.distance_m]) - centres
    front = valid & (np.einsum("ij,ij->i", normals, to_camera) > 0)
    shade = np.full(len(normals), scene.ambient)
    for direction, intensity in zip(scene.light_directions, scene.light_intensities, strict=True):
        light = np.asarray(direction, dtype=np.float64)
        light /= np.linalg.norm(light)
        shade += intensity * np.clip(normals @ light, 0.0, None)
    colours = np.clip(albedo * shade[:, None], 0, 255)

    pixels = camera.project(mesh.vertices_m)
    fixed = np.round(pixels * 16).astype(np.int32)  # 4 bits of sub-pixel precision
    depth = camera.distance_m - centres[:, 2]
    order = np.flatnonzero(front)[np.argsort(-depth[front], kind="stable")]
    image = render_background(scene)
    canvas = np.ascontiguousarray(image[:, :, ::-1])  # OpenCV draws BGR
    face_pixels = fixed[mesh.faces[order]]
    face_colours = colours[order][:, ::-1].round().astype(int).tolist()
    for polygon, colour in zip(face_pixels, face_colours, strict=True):
        cv2.fillConvexPoly(canvas, polygon, colour, lineType=cv2.LINE_8, shift=4)
    mask_image = np.zeros((scene.height_px, scene.width_px), dtype=np.uint8)
    cv2.fillPoly(mask_image, list(face_pixels), (255,), lineType=cv2.LINE_8, shift=4)

    if scene.downscale > 1.0:
        small = (
            max(1, round(scene.width_px / scene.downscale)),
            max(1, round(scene.height_px / scene.downscale)),
        )
        canvas = cv2.resize(canvas, small, interpolation=cv2.INTER_AREA)
        canvas = cv2.resize(
            canvas, (scene.width_px, scene.height_px), interpolation=cv2.INTER_LINEAR
        )
    if scene.jpeg_quality is not None:
        ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, scene.jpeg_quality])
        if not ok:
            raise InputError("JPEG encoding failed", field="jpeg_quality")
        canvas = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    image_rgb = np.ascontiguousarray(canvas[:, :, ::-1])
    return RenderedView(image_rgb=image_rgb, mask=mask_image > 0, camera=camera, view=view)
