"""The try-on domain's pure pieces, with known answers.

Synthetic garments (a T-shirt polygon drawn on a plain page) have landmarks we know
exactly; the VITON-HD sample in ``../shared/data/tryon`` gives the real check (its
garment mask, and its agnostic input against the true photo).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from fitroom.errors import (
    GarmentBackgroundBusy,
    NoGarmentFound,
    NoPersonFound,
    PersonFacingAway,
    UnsupportedCategory,
)
from fitroom.tryon.compose import box_paste, neck_opening, try_on
from fitroom.tryon.garment import Category, parse_category, prepare_garment, segment_garment
from fitroom.tryon.metrics import psnr, ssim
from fitroom.tryon.person import (
    BodyLayout,
    body_layout,
    fit_agnostic,
    fit_stroke_pose,
    grey_region,
    pose_region,
)
from fitroom.tryon.warp import ThinPlateSpline, warp_to
from fitroom.vision.pose import LANDMARK_COUNT, FaceBox, Landmark, PoseObservation
from tests.conftest import data_dir

SAMPLE = data_dir() / "tryon" / "viton_hd_00006_00"

#: A short-sleeved T-shirt on a 600 x 800 page: (x, y) outline, clockwise from the
#: image-left shoulder tip.
TSHIRT = np.array(
    [
        (180, 120), (260, 100), (300, 130), (340, 100), (420, 120),  # shoulders, collar
        (520, 260), (470, 300),  # right sleeve end
        (430, 240), (430, 650), (170, 650), (170, 240),  # body panel
        (130, 300), (80, 260),  # left sleeve end
    ],
    dtype=np.int32,
)  # fmt: skip


def tshirt_photo(colour: tuple[int, int, int] = (200, 30, 40)) -> NDArray[np.uint8]:
    page = np.full((800, 600, 3), 245, dtype=np.uint8)
    cv2.fillPoly(page, [TSHIRT], colour)
    return page


def read_rgb(path: object) -> NDArray[np.uint8]:
    return np.asarray(Image.open(str(path)).convert("RGB"), dtype=np.uint8)


def iou(a: NDArray[np.bool_], b: NDArray[np.bool_]) -> float:
    return float((a & b).sum() / (a | b).sum())


# --- categories -------------------------------------------------------------------


def test_category_upper_is_accepted_in_any_case() -> None:
    assert parse_category(" Upper ") is Category.UPPER


@pytest.mark.parametrize(
    ("value", "category"), [("lower", Category.LOWER), ("Dress", Category.DRESS)]
)
def test_lower_body_and_dresses_are_categories(value: str, category: Category) -> None:
    assert parse_category(value) is category


def test_unknown_category_names_the_choices() -> None:
    with pytest.raises(UnsupportedCategory, match="upper, lower, dress"):
        parse_category("hat")


# --- garment photo ----------------------------------------------------------------


def test_synthetic_tshirt_mask_matches_the_drawn_polygon() -> None:
    photo = tshirt_photo()
    truth = np.zeros(photo.shape[:2], dtype=np.uint8)
    cv2.fillPoly(truth, [TSHIRT], (1,))
    mask, background = segment_garment(photo)
    assert iou(mask, truth > 0) > 0.98
    assert background == (245, 245, 245)


def test_white_shirt_on_white_page_is_cut_out_along_its_outline() -> None:
    # Near-white on white: only the faint outline separates them.
    photo = tshirt_photo(colour=(236, 236, 236))
    cv2.polylines(photo, [TSHIRT], True, (200, 200, 200), 2)
    truth = np.zeros(photo.shape[:2], dtype=np.uint8)
    cv2.fillPoly(truth, [TSHIRT], (1,))
    mask, _ = segment_garment(photo)
    assert iou(mask, truth > 0) > 0.97


def test_synthetic_tshirt_landmarks_are_where_they_were_drawn() -> None:
    garment = prepare_garment(tshirt_photo(), "upper")
    lm = garment.landmarks
    # The crop starts 4 px before the garment's box (x 80, y 100).
    offset = np.array([80 - 4, 100 - 4])

    def page(point: tuple[float, float] | None) -> NDArray[np.float64]:
        assert point is not None
        return np.asarray(point) + offset

    assert np.allclose(page(lm.shoulder_left), (180, 120), atol=25)
    assert np.allclose(page(lm.shoulder_right), (420, 120), atol=25)
    assert np.allclose(page(lm.hem_left), (170, 650), atol=4)
    assert np.allclose(page(lm.hem_right), (430, 650), atol=4)
    assert np.allclose(page(lm.armpit_left), (170, 240), atol=15)
    assert np.allclose(page(lm.armpit_right), (430, 240), atol=15)
    assert np.allclose(page(lm.cuff_left), (105, 280), atol=25)
    assert np.allclose(page(lm.cuff_right), (495, 280), atol=25)
    # Sleeves are outside the body panel, one per side.
    assert garment.sleeve_left.any() and garment.sleeve_right.any()
    assert np.nonzero(garment.sleeve_left)[1].max() < 180 - 76 + 8
    assert np.nonzero(garment.sleeve_right)[1].min() > 420 - 76 - 8


def test_sleeveless_top_has_no_cuffs() -> None:
    page = np.full((800, 600, 3), 245, dtype=np.uint8)
    vest = np.array([(200, 100), (260, 100), (300, 160), (340, 100), (400, 100),
                     (420, 250), (420, 650), (180, 650), (180, 250)], dtype=np.int32)  # fmt: skip
    cv2.fillPoly(page, [vest], (20, 90, 160))
    garment = prepare_garment(page, Category.UPPER)
    assert garment.landmarks.cuff_left is None
    assert garment.landmarks.cuff_right is None


def test_busy_background_is_refused_with_advice() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (600, 500, 3), dtype=np.uint8)
    with pytest.raises(GarmentBackgroundBusy) as caught:
        prepare_garment(noise, "upper")
    assert caught.value.type_slug == "garment-background-busy"
    assert "plain" in caught.value.advice


def test_blank_page_has_no_garment() -> None:
    with pytest.raises(NoGarmentFound) as caught:
        prepare_garment(np.full((600, 500, 3), 240, dtype=np.uint8), "upper")
    assert caught.value.details["garment_share"] < 0.03


def test_neck_opening_sits_under_the_collar_between_the_shoulders() -> None:
    garment = prepare_garment(tshirt_photo(), "upper")
    opening = neck_opening(garment)
    ys, xs = np.nonzero(opening)
    lm = garment.landmarks
    assert lm.shoulder_left[0] < xs.min() and xs.max() < lm.shoulder_right[0]
    assert ys.max() < lm.armpit_left[1]


# --- thin-plate spline --------------------------------------------------------------


def test_tps_interpolates_its_control_points() -> None:
    rng = np.random.default_rng(1)
    src = rng.uniform(0, 500, (9, 2))
    dst = src + rng.normal(0, 20, (9, 2))
    tps = ThinPlateSpline.fit(src, dst, smoothing=0.0)
    assert np.allclose(tps.transform(src), dst, atol=1e-6)


def test_tps_of_an_affine_map_is_that_affine_map_everywhere() -> None:
    rng = np.random.default_rng(2)
    src = rng.uniform(0, 500, (7, 2))
    matrix = np.array([[1.2, 0.1], [-0.2, 0.9]])
    dst = src @ matrix.T + (30, -12)
    tps = ThinPlateSpline.fit(src, dst)
    probe = rng.uniform(0, 500, (50, 2))
    assert np.allclose(tps.transform(probe), probe @ matrix.T + (30, -12), atol=1e-3)


def test_warp_to_moves_a_square_by_the_control_points_shift() -> None:
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    image[40:60, 40:60] = 255
    corners = np.array([[0, 0], [100, 0], [0, 100], [100, 100]], dtype=np.float64)
    shifted = corners + np.array([5.0, 7.0])
    mask = image[..., 0] > 0
    _, alpha, box = warp_to(image, mask, corners, shifted, (120, 120), box=(0, 0, 120, 120))
    ys, xs = np.nonzero(alpha > 0.5)
    assert box == (0, 0, 120, 120)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (47, 66, 45, 64)


def test_a_warped_cut_out_takes_no_colour_from_the_photos_page() -> None:
    from fitroom.tryon.garment import garment_colours

    # A black garment on a white page, its cut-out's rim half white (antialiased), moved
    # by a sub-pixel shift: every pixel the alpha covers keeps the garment's black.
    image = np.full((100, 100, 3), 255, dtype=np.uint8)
    image[30:70, 30:70] = 10
    image[29, 30:70] = image[70, 30:70] = 130  # the rim
    mask = np.zeros((100, 100), dtype=bool)
    mask[29:71, 30:70] = True
    corners = np.array([[0, 0], [100, 0], [0, 100], [100, 100]], dtype=np.float64)

    def warped(colours: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], NDArray[np.bool_]]:
        rgb, alpha, _ = warp_to(colours, mask, corners, corners + 0.5, (100, 100), (0, 0, 100, 100))
        return rgb, alpha > 0.05

    rgb, covered = warped(garment_colours(image, mask))
    assert covered.sum() > 40 * 40
    assert int(rgb[covered].max()) <= 12
    rgb, covered = warped(image)  # the photo as it is: the page shows at the edges
    assert int(rgb[covered].max()) > 60
    # Inside the cut-out nothing changes.
    inner = np.zeros_like(mask)
    inner[31:69, 31:69] = True
    assert np.array_equal(garment_colours(image, mask)[inner], image[inner])


# --- metrics ------------------------------------------------------------------------


def test_metrics_known_answers() -> None:
    rng = np.random.default_rng(3)
    a = rng.integers(0, 246, (64, 64, 3), dtype=np.uint8)
    assert ssim(a, a) == pytest.approx(1.0)
    assert psnr(a, a + 10) == pytest.approx(10 * np.log10(255**2 / 100))
    region = np.zeros((64, 64), dtype=bool)
    region[:, :32] = True
    b = a.copy()
    b[:, 32:] = 0
    assert psnr(a, b, region) == float("inf")
    assert ssim(a, b, region) > ssim(a, b)


# --- person -------------------------------------------------------------------------


def observation(points: dict[Landmark, tuple[float, float]], faces: int = 1) -> PoseObservation:
    landmarks = np.zeros((LANDMARK_COUNT, 2))
    for landmark, point in points.items():
        landmarks[int(landmark)] = point
    return PoseObservation(
        landmarks_px=landmarks,
        visibility=np.ones(LANDMARK_COUNT),
        world_m=np.zeros((LANDMARK_COUNT, 3)),
        mask=np.zeros((400, 300), dtype=np.float32),
        faces=tuple(FaceBox((100, 20, 60, 60), 0.9) for _ in range(faces)),
    )


def test_facing_camera_maps_the_persons_right_to_the_image_left() -> None:
    layout = body_layout(
        observation({Landmark.right_shoulder: (100, 120), Landmark.left_shoulder: (200, 120)})
    )
    assert layout.shoulder_l[0] == 100 and layout.shoulder_r[0] == 200


@pytest.mark.parametrize("faces", [0, 1])
def test_back_view_is_refused(faces: int) -> None:
    back = observation(
        {Landmark.right_shoulder: (200, 120), Landmark.left_shoulder: (100, 120)}, faces=faces
    )
    with pytest.raises(PersonFacingAway) as caught:
        body_layout(back)
    assert caught.value.type_slug == "person-facing-away"


def test_hidden_shoulders_mean_no_person() -> None:
    seen = observation({Landmark.right_shoulder: (100, 120), Landmark.left_shoulder: (200, 120)})
    visibility = seen.visibility.copy()
    visibility[int(Landmark.left_shoulder)] = 0.1
    hidden = PoseObservation(seen.landmarks_px, visibility, seen.world_m, seen.mask, seen.faces)
    with pytest.raises(NoPersonFound):
        body_layout(hidden)


def test_grey_region_is_found_only_when_painted() -> None:
    photo = np.full((400, 300, 3), 220, dtype=np.uint8)
    assert grey_region(photo) is None
    photo[100:300, 80:220] = 128
    region = grey_region(photo)
    assert region is not None
    assert region[100:300, 80:220].all()
    assert region.sum() <= 200 * 140 + 2 * (200 + 140) * 3


# --- the grey strokes of an agnostic photo -------------------------------------------

#: OpenPose-numbered joints of a person at 768 x 1024 (neck, shoulders, elbows, wrists,
#: hips as drawn): the left arm hangs out from the body, the right one along it.
DRAWN = {
    1: (384.0, 300.0), 2: (270.0, 300.0), 3: (190.0, 520.0), 4: (170.0, 730.0),
    5: (500.0, 305.0), 6: (520.0, 540.0), 7: (545.0, 760.0), 9: (280.0, 640.0),
    12: (490.0, 645.0),
}  # fmt: skip


def viton_grey(
    joints: dict[int, tuple[float, float]],
    shape: tuple[int, int] = (1024, 768),
    trousers: bool = True,
) -> NDArray[np.bool_]:
    """VITON-HD's agnostic strokes as HR-VITON's ``get_agnostic`` draws them (PIL), hips
    widened to the shoulder distance first; with ``trousers`` the trousers of the
    ``DRAWN`` person (below y = 700, x 250-520) pasted back."""
    from PIL import ImageDraw

    pose = {i: np.array(p) for i, p in joints.items()}
    length_a = float(np.linalg.norm(pose[5] - pose[2]))
    length_b = float(np.linalg.norm(pose[12] - pose[9]))
    middle = (pose[9] + pose[12]) / 2
    pose[9] = middle + (pose[9] - middle) / length_b * length_a
    pose[12] = middle + (pose[12] - middle) / length_b * length_a
    r = int(length_a / 16) + 1
    canvas = Image.new("L", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(canvas)

    def xy(i: int) -> tuple[float, float]:
        return (float(pose[i][0]), float(pose[i][1]))

    draw.line([xy(2), xy(5)], 255, width=r * 10)
    for i in (2, 5):
        x, y = xy(i)
        draw.ellipse((x - r * 5, y - r * 5, x + r * 5, y + r * 5), 255, 255)
    for i in (3, 4, 6, 7):
        draw.line([xy(i - 1), xy(i)], 255, width=r * 10)
        x, y = xy(i)
        draw.ellipse((x - r * 5, y - r * 5, x + r * 5, y + r * 5), 255, 255)
    for i in (9, 12):
        x, y = xy(i)
        draw.ellipse((x - r * 3, y - r * 6, x + r * 3, y + r * 6), 255, 255)
    draw.line([xy(2), xy(9)], 255, width=r * 6)
    draw.line([xy(5), xy(12)], 255, width=r * 6)
    draw.line([xy(9), xy(12)], 255, width=r * 12)
    draw.polygon([xy(2), xy(5), xy(12), xy(9)], 255, 255)
    x, y = xy(1)
    draw.rectangle((x - r * 7, y - r * 7, x + r * 7, y + r * 7), 255, 255)
    grey = np.asarray(canvas) > 0
    if trousers:
        grey[700:, 250:520] = False
    return grey


def guessed_layout(
    joints: dict[int, tuple[float, float]], grey: NDArray[np.bool_], shift: tuple[float, float]
) -> BodyLayout:
    """A layout as MediaPipe might guess it under the grey: the true shoulders and hips,
    the elbows and wrists off by ``shift``; the person mask is the grey plus the legs."""
    person = grey.copy()
    person[700:, 250:520] = True
    off = np.array(shift)
    points = {
        Landmark.right_shoulder: joints[2], Landmark.left_shoulder: joints[5],
        Landmark.right_elbow: tuple(np.array(joints[3]) + off),
        Landmark.left_elbow: tuple(np.array(joints[6]) - off),
        Landmark.right_wrist: tuple(np.array(joints[4]) + off),
        Landmark.left_wrist: tuple(np.array(joints[7]) - off),
        Landmark.right_hip: joints[9], Landmark.left_hip: joints[12],
    }  # fmt: skip
    seen = observation(points)
    seen = PoseObservation(
        seen.landmarks_px, seen.visibility, seen.world_m, person.astype(np.float32), seen.faces
    )
    return body_layout(seen)


def off_the_arm(point: NDArray[np.float64], shoulder: int) -> float:
    """Distance (px) from ``point`` to the drawn arm from OpenPose joint ``shoulder``."""
    a, b, c = (np.array(DRAWN[shoulder + i]) for i in range(3))
    distances = []
    for start, end in ((a, b), (b, c)):
        along = float(
            np.clip((point - start) @ (end - start) / ((end - start) @ (end - start)), 0, 1)
        )
        distances.append(float(np.hypot(*(point - (start + along * (end - start))))))
    return min(distances)


def test_the_grey_strokes_give_back_the_arms_that_drew_them() -> None:
    grey = viton_grey(DRAWN)
    layout = guessed_layout(DRAWN, grey, (30.0, -25.0))
    pose = fit_stroke_pose(grey, layout)
    # The wrists end the strokes, so they are found; an elbow on a nearly straight arm
    # may slide along it (the sleeve lies the same), but not off it.
    assert np.hypot(*(pose[5] - DRAWN[4])) < 7.0
    assert np.hypot(*(pose[6] - DRAWN[7])) < 7.0
    assert off_the_arm(pose[3], 2) < 5.0
    assert off_the_arm(pose[4], 5) < 5.0
    # The guess was 39 px from the true joints, 20 px off the arm's line.
    assert off_the_arm(layout.elbow_l, 2) > 15.0
    dressed = fit_agnostic(layout, grey).layout
    assert off_the_arm(dressed.elbow_l, 2) < 5.0
    assert np.hypot(*(dressed.wrist_r - DRAWN[7])) < 7.0
    # The hands move with the wrists.
    assert np.allclose(dressed.hand_l - dressed.wrist_l, layout.hand_l - layout.wrist_l)


def test_a_joint_whose_grey_was_pasted_over_keeps_the_guess() -> None:
    grey = viton_grey(DRAWN)
    # The right forearm's sleeve was taken for trousers and pasted back over the grey.
    grey[600:, 440:] = False
    layout = guessed_layout(DRAWN, grey, (30.0, -25.0))
    dressed = fit_agnostic(layout, grey).layout
    assert np.array_equal(dressed.wrist_r, layout.wrist_r)
    assert np.hypot(*(dressed.wrist_l - DRAWN[4])) < 7.0


def test_the_real_photo_region_is_drawn_like_the_fitted_strokes() -> None:
    # ``pose_region`` draws the same strokes from a layout (plus its head/hip cuts).
    grey = viton_grey(DRAWN)
    layout = guessed_layout(DRAWN, grey, (0.0, 0.0))
    drawn = pose_region(layout, grey.shape)
    both = drawn[:700] & grey[:700]
    assert both.sum() / (drawn[:700] | grey[:700]).sum() > 0.95


# --- the real VITON-HD pair ---------------------------------------------------------


needs_sample = pytest.mark.skipif(
    not SAMPLE.is_dir(), reason=f"VITON-HD sample not found at {SAMPLE} (FITROOM_DATA_DIR)"
)


@needs_sample
def test_viton_garment_mask_matches_its_reference_mask() -> None:
    mask, _ = segment_garment(read_rgb(SAMPLE / "cloth.jpg"))
    reference = read_rgb(SAMPLE / "cloth-mask.jpg")[..., 0] > 127
    assert iou(mask, reference) > 0.99


@needs_sample
def test_viton_pair_beats_both_baselines_inside_the_region() -> None:
    from fitroom.vision.pose import pose_estimator

    truth = read_rgb(SAMPLE / "image.jpg")
    agnostic = read_rgb(SAMPLE / "agnostic-v3.2.jpg")
    garment = prepare_garment(read_rgb(SAMPLE / "cloth.jpg"), "upper")
    seen = pose_estimator().observe(agnostic)
    assert seen is not None
    layout = body_layout(seen)
    result = try_on(agnostic, garment, layout)
    assert result.agnostic_input
    assert result.image.shape == truth.shape
    region = result.region
    # Outside the grey region the input is returned untouched.
    assert np.array_equal(result.image[~region], agnostic[~region])
    boxed = box_paste(agnostic, garment, layout)
    ours = ssim(result.image, truth, region)
    assert ours > ssim(agnostic, truth, region) + 0.15
    assert ours > ssim(boxed, truth, region) + 0.1
    assert psnr(result.image, truth, region) > psnr(agnostic, truth, region) + 2.0
    assert ssim(result.image, truth) > 0.86


@needs_sample
def test_viton_grey_strokes_place_the_arms_nearer_the_real_ones() -> None:
    """On the real pair, the arms read from the grey's strokes lie nearer MediaPipe's
    joints on the true photo than MediaPipe's own guess on the grey photo does."""
    from fitroom.vision.pose import pose_estimator

    estimator = pose_estimator()
    agnostic = read_rgb(SAMPLE / "agnostic-v3.2.jpg")
    seen_grey = estimator.observe(agnostic)
    seen_true = estimator.observe(read_rgb(SAMPLE / "image.jpg"))
    assert seen_grey is not None and seen_true is not None
    guess, truth = body_layout(seen_grey), body_layout(seen_true)
    region = grey_region(agnostic)
    assert region is not None
    fitted = fit_agnostic(guess, region).layout
    names = ("elbow_l", "elbow_r", "wrist_l", "wrist_r")

    def error(layout: BodyLayout) -> float:
        return float(np.mean([np.hypot(*(getattr(layout, n) - getattr(truth, n))) for n in names]))

    assert error(fitted) < 0.7 * error(guess)


