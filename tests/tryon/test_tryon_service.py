"""The photo try-on use cases on real photos: VITON-HD people and garments, wild photos.

Known answers: the dressed photo has the input's size; the torso changes; the face (and
everything else farther than 4 px from the repainted region and the garment) is the
input pixel for pixel; a grey agnostic input is recognised; each bad input is refused
with its own error. Products take their garment from their first photo in the media
folder, their try-on category from the catalogue's category, and are prepared once.
"""

from __future__ import annotations

import io
import os
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from fitroom import errors
from fitroom.config import Settings
from fitroom.services import catalog, tryon
from fitroom.store.db import Database
from fitroom.tryon.garment import Category, PreparedGarment
from fitroom.tryon.person import body_layout
from fitroom.vision.photo import decode_photo
from fitroom.vision.pose import PoseObservation, pose_estimator
from tests.conftest import data_dir

TRYON = data_dir() / "tryon"
SHAPY = data_dir() / "people" / "shapy" / "images"
PERSON = TRYON / "person" / "00034_00.jpg"
GARMENT = TRYON / "garment" / "00126_00.jpg"
VITON = TRYON / "viton_hd_00006_00"
pytestmark = pytest.mark.skipif(
    not (PERSON.is_file() and GARMENT.is_file() and (VITON / "agnostic-v3.2.jpg").is_file()),
    reason=f"VITON-HD try-on photos not found in {TRYON} (set FITROOM_DATA_DIR)",
)
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"])
#: Changed pixels may reach this far past the region and the garment (feathering).
EDGE_PX = 4


def _pixels(path: Path) -> np.ndarray:
    return decode_photo(path.read_bytes(), "test").rgb


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def garment() -> PreparedGarment:
    return tryon.garment_from_photo(GARMENT.read_bytes(), "upper")


@pytest.fixture(scope="module")
def dressed(garment: PreparedGarment) -> tryon.PhotoTryOn:
    return tryon.try_on_photo(PERSON.read_bytes(), garment)


@pytest.fixture(scope="module")
def observation() -> PoseObservation:
    seen = pose_estimator().observe(_pixels(PERSON))
    assert seen is not None
    return seen


def test_dressed_photo_keeps_size_face_and_background(
    dressed: tryon.PhotoTryOn, observation: PoseObservation
) -> None:
    person = _pixels(PERSON)
    assert dressed.image.shape == person.shape and dressed.image.dtype == np.uint8
    assert not dressed.agnostic_input
    changed = np.any(dressed.image != person, axis=2)
    touched = dressed.result.region | (dressed.result.garment_alpha > 0)
    kernel = np.ones((2 * EDGE_PX + 1, 2 * EDGE_PX + 1), np.uint8)
    near = cv2.dilate(touched.astype(np.uint8), kernel) > 0
    assert not (changed & ~near).any(), "pixels changed away from the region and garment"
    # The face (MediaPipe's face box) lies outside the region: not one pixel differs.
    x, y, w, h = (round(v) for v in observation.faces[0].box_px)
    face = np.zeros_like(changed)
    face[y : y + h, x : x + w] = True
    assert (face & ~near).sum() >= 0.9 * face.sum()
    assert not (changed & face & ~near).any()
    # The torso (between the shoulders, down to the hips) is repainted.
    layout = body_layout(observation)
    x0, x1 = sorted((int(layout.shoulder_l[0]), int(layout.shoulder_r[0])))
    y0, y1 = int(layout.shoulder_mid[1]) + 20, int(layout.hip_mid[1]) - 20
    torso_change = np.abs(dressed.image[y0:y1, x0:x1].astype(int) - person[y0:y1, x0:x1])
    assert changed[y0:y1, x0:x1].mean() > 0.8
    assert torso_change.mean() > 20
    assert {"decode_ms", "pose_ms", "compose_total_ms", "total_ms"} <= set(dressed.timings_ms)


def test_grey_agnostic_input_is_recognised() -> None:
    garment = tryon.garment_from_photo((VITON / "cloth.jpg").read_bytes(), Category.UPPER)
    agnostic = tryon.try_on_photo((VITON / "agnostic-v3.2.jpg").read_bytes(), garment)
    assert agnostic.agnostic_input
    source = _pixels(VITON / "agnostic-v3.2.jpg")
    assert agnostic.image.shape == source.shape
    # The grey (128) region is painted over: little flat grey is left inside it.
    grey = np.abs(source.astype(int) - 128).max(axis=2) <= 10
    still_grey = np.abs(agnostic.image.astype(int) - 128).max(axis=2) <= 10
    assert (still_grey & grey).sum() < 0.1 * grey.sum()


