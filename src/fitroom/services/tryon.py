"""Photo try-on use cases: a person photo dressed in a catalogue product or a garment photo.

Photos arrive as bytes and are decoded, dressed and dropped in memory; nothing is
written to disk. A product's garment is prepared (cut out, landmarks found) once and
kept in an in-process LRU cache, keyed by the product and its photo's file and
modification time, so a replaced photo is prepared again.

Products and try-on categories: the catalogue's own ``category`` field (required on
every product) decides how the garment is worn, with no guessing from titles:

============  ==================  =====================================
catalogue     try-on category     today
============  ==================  =====================================
``tops``      ``upper``           dressed
``outerwear`` ``upper``           dressed (worn over the torso and arms)
``trousers``  ``lower``           dressed (waistband to the legs; skirts too)
``dresses``   ``dress``           dressed (a top that keeps its own length)
============  ==================  =====================================

The garment photo of a product is its first image, which must be a file in the media
folder (``/media/...``, as ``fitroom demo seed`` and image uploads store them); a product
without one, or with only an outside URL, is refused with ``no-garment``.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from fitroom.errors import InputError, NoGarmentFound, UnsupportedCategory
from fitroom.services import catalog
from fitroom.services.lru import LruCache
from fitroom.services.textures import media_path
from fitroom.sizing.charts import Category as CatalogCategory
from fitroom.tryon.garment import Category as TryOnCategory
from fitroom.tryon.garment import (
    PreparedGarment,
    parse_category,
    prepare_garment,
    refuse_worn_garment,
)
from fitroom.vision.photo import DEFAULT_MAX_PHOTO_PIXELS, decode_photo

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from sqlalchemy.orm import Session

    from fitroom.store.models import Product
    from fitroom.tryon.compose import TryOnResult
    from fitroom.vision.pose import PoseObserver

#: How each catalogue category is worn (see the module docstring's table).
TRYON_CATEGORY_BY_CATALOG_CATEGORY: dict[CatalogCategory, TryOnCategory] = {
    CatalogCategory.tops: TryOnCategory.UPPER,
    CatalogCategory.outerwear: TryOnCategory.UPPER,
    CatalogCategory.trousers: TryOnCategory.LOWER,
    CatalogCategory.dresses: TryOnCategory.DRESS,
}

#: Image formats the try-on answers in.
ImageFormat = Literal["jpeg", "png"]
IMAGE_FORMATS: tuple[ImageFormat, ...] = ("jpeg", "png")
MEDIA_TYPES: dict[ImageFormat, str] = {"jpeg": "image/jpeg", "png": "image/png"}
JPEG_QUALITY = 92

#: Prepared garments kept between requests (a few hundred KB each).
PREPARED_GARMENTS: LruCache[tuple[str, str, int], PreparedGarment] = LruCache(64)

ADVICE_PERSON = (
    "use a photo of one person facing the camera, from the head to below the hips, "
    "with the shoulders and hips in view"
)
ADVICE_PRODUCT_PHOTO = (
    "give the product a photo of the garment alone on a plain background (upload it to "
    "the store's media), or send a garment photo with the request instead"
)


@dataclass(frozen=True)
class PhotoTryOn:
    """A dressed photo (same size as the person photo) and how it was made."""

    image: NDArray[np.uint8]
    result: TryOnResult
    garment: PreparedGarment
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def agnostic_input(self) -> bool:
        """Whether the person photo came with its clothing region painted grey."""
        return self.result.agnostic_input


def tryon_category_for_product(product: Product) -> TryOnCategory:
    """The try-on category of a catalogue product; ``UnsupportedCategory`` if not dressed yet."""
    try:
        catalog_category = CatalogCategory(product.category)
        mapped = TRYON_CATEGORY_BY_CATALOG_CATEGORY[catalog_category]
    except (ValueError, KeyError):
        raise UnsupportedCategory(
            f"product {product.product_id!r} has catalogue category {product.category!r}, "
            "which has no try-on category",
            product_id=product.product_id,
            category=product.category,
        ) from None
    try:
        return parse_category(mapped.value)
    except UnsupportedCategory as exc:
        raise UnsupportedCategory(
            f"product {product.product_id!r} is {product.category} (try-on category "
            f"{mapped.value!r}); {exc.message}",
            product_id=product.product_id,
            **exc.details,
        ) from None


def product_photo_path(product: Product, media_dir: Path) -> Path:
    """The local file of the product's first photo; ``NoGarmentFound`` when there is none."""
    images = list(product.images or [])
    if not images:
        raise NoGarmentFound(
            f"product {product.product_id!r} has no photo to take the garment from",
            advice=ADVICE_PRODUCT_PHOTO,
            product_id=product.product_id,
        )
    path = media_path(str(images[0]), media_dir)
    if path is None or not path.is_file():
        raise NoGarmentFound(
            f"product {product.product_id!r}'s photo {images[0]!r} is not a file in the "
            "store's media folder, so its garment cannot be cut out",
            advice=ADVICE_PRODUCT_PHOTO,
            product_id=product.product_id,
            image=str(images[0]),
        )
    return path