@needs_sample
def test_the_new_necklines_opening_shows_skin_not_background() -> None:
    from fitroom.tryon.compose import warp_garment
    from fitroom.tryon.person import skin_colour
    from fitroom.vision.pose import pose_estimator

    agnostic = read_rgb(SAMPLE / "agnostic-v3.2.jpg")
    truth = read_rgb(SAMPLE / "image.jpg")
    seen = pose_estimator().observe(agnostic)
    assert seen is not None
    layout = body_layout(seen)
    garment = prepare_garment(read_rgb(SAMPLE / "cloth.jpg"), "upper")
    region = grey_region(agnostic)
    assert region is not None
    result = try_on(agnostic, garment, layout)
    fit = fit_agnostic(layout, region)
    _, _, opening = warp_garment(garment, fit.layout, region.shape, region, fit.unit_px)
    opening &= result.region
    assert opening.sum() > 2000
    # Between the shoulders, below the chin.
    ys, xs = np.nonzero(opening)
    assert ys.min() >= layout.chin_y
    assert layout.shoulder_l[0] < xs.min() and xs.max() < layout.shoulder_r[0]
    tone = skin_colour(agnostic, layout)
    off_tone = np.abs(result.image[opening].astype(float) - tone).max(axis=1)
    # 0.90 here; 0.77 when only the pose's neck capsule was painted and the rest of
    # the opening was inpainted background.
    assert (off_tone < 40).mean() > 0.85
    # The true photo is skin there too (her neck and upper chest).
    shown = result.image[opening].astype(float).mean(axis=0)
    assert np.abs(truth[opening].astype(float).mean(axis=0) - shown).max() < 40


