"""The photo decoder and quality gate, on real photos and on derived bad ones.

The real A-pose pair (one person, 165 cm, front and side) must pass; each defect made
from it (cropped feet, blur, darkness, a second person...) must be refused with its own
``type`` and advice. Tests that need ``../shared/data`` skip when it is absent.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from fitroom import errors
from fitroom.vision.photo import MIN_SHORT_SIDE_PX, decode_photo, photo_from_array
from fitroom.vision.pose import pose_estimator
from fitroom.vision.quality import check_photo
from tests.conftest import data_dir

APOSES = data_dir() / "people" / "aposes"
needs_photos = pytest.mark.skipif(
    not (APOSES / "person_a_front.jpg").is_file(),
    reason=f"real A-pose photos not found in {APOSES} (set FITROOM_DATA_DIR)",
)


def _jpeg(rgb: np.ndarray, **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92, **save)
    return buffer.getvalue()


def _gate(rgb: np.ndarray, view: str) -> None:
    photo = photo_from_array(np.ascontiguousarray(rgb), view)
    check_photo(photo, pose_estimator().observe(photo.rgb))


@pytest.fixture(scope="module")
def front() -> np.ndarray:
    return decode_photo((APOSES / "person_a_front.jpg").read_bytes(), "front").rgb


@pytest.fixture(scope="module")
def side() -> np.ndarray:
    return decode_photo((APOSES / "person_a_side.jpg").read_bytes(), "side").rgb


# -- decoding -------------------------------------------------------------------------


def test_decode_applies_exif_orientation() -> None:
    # A landscape 400x300 image tagged "rotate 90 CW" (orientation 6) is portrait upright.
    image = Image.new("RGB", (400, 300), (200, 10, 10))
    image.putpixel((0, 0), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif.tobytes(), quality=100)
    photo = decode_photo(buffer.getvalue(), "front")
    assert (photo.width_px, photo.height_px) == (300, 400)


@pytest.mark.parametrize(
    "data", [b"", b"not an image at all", _jpeg(np.zeros((300, 300, 3), np.uint8))[:200]]
)
def test_decode_refuses_non_images_and_truncated_files(data: bytes) -> None:
    with pytest.raises(errors.InvalidImage):
        decode_photo(data, "front")


def test_decode_refuses_huge_from_the_header() -> None:
    data = _jpeg(np.zeros((600, 500, 3), np.uint8))
    with pytest.raises(errors.ImageTooLarge) as info:
        decode_photo(data, "side", max_pixels=100_000)
    assert info.value.details["view"] == "side"


def test_small_photo_names_the_minimum() -> None:
    with pytest.raises(errors.PhotoTooSmall) as info:
        decode_photo(_jpeg(np.full((200, 150, 3), 128, np.uint8)), "front")
    assert f"{MIN_SHORT_SIDE_PX} px" in info.value.message
    assert info.value.to_dict()["type"] == "photo-too-small"


# -- the gate without people ------------------------------------------------------------


def test_dark_photo_is_too_dark_not_empty() -> None:
    with pytest.raises(errors.PhotoTooDark) as info:
        _gate(np.full((640, 480, 3), 12, np.uint8), "front")
    assert "light" in info.value.advice


def test_empty_room_has_no_person() -> None:
    rng = np.random.default_rng(0)
    wall = np.clip(rng.normal(170, 8, (640, 480, 3)), 0, 255).astype(np.uint8)
    with pytest.raises(errors.NoPersonFound):
        _gate(wall, "front")


# -- the gate on the real A-pose pair ---------------------------------------------------


@needs_photos
def test_real_front_and_side_pass(front: np.ndarray, side: np.ndarray) -> None:
    for rgb, view in ((front, "front"), (side, "side")):
        photo = photo_from_array(rgb, view)
        region, report = check_photo(photo, pose_estimator().observe(rgb))
        assert 0.75 < report.person_height_fraction < 0.95
        assert region.height_px > 900
    assert report.shoulder_ratio < 0.2  # the side view is in profile


@needs_photos
@pytest.mark.parametrize(
    ("defect", "view", "expected"),
    [
        ("crop_feet", "front", errors.BodyCutOff),
        ("crop_head", "front", errors.BodyCutOff),
        ("blur", "front", errors.PhotoTooBlurry),
        ("dark", "front", errors.PhotoTooDark),
        ("far", "front", errors.PersonTooFar),
        ("two_people", "front", errors.MultiplePeople),
        ("side_as_front", "front", errors.NotFacingCamera),
        ("front_as_side", "side", errors.NotInProfile),
    ],
)
def test_each_defect_has_its_own_error(
    front: np.ndarray, side: np.ndarray, defect: str, view: str, expected: type[Exception]
) -> None:
    import cv2

    derived = {
        "crop_feet": lambda: front[:1100],
        "crop_head": lambda: front[250:],
        "blur": lambda: cv2.GaussianBlur(front, (0, 0), 4.0),
        "dark": lambda: (front * 0.18).astype(np.uint8),
        "far": lambda: cv2.copyMakeBorder(front, 1200, 1200, 900, 900, cv2.BORDER_REPLICATE),
        "two_people": lambda: np.concatenate([front[:, 150:810], front[:, 150:810]], axis=1),
        "side_as_front": lambda: side,
        "front_as_side": lambda: front,
    }[defect]()
    with pytest.raises(expected) as info:
        _gate(derived, view)
    problem = info.value
    assert isinstance(problem, errors.PhotoRejected)
    assert problem.view == view and problem.advice
    if defect == "crop_feet":
        assert problem.details["part"] == "feet"
    if defect == "crop_head":
        assert problem.details["part"] == "head"


@needs_photos
def test_arms_down_front_is_refused_with_a_pose_advice() -> None:
    shapy = data_dir() / "people" / "shapy" / "images" / "img_05.jpg"
    if not shapy.is_file():
        pytest.skip(f"{shapy} not found")
    rgb = decode_photo(shapy.read_bytes(), "front").rgb
    with pytest.raises(errors.ArmsAgainstBody) as info:
        _gate(rgb, "front")
    assert "A" in info.value.advice


@needs_photos
def test_mild_degradations_still_pass(front: np.ndarray) -> None:
    import cv2

    half = cv2.resize(front, (480, 640), interpolation=cv2.INTER_AREA)
    recompressed = np.asarray(Image.open(io.BytesIO(_jpeg(half, subsampling=2))))
    for rgb in (half, recompressed, front[:, ::-1], (front * 0.45).astype(np.uint8)):
        _gate(rgb, "front")


def test_gate_rejects_unknown_view() -> None:
    photo = photo_from_array(np.full((300, 300, 3), 128, np.uint8), "back")
    with pytest.raises(ValueError, match="view"):
        check_photo(photo, None)