def test_a_garment_photo_as_the_person_has_no_person(garment: PreparedGarment) -> None:
    with pytest.raises(errors.NoPersonFound) as caught:
        tryon.try_on_photo(GARMENT.read_bytes(), garment)
    assert caught.value.view == "person" and caught.value.advice


def test_two_people_side_by_side_are_refused(garment: PreparedGarment) -> None:
    pair = np.hstack([_pixels(PERSON), _pixels(TRYON / "person" / "00121_00.jpg")])
    with pytest.raises(errors.MultiplePeople):
        tryon.try_on_photo(_jpeg(pair), garment)


class MirroredEstimator:
    """An injected estimator that sees the real person with left and right swapped."""

    def __init__(self, observation: PoseObservation, faces: bool) -> None:
        landmarks = observation.landmarks_px.copy()
        landmarks[:, 0] = observation.mask.shape[1] - landmarks[:, 0]
        self.seen = replace(
            observation, landmarks_px=landmarks, faces=observation.faces if faces else ()
        )

    def observe(self, rgb: np.ndarray) -> PoseObservation:
        return self.seen


@pytest.mark.parametrize("faces", [False, True])
def test_a_person_turned_away_is_refused(
    garment: PreparedGarment, observation: PoseObservation, faces: bool
) -> None:
    estimator = MirroredEstimator(observation, faces)
    with pytest.raises(errors.PersonFacingAway) as caught:
        tryon.try_on_photo(PERSON.read_bytes(), garment, estimator=estimator)
    assert caught.value.type_slug == "person-facing-away" and caught.value.advice


@pytest.mark.skipif(not SHAPY.is_dir(), reason=f"in-the-wild photos not found in {SHAPY}")
def test_a_garment_photo_with_a_busy_background_is_refused() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (600, 450, 3), dtype=np.uint8)
    with pytest.raises(errors.GarmentBackgroundBusy) as caught:
        tryon.garment_from_photo(_jpeg(noise), "upper")
    assert caught.value.advice


@pytest.mark.parametrize("photo", [SHAPY / "img_00.jpg", PERSON])
def test_a_photo_of_someone_wearing_clothes_is_not_a_garment_photo(photo: Path) -> None:
    # Outdoors (busy) or in a studio (plain background, so it would cut out "fine").
    with pytest.raises(errors.GarmentShowsPerson) as caught:
        tryon.garment_from_photo(photo.read_bytes(), "upper")
    assert "without a model" in caught.value.advice


def test_a_printed_portrait_on_a_tshirt_is_still_a_garment() -> None:
    # VITON-HD 03032_00: a T-shirt with a woman's portrait; the face is found, the
    # elbows are not.
    garment = tryon.garment_from_photo((TRYON / "garment" / "03032_00.jpg").read_bytes(), "upper")
    assert garment.upper.cuff_left is not None


def test_a_blank_garment_photo_has_no_garment() -> None:
    blank = np.full((600, 450, 3), 235, np.uint8)
    with pytest.raises(errors.NoGarmentFound):
        tryon.garment_from_photo(_jpeg(blank), "upper")


@pytest.mark.parametrize("category", ["scarf", "shoes"])
def test_unsupported_categories_are_refused_before_decoding(category: str) -> None:
    with pytest.raises(errors.UnsupportedCategory):
        tryon.garment_from_photo(b"not even an image", category)


def test_corrupt_and_huge_photos(garment: PreparedGarment) -> None:
    with pytest.raises(errors.InvalidImage):
        tryon.try_on_photo(PERSON.read_bytes()[:2000], garment)
    with pytest.raises(errors.ImageTooLarge):
        tryon.try_on_photo(PERSON.read_bytes(), garment, max_pixels=100_000)


# -- products ---------------------------------------------------------------------------


def _product(db: Database, product_id: str, category: str, images: list[str]) -> None:
    with db.session() as session:
        catalog.put_product(
            session,
            catalog.ProductIn.model_validate(
                {
                    "product_id": product_id,
                    "brand_id": "acme",
                    "category": category,
                    "gender": "women",
                    "title": product_id,
                    "price": "10",
                    "images": images,
                    "sizes": [{"label": "M"}],
                }
            ),
        )