needs_people = pytest.mark.skipif(
    not (data_dir() / "tryon" / "person").is_dir(),
    reason="VITON-HD person photos not found (FITROOM_DATA_DIR)",
)


@needs_sample
def test_a_grey_photo_mediapipe_misses_is_asked_again_with_the_grey_painted() -> None:
    from fitroom.tryon.person import observe_person
    from fitroom.vision.pose import pose_estimator

    estimator = pose_estimator()
    agnostic = read_rgb(SAMPLE / "agnostic-v3.2.jpg")
    # At 0.75 of its size MediaPipe finds no one on the shared pair's grey photo.
    smaller = np.ascontiguousarray(
        cv2.resize(agnostic, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA)
    )
    assert estimator.observe(smaller) is None
    seen = observe_person(estimator, smaller)
    assert seen is not None
    layout = body_layout(seen)
    region = grey_region(smaller)
    assert region is not None
    # The shoulders it finds sit in the grey's upper part, the hips near its bottom.
    for point in (layout.shoulder_l, layout.shoulder_r):
        assert region[int(point[1]), int(point[0])]
    ys = np.nonzero(region.any(axis=1))[0]
    assert ys.min() < layout.shoulder_mid[1] < ys.min() + 0.3 * (ys.max() - ys.min())
    # A photo without grey, where nobody is found, stays without a person.
    assert observe_person(estimator, np.full((400, 300, 3), 230, np.uint8)) is None