def garment_from_photo(
    photo: bytes,
    category: str | TryOnCategory,
    max_pixels: int = DEFAULT_MAX_PHOTO_PIXELS,
    estimator: PoseObserver | None = None,
) -> PreparedGarment:
    """A garment photo's bytes -> the prepared garment (category checked first; a photo
    of someone wearing clothes is refused, see ``prepare_garment_photo``)."""
    chosen = parse_category(category if isinstance(category, str) else category.value)
    return prepare_garment_photo(decode_photo(photo, "garment", max_pixels).rgb, chosen, estimator)


def prepare_garment_photo(
    rgb: NDArray[np.uint8], category: str | TryOnCategory, estimator: PoseObserver | None = None
) -> PreparedGarment:
    """Refuse a garment photo that shows a person (``garment-shows-person``), then cut
    the garment out. A plain studio background would otherwise let a model's photo
    through as a "garment"."""
    from fitroom.vision.pose import pose_estimator

    refuse_worn_garment((estimator or pose_estimator()).observe(rgb))
    return prepare_garment(rgb, category)


def prepared_garment_for_product(
    session: Session,
    product_id: str,
    media_dir: Path,
    max_pixels: int = DEFAULT_MAX_PHOTO_PIXELS,
) -> PreparedGarment:
    """The product's garment, cut out of its first photo; cached per product and photo.

    ``NotFound`` for an unknown product, ``UnsupportedCategory`` for one the try-on
    cannot dress, ``NoGarmentFound`` / ``GarmentBackgroundBusy`` for a photo it cannot
    cut a garment out of (refusals are not cached: a fixed photo is tried again).
    """
    product = catalog.get_product(session, product_id)
    category = tryon_category_for_product(product)
    path = product_photo_path(product, media_dir)
    key = (product_id, str(path.resolve()), path.stat().st_mtime_ns)
    return PREPARED_GARMENTS.get_or_make(
        key, lambda: garment_from_photo(path.read_bytes(), category, max_pixels)
    )


def choose_garment(
    session: Session,
    media_dir: Path,
    *,
    product_id: str | None,
    garment_photo: bytes | None,
    category: str | None,
    max_pixels: int = DEFAULT_MAX_PHOTO_PIXELS,
) -> PreparedGarment:
    """The garment a request names: a product, or a garment photo with its category.

    Exactly one of ``product_id`` and ``garment_photo`` must be given; a photo needs its
    ``category``; a product's category comes from the catalogue (one sent with it must
    agree).
    """
    if (product_id is None) == (garment_photo is None):
        raise InputError(
            "send either product_id or a garment photo (with its category), not "
            + ("both" if product_id is not None else "neither"),
            field="product_id",
        )
    if garment_photo is not None:
        if category is None:
            raise InputError(
                "a garment photo needs its category (upper, lower or dress)", field="category"
            )
        return garment_from_photo(garment_photo, category, max_pixels)
    assert product_id is not None
    garment = prepared_garment_for_product(session, product_id, media_dir, max_pixels)
    if category is not None and parse_category(category) is not garment.category:
        raise InputError(
            f"product {product_id!r} is worn as {garment.category.value!r}, not "
            f"{category!r}; leave category out when naming a product",
            field="category",
        )
    return garment