@sqlite_only
def test_a_product_is_prepared_from_its_photo_once(seeded_db: Database, settings: Settings) -> None:
    media = settings.resolved_media_dir
    (media / "products").mkdir(parents=True)
    photo = media / "products" / "tee.jpg"
    photo.write_bytes(GARMENT.read_bytes())
    _product(seeded_db, "tee", "tops", ["/media/products/tee.jpg"])
    with seeded_db.session() as session:
        first = tryon.prepared_garment_for_product(session, "tee", media)
        again = tryon.prepared_garment_for_product(session, "tee", media)
        assert first is again  # the cache, not a second preparation
        assert first.category is Category.UPPER
        direct = tryon.garment_from_photo(GARMENT.read_bytes(), "upper")
        assert np.array_equal(first.mask, direct.mask)
        # A replaced photo is prepared again.
        photo.write_bytes(_jpeg(np.ascontiguousarray(_pixels(GARMENT)[:, ::-1])))
        os.utime(photo, ns=(photo.stat().st_atime_ns, photo.stat().st_mtime_ns + 10**9))
        flipped = tryon.prepared_garment_for_product(session, "tee", media)
        assert flipped is not first
        # Mirrored photo: the image-left shoulder is the old image-right one, mirrored.
        mirrored_x = first.mask.shape[1] - 1 - first.landmarks.shoulder_right[0]
        assert abs(flipped.landmarks.shoulder_left[0] - mirrored_x) < 8
        dressed = tryon.try_on_photo(
            PERSON.read_bytes(),
            tryon.choose_garment(
                session, media, product_id="tee", garment_photo=None, category=None
            ),
        )
    assert dressed.image.shape == _pixels(PERSON).shape


@sqlite_only
def test_outerwear_is_worn_as_upper_and_demo_images_cut_out(
    seeded_db: Database, settings: Settings
) -> None:
    from fitroom.demo.images import render_product_image

    media = settings.resolved_media_dir
    (media / "products").mkdir(parents=True)
    spec = {"garment": "parka", "pattern": "plain", "colour_rgb": [60, 80, 60], "seed": 3}
    (media / "products" / "parka.jpg").write_bytes(render_product_image({"image": spec}))
    _product(seeded_db, "parka", "outerwear", ["/media/products/parka.jpg"])
    with seeded_db.session() as session:
        garment = tryon.prepared_garment_for_product(session, "parka", media)
    assert garment.category is Category.UPPER
    assert garment.landmarks.cuff_left is not None and garment.landmarks.cuff_right is not None


@sqlite_only
@pytest.mark.parametrize(
    ("product_id", "images", "error"),
    [
        ("acme-tee", None, errors.NoGarmentFound),  # the seeded tee has no photo
        ("acme-jeans", None, errors.NoGarmentFound),  # trousers, but no photo
        ("nope", None, errors.NotFound),
        ("remote", ["https://cdn.example.com/tee.jpg"], errors.NoGarmentFound),
        ("gone", ["/media/products/gone.jpg"], errors.NoGarmentFound),
        ("escape", ["/media/../fitroom.db"], errors.NoGarmentFound),
        ("blank", ["/media/products/blank.jpg"], errors.NoGarmentFound),
    ],
)
def test_products_that_cannot_be_worn(
    seeded_db: Database,
    settings: Settings,
    product_id: str,
    images: list[str] | None,
    error: type[errors.FitroomError],
) -> None:
    media = settings.resolved_media_dir
    (media / "products").mkdir(parents=True)
    (media / "products" / "blank.jpg").write_bytes(_jpeg(np.full((600, 450, 3), 240, np.uint8)))
    if images is not None:
        _product(seeded_db, product_id, "tops", images)
    with seeded_db.session() as session, pytest.raises(error) as caught:
        tryon.prepared_garment_for_product(session, product_id, media)
    if isinstance(caught.value, errors.GarmentRejected):
        assert caught.value.advice


@sqlite_only
def test_a_request_names_exactly_one_garment(seeded_db: Database, settings: Settings) -> None:
    media = settings.resolved_media_dir
    with seeded_db.session() as session:
        with pytest.raises(errors.InputError, match="not both"):
            tryon.choose_garment(
                session, media, product_id="acme-tee", garment_photo=b"x", category="upper"
            )
        with pytest.raises(errors.InputError, match="not neither"):
            tryon.choose_garment(session, media, product_id=None, garment_photo=None, category=None)
        with pytest.raises(errors.InputError, match="category"):
            tryon.choose_garment(
                session, media, product_id=None, garment_photo=GARMENT.read_bytes(), category=None
            )