def arm_error(layout: BodyLayout, truth: BodyLayout) -> float:
    """Mean distance (px) of the elbows and wrists from the true ones."""
    names = ("elbow_l", "elbow_r", "wrist_l", "wrist_r")
    return float(np.mean([np.hypot(*(getattr(layout, n) - getattr(truth, n))) for n in names]))


@needs_people
def test_grey_drawn_over_real_people_gives_back_their_arms() -> None:
    """Each shared person photo greyed the VITON-HD way around its own MediaPipe joints
    (head and lower body pasted back): the fitted elbows and wrists lie nearer those
    joints than MediaPipe's guess on the grey photo, on every photo."""
    from fitroom.vision.pose import pose_estimator

    estimator = pose_estimator()
    worse = []
    for path in sorted((data_dir() / "tryon" / "person").glob("*.jpg")):
        photo = read_rgb(path)
        seen = estimator.observe(photo)
        assert seen is not None
        truth = body_layout(seen)
        joints = {
            1: truth.shoulder_mid, 2: truth.shoulder_l, 3: truth.elbow_l, 4: truth.wrist_l,
            5: truth.shoulder_r, 6: truth.elbow_r, 7: truth.wrist_r, 9: truth.hip_l,
            12: truth.hip_r,
        }  # fmt: skip
        shape = (int(photo.shape[0]), int(photo.shape[1]))
        drawn = {i: (float(p[0]), float(p[1])) for i, p in joints.items()}
        grey = viton_grey(drawn, shape, trousers=False)
        rows = np.arange(shape[0])[:, None]
        below_hips = rows > max(truth.hip_l[1], truth.hip_r[1]) + 0.05 * truth.shoulder_width_px
        grey &= ~((seen.mask > 0.5) & ((rows < truth.chin_y) | below_hips))
        agnostic = photo.copy()
        agnostic[grey] = 128
        region = grey_region(agnostic)
        seen_grey = estimator.observe(agnostic)
        assert region is not None and seen_grey is not None
        guess = body_layout(seen_grey)
        fitted = fit_agnostic(guess, region).layout
        if arm_error(fitted, truth) >= arm_error(guess, truth):
            worse.append((path.name, arm_error(guess, truth), arm_error(fitted, truth)))
    assert not worse