def try_on_photo(
    person_photo: bytes,
    garment: PreparedGarment,
    *,
    estimator: PoseObserver | None = None,
    max_pixels: int = DEFAULT_MAX_PHOTO_PIXELS,
) -> PhotoTryOn:
    """Dress the person in ``person_photo`` (bytes) in ``garment``.

    Refuses, before any compositing, a photo that is not an image or too large/small,
    one with no person or several (``fitroom.vision.quality.check_one_person``, the
    body scan's own check) and a person with their back to the camera. A VITON-HD style
    input with its clothing region painted grey is detected and dressed as such.
    """
    from fitroom.tryon.compose import try_on
    from fitroom.tryon.person import body_layout, observe_person
    from fitroom.vision.pose import pose_estimator
    from fitroom.vision.quality import check_one_person

    timings: dict[str, float] = {}
    started = time.perf_counter()
    photo = decode_photo(person_photo, "person", max_pixels)
    timings["decode_ms"] = (time.perf_counter() - started) * 1000
    t = time.perf_counter()
    seen = observe_person(estimator or pose_estimator(), photo.rgb)
    observation, _, _ = check_one_person(seen, "person", ADVICE_PERSON)
    layout = body_layout(observation, "person")
    timings["pose_ms"] = (time.perf_counter() - t) * 1000
    result = try_on(photo.rgb, garment, layout)
    timings.update({f"compose_{k}": v for k, v in result.timings_ms.items()})
    timings["total_ms"] = (time.perf_counter() - started) * 1000
    return PhotoTryOn(image=result.image, result=result, garment=garment, timings_ms=timings)


def encode_image(pixels: NDArray[np.uint8], image_format: ImageFormat) -> bytes:
    """RGB or RGBA pixels -> JPEG (quality 92, alpha dropped) or PNG bytes, in memory."""
    from PIL import Image

    image = Image.fromarray(pixels)
    buffer = io.BytesIO()
    if image_format == "jpeg":
        image.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    else:
        image.save(buffer, format="PNG")
    return buffer.getvalue()


def garment_to_dict(product_id: str, garment: PreparedGarment) -> dict[str, Any]:
    """A prepared garment as the API shows it: landmarks are (x, y) in the cut-out's pixels."""
    height_px, width_px = garment.mask.shape
    return {
        "product_id": product_id,
        "category": garment.category.value,
        "width_px": int(width_px),
        "height_px": int(height_px),
        "source_size_px": list(garment.source_size_px),
        "background_rgb": list(garment.background_rgb),
        "landmarks": {
            name: None if point is None else [round(float(point[0]), 1), round(float(point[1]), 1)]
            for name, point in garment.landmarks.as_dict().items()
        },
    }


def garment_with_landmarks(garment: PreparedGarment) -> NDArray[np.uint8]:
    """The cut-out (RGBA) with its landmarks drawn as dots and named, for debugging."""
    import cv2
    import numpy as np

    canvas = np.ascontiguousarray(garment.rgba())
    radius_px = max(3, round(max(canvas.shape[:2]) / 150))
    for name, point in garment.landmarks.as_dict().items():
        if point is None:
            continue
        centre = (round(point[0]), round(point[1]))
        cv2.circle(canvas, centre, radius_px, (255, 0, 0, 255), -1, cv2.LINE_AA)
        cv2.putText(
            canvas,
            name,
            (centre[0] + radius_px + 2, centre[1] + radius_px),
            cv2.FONT_HERSHEY_SIMPLEX,
            radius_px / 10,
            (200, 0, 0, 255),
            1,
            cv2.LINE_AA,
        )
    return canvas