PERSON = data_dir() / "tryon" / "person" / "00121_00.jpg"


@pytest.mark.skipif(not PERSON.is_file(), reason=f"person photo not found at {PERSON}")
def test_real_photo_keeps_hands_and_face_in_front() -> None:
    from fitroom.vision.pose import pose_estimator

    person = read_rgb(PERSON)
    seen = pose_estimator().observe(person)
    assert seen is not None
    layout = body_layout(seen)
    result = try_on(person, prepare_garment(tshirt_photo(), "upper"), layout)
    assert not result.agnostic_input
    assert result.front.sum() > 500  # both hands
    assert np.array_equal(result.image[result.front], person[result.front])
    # Above the chin line nothing changes (the head stays in front of any collar).
    chin_y = int(layout.chin_y)
    assert np.array_equal(result.image[:chin_y], person[:chin_y])
    # The torso is dressed: the middle of the chest takes the garment's red.
    chest = result.image[
        int(layout.shoulder_mid[1] + 0.5 * layout.shoulder_width_px), int(layout.shoulder_mid[0])
    ]
    assert chest[0] > 150 and chest[1] < 90 and chest[2] < 90


def test_demo_tshirt_has_its_cuffs_at_the_sleeve_ends() -> None:
    # The demo store's T-shirt has straight sleeves level with the shoulders: the
    # shoulder tips must be found above the body panel, not at the sleeve ends.
    import io
    import json
    from importlib.resources import files

    from fitroom.demo.images import render_product_image

    data = json.loads((files("fitroom.demo") / "data" / "products.json").read_text())
    products = data["products"] if isinstance(data, dict) else data
    tee = next(p for p in products if p["product_id"] == "nf-w-tee-001")
    photo = np.asarray(Image.open(io.BytesIO(render_product_image(tee))).convert("RGB"))
    lm = prepare_garment(photo, "upper").landmarks
    assert lm.cuff_left is not None and lm.cuff_right is not None
    panel = lm.hem_right[0] - lm.hem_left[0]
    # Cuffs outside the body panel and below the shoulders, far from the neck.
    assert lm.cuff_left[0] < lm.armpit_left[0] and lm.cuff_right[0] > lm.armpit_right[0]
    assert lm.cuff_left[1] > lm.shoulder_left[1] and lm.cuff_right[1] > lm.shoulder_right[1]
    for cuff in (lm.cuff_left, lm.cuff_right):
        assert np.hypot(cuff[0] - lm.neck[0], cuff[1] - lm.neck[1]) > 0.5 * panel
    # Shoulder tips above the panel's sides, not out at the sleeve ends.
    assert abs(lm.shoulder_left[0] - lm.armpit_left[0]) < 0.2 * panel
    assert abs(lm.shoulder_right[0] - lm.armpit_right[0]) < 0.2 * panel


def test_a_grey_wall_with_texture_is_not_an_agnostic_region() -> None:
    rng = np.random.default_rng(4)
    wall = np.clip(128 + rng.normal(0, 4, (400, 300, 3)), 0, 255).astype(np.uint8)
    assert grey_region(wall) is None


# --- trousers, skirts and dresses -----------------------------------------------------

TROUSERS = np.array(
    [(150, 100), (450, 100), (470, 700), (350, 700), (300, 330), (250, 700), (130, 700)],
    dtype=np.int32,
)  # a waistband 150-450 at y 100, crotch at (300, 330), two legs down to y 700


def test_trousers_landmarks_are_where_they_were_drawn() -> None:
    page = np.full((800, 600, 3), 245, dtype=np.uint8)
    cv2.fillPoly(page, [TROUSERS], (40, 60, 120))
    lm = prepare_garment(page, "lower").lower
    offset = np.array([130 - 4, 100 - 4])  # the crop's corner on the page

    def at(point: tuple[float, float] | None) -> NDArray[np.float64]:
        assert point is not None
        return np.asarray(point) + offset

    assert lm.has_legs
    assert np.allclose(at(lm.waist_left), (150, 100), atol=6)
    assert np.allclose(at(lm.waist_right), (450, 100), atol=6)
    # The cut-out closes the narrowest part of the wedge under the crotch (its outline
    # is thickened so white-on-white garments hold): the crotch reads ~30 px low.
    crotch = at(lm.crotch)
    assert abs(crotch[0] - 300) < 4 and 330 <= crotch[1] < 375
    assert np.allclose(at(lm.hem_left_outer), (131, 683), atol=6)
    assert np.allclose(at(lm.hem_right_outer), (469, 683), atol=6)
    assert at(lm.hem_left_inner)[0] < 300 < at(lm.hem_right_inner)[0]


def test_a_skirt_has_one_opening() -> None:
    page = np.full((800, 600, 3), 245, dtype=np.uint8)
    skirt = np.array([(200, 150), (400, 150), (480, 600), (120, 600)], dtype=np.int32)
    cv2.fillPoly(page, [skirt], (30, 30, 30))
    lm = prepare_garment(page, "lower").lower
    assert not lm.has_legs and lm.crotch is None and lm.hem_left_inner is None
    assert lm.hem_right_outer[0] - lm.hem_left_outer[0] == pytest.approx(480 - 120 - 8, abs=8)


def test_a_dress_skirt_is_not_taken_for_sleeves() -> None:
    page = np.full((900, 600, 3), 245, dtype=np.uint8)
    dress = np.array([(230, 80), (270, 80), (300, 120), (330, 80), (370, 80), (380, 300),
                      (500, 820), (100, 820), (220, 300)], dtype=np.int32)  # fmt: skip
    cv2.fillPoly(page, [dress], (60, 140, 80))
    garment = prepare_garment(page, "dress")
    assert garment.upper.cuff_left is None and garment.upper.cuff_right is None
    assert not garment.sleeve_left.any() and not garment.sleeve_right.any()


def _demo_photo(category: str) -> NDArray[np.uint8]:
    import io
    import json
    from importlib.resources import files

    from fitroom.demo.images import render_product_image

    data = json.loads((files("fitroom.demo") / "data" / "products.json").read_text())
    products = data["products"] if isinstance(data, dict) else data
    product = next(p for p in products if p["category"] == category)
    return np.asarray(Image.open(io.BytesIO(render_product_image(product))).convert("RGB"))


JEANS_PERSON = data_dir() / "tryon" / "person" / "00035_00.jpg"


@pytest.mark.skipif(not JEANS_PERSON.is_file(), reason=f"person photo not found at {JEANS_PERSON}")
@pytest.mark.parametrize("category", ["trousers", "dresses"])
def test_trousers_and_dresses_dress_the_legs_and_keep_the_face(category: str) -> None:
    from fitroom.vision.pose import pose_estimator

    person = read_rgb(JEANS_PERSON)
    seen = pose_estimator().observe(person)
    assert seen is not None
    layout = body_layout(seen)
    garment = prepare_garment(_demo_photo(category), "lower" if category == "trousers" else "dress")
    colour = np.median(garment.rgb[garment.mask], axis=0)
    result = try_on(person, garment, layout)
    chin_y = int(layout.chin_y)
    assert np.array_equal(result.image[:chin_y], person[:chin_y])
    # Mid-thigh, on the image-left leg: the new garment's colour, not the old jeans'.
    thigh = layout.hip_l + 0.35 * (layout.knee_l - layout.hip_l)
    x, y = int(thigh[0]), int(thigh[1])
    patch = result.image[y - 5 : y + 5, x - 5 : x + 5].reshape(-1, 3).astype(float)
    before = person[y - 5 : y + 5, x - 5 : x + 5].reshape(-1, 3).astype(float)
    assert np.linalg.norm(np.median(patch, axis=0) - colour) < 45
    assert np.linalg.norm(np.median(before, axis=0) - colour) > 60
    chest = (layout.shoulder_mid + 0.4 * (layout.hip_mid - layout.shoulder_mid)).astype(int)
    shirt = result.image[chest[1], chest[0]].astype(float)
    if category == "trousers":  # the top stays as it was
        assert np.array_equal(result.image[chest[1], chest[0]], person[chest[1], chest[0]])
    else:  # the dress covers the chest too
        assert np.linalg.norm(shirt - colour) < 60


LONG_SHIRT = data_dir() / "tryon" / "person" / "00034_00.jpg"


@pytest.mark.skipif(not LONG_SHIRT.is_file(), reason=f"person photo not found at {LONG_SHIRT}")
def test_the_old_top_does_not_peek_out_under_a_shorter_one() -> None:
    from fitroom.vision.pose import pose_estimator

    person = read_rgb(LONG_SHIRT)  # a pink shirt hanging below the hips, black trousers
    seen = pose_estimator().observe(person)
    assert seen is not None
    layout = body_layout(seen)
    result = try_on(person, prepare_garment(tshirt_photo((20, 120, 40)), "upper"), layout)
    x, y = (layout.hip_mid + np.array([0.0, 0.1 * layout.shoulder_width_px])).astype(int)
    chest = (layout.shoulder_mid + 0.45 * (layout.hip_mid - layout.shoulder_mid)).astype(int)
    shirt = person[chest[1], chest[0]].astype(float)
    before = person[y - 3 : y + 3, x - 3 : x + 3].reshape(-1, 3).mean(axis=0)
    after = result.image[y - 3 : y + 3, x - 3 : x + 3].reshape(-1, 3).mean(axis=0)
    assert np.linalg.norm(before - shirt) < 25  # the shirt's tail was there
    assert result.garment_alpha[y, x] == 0  # the new T-shirt is shorter
    assert np.linalg.norm(after - shirt) > 100  # and the tail is gone


@pytest.mark.skipif(not JEANS_PERSON.is_file(), reason=f"person photo not found at {JEANS_PERSON}")
def test_hair_is_found_on_a_head_of_hair_and_not_on_a_shaved_one() -> None:
    from fitroom.tryon.person import hair_mask
    from fitroom.vision.pose import pose_estimator

    for name, expect_hair in (("00035_00.jpg", True), ("00121_00.jpg", False)):
        person = read_rgb(data_dir() / "tryon" / "person" / name)
        seen = pose_estimator().observe(person)
        assert seen is not None
        layout = body_layout(seen)
        hair = hair_mask(person, layout)
        if expect_hair:  # a big afro: thousands of pixels, all above the shoulders
            assert hair.sum() > 5000
            assert (
                np.nonzero(hair)[0].max() < layout.shoulder_mid[1] + 0.7 * layout.shoulder_width_px
            )
        else:
            assert hair.sum() == 0


@pytest.mark.parametrize("category", ["tops", "trousers", "dresses"])
def test_the_demo_photos_drop_shadow_is_not_cut_out_with_the_garment(category: str) -> None:
    photo = _demo_photo(category)
    trimmed, _ = segment_garment(photo)
    untrimmed, _ = segment_garment(photo, drop_shadow=False)
    removed = untrimmed & ~trimmed
    assert not (trimmed & ~untrimmed).any()
    # A thin rim: 1-5% of the area, and grey (the demo's shadow), not the garment's colour.
    assert 0.01 < removed.sum() / untrimmed.sum() < 0.05
    rim = photo[removed].astype(float)
    assert np.abs(rim - rim.mean(axis=1, keepdims=True)).max(axis=1).mean() < 8


@pytest.mark.parametrize(("sleeve_px", "long"), [(260.0, True), (150.0, False)])
def test_a_long_sleeve_ends_at_the_wrist_and_a_short_one_where_it_ends(
    sleeve_px: float, long: bool
) -> None:
    from fitroom.tryon.compose import SLEEVE_LENGTH, _sleeve_pairs

    # A straight sleeve, root at (100, 100), pointing down, 40 px wide.
    sleeve = np.zeros((400, 300), dtype=bool)
    sleeve[100 : int(100 + sleeve_px), 80:121] = True
    tip, armpit = np.array([80.0, 100.0]), np.array([120.0, 100.0])
    cuff = (100.0, 100.0 + sleeve_px)
    # The arm: root -> elbow -> wrist, 300 px along; the garment is worn at scale 1.
    arm = [np.array([400.0, 200.0]), np.array([400.0, 350.0]), np.array([400.0, 500.0])]
    _, dst = _sleeve_pairs(sleeve, tip, armpit, cuff, arm, 1.0, (tip, armpit))
    cuff_centre = dst[-2]  # the last fraction's middle pair
    expected_y = 500.0 if long else 200.0 + sleeve_px * SLEEVE_LENGTH
    assert cuff_centre[0] == pytest.approx(400.0, abs=1.0)
    assert cuff_centre[1] == pytest.approx(expected_y, abs=1.0)


def test_the_grey_is_trimmed_next_to_the_background_only() -> None:
    from fitroom.tryon.compose import _inside_sides

    region = np.zeros((100, 200), dtype=bool)
    region[20:80, 50:150] = True
    person = region.copy()
    person[20:80, 150:170] = True  # trousers pasted back on the right of the grey
    arms = np.zeros_like(region)
    arms[20:40] = True  # the top rows are around an arm
    inside = _inside_sides(region, person, 10.0, arms, 4.0)
    # Left edge: 10 px off beside the torso, 4 px beside the arm.
    assert not inside[60, 50:60].any() and inside[60, 60]
    assert not inside[30, 50:54].any() and inside[30, 54]
    # Right edge meets the person's own pixels: nothing taken off.
    assert inside[60, 149] and inside[30, 149]


def test_the_arms_strokes_outside_the_torso_are_told_apart() -> None:
    from fitroom.tryon.person import AgnosticFit, stroke_unit_px

    grey = viton_grey(DRAWN)
    layout = guessed_layout(DRAWN, grey, (0.0, 0.0))
    pose = fit_stroke_pose(grey, layout)
    arms = AgnosticFit(layout, pose, stroke_unit_px(pose)).arms_only(grey.shape)
    assert arms[640, 150]  # beside the left forearm, well outside the torso
    assert not arms[450, 384]  # the middle of the chest
    assert not (arms & ~grey)[:700].sum() > 0.02 * arms[:700].sum()
