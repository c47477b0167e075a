"""The flat-lay renderer: garment shapes, fabrics, determinism and the product JPEG."""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from fitroom.demo.content import demo_products
from fitroom.demo.images import (
    GARMENTS,
    PATTERNS,
    fabric_texture,
    render_garment,
    render_product_image,
    silhouette_mask,
)
from fitroom.errors import InputError

W, H = 300, 400  # small frames keep the suite fast; shapes scale with the frame
TOPS = ("tshirt", "shirt", "sweater", "hoodie", "blazer", "coat", "parka", "trucker")
LEGWEAR = ("trousers", "jeans")
DRESSES = ("dress_aline", "dress_shift", "dress_wrap")


def _mask(garment: str) -> npt.NDArray[np.bool_]:
    return silhouette_mask(garment, W, H) > 0.5


def _bbox(mask: npt.NDArray[np.bool_]) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _centre_width(mask: npt.NDArray[np.bool_], fraction: float) -> int:
    """Width of the stretch of garment through the centre line (the body, not sleeves)."""
    y0, y1, x0, x1 = _bbox(mask)
    row = mask[y0 + int((y1 - y0 - 1) * fraction)]
    centre = (x0 + x1) // 2
    if not row[centre]:
        return 0
    left = centre - int(np.argmin(row[centre::-1]))
    right = centre + int(np.argmin(row[centre:]))
    return right - left


def test_the_spec_table_covers_the_garments_products_need() -> None:
    assert set(TOPS + LEGWEAR + DRESSES) == set(GARMENTS)
    used = {p["image"]["garment"] for p in demo_products()}
    assert used <= set(GARMENTS)


@pytest.mark.parametrize("garment", sorted(GARMENTS))
def test_silhouette_is_a_garment_not_a_box(garment: str) -> None:
    mask = _mask(garment)
    share = mask.mean()
    assert 0.15 < share < 0.7, share  # fills the frame plausibly, with margins
    y0, y1, x0, x1 = _bbox(mask)
    assert y0 > 0 and x0 > 0 and y1 < H and x1 < W  # nothing is cut off
    fill = mask[y0:y1, x0:x1].mean()
    assert fill < 0.9, fill  # a rectangle would fill its bounding box


@pytest.mark.parametrize("garment", sorted(GARMENTS))
def test_front_views_are_left_right_symmetric(garment: str) -> None:
    mask = _mask(garment)
    mirrored = mask[:, ::-1]
    iou = (mask & mirrored).sum() / (mask | mirrored).sum()
    assert iou > 0.97, iou


@pytest.mark.parametrize("garment", LEGWEAR)
def test_trousers_have_a_gap_between_the_legs(garment: str) -> None:
    mask = _mask(garment)
    y0, y1, x0, x1 = _bbox(mask)
    centre = (x0 + x1) // 2
    low_row = mask[y0 + int((y1 - y0) * 0.95)]
    assert not low_row[centre - 2 : centre + 3].any()  # background between the hems
    assert low_row[x0:centre].any() and low_row[centre:x1].any()  # a leg on each side
    waist_row = mask[y0 + int((y1 - y0) * 0.1)]
    assert waist_row[centre]  # joined at the top


def _runs(row: npt.NDArray[np.bool_]) -> int:
    """Separate stretches of garment in one pixel row."""
    return int(np.count_nonzero(np.diff(row.astype(np.int8)) == 1) + int(row[0]))


@pytest.mark.parametrize("garment", ("tshirt", "shirt", "sweater", "hoodie", "parka", "trucker"))
def test_tops_are_widest_across_the_sleeves(garment: str) -> None:
    mask = _mask(garment)
    widest = int(mask.sum(axis=1).max())
    assert widest > 1.25 * _centre_width(mask, 0.95)  # sleeves reach beyond the hem


@pytest.mark.parametrize("garment", ("shirt", "sweater", "hoodie", "parka", "trucker"))
def test_long_sleeves_lie_apart_from_the_body(garment: str) -> None:
    mask = _mask(garment)
    assert max(_runs(row) for row in mask) >= 3  # sleeve | body | sleeve


@pytest.mark.parametrize("garment", DRESSES)
def test_dresses_are_long_and_the_flared_ones_flare(garment: str) -> None:
    mask = _mask(garment)
    y0, y1, _, _ = _bbox(mask)
    hem, waist = _centre_width(mask, 0.95), _centre_width(mask, 0.37)
    assert (y1 - y0) > 1.3 * hem  # taller than wide: a dress, not a top
    if garment == "dress_shift":
        assert hem < 1.3 * waist
    else:
        assert hem > 1.6 * waist


def test_hooded_garments_rise_above_the_shoulders() -> None:
    for garment in ("hoodie", "parka"):
        mask = _mask(garment)
        assert _centre_width(mask, 0.04) < 0.5 * _centre_width(mask, 0.5)


def test_same_seed_gives_the_same_image_and_another_seed_another() -> None:
    first = render_garment("jeans", (45, 70, 120), "denim", seed=7, width_px=W, height_px=H)
    again = render_garment("jeans", (45, 70, 120), "denim", seed=7, width_px=W, height_px=H)
    other = render_garment("jeans", (45, 70, 120), "denim", seed=8, width_px=W, height_px=H)
    assert first.tobytes() == again.tobytes()
    assert first.tobytes() != other.tobytes()


def test_image_is_rgb_of_the_asked_size_on_a_light_background() -> None:
    image = render_garment("tshirt", (31, 45, 84), "plain", seed=1, width_px=240, height_px=320)
    assert image.mode == "RGB" and image.size == (240, 320)
    pixels = np.asarray(image, dtype=np.float32)
    for corner in (pixels[:8, :8], pixels[:8, -8:], pixels[-8:, :8], pixels[-8:, -8:]):
        assert corner.mean() > 200  # light studio backdrop


def test_garment_pixels_carry_the_fabric_colour() -> None:
    colour = np.array([31, 45, 84], dtype=np.float32)
    image = render_garment("tshirt", (31, 45, 84), "plain", seed=3, width_px=W, height_px=H)
    pixels = np.asarray(image, dtype=np.float32)
    mask = silhouette_mask("tshirt", W, H)
    inside = pixels[mask > 0.99]
    outside = pixels[mask == 0]
    assert np.abs(np.median(inside, axis=0) - colour).max() < 25
    assert outside.mean() > 190  # background (with the soft shadow) stays light


def test_white_garments_stand_out_from_the_backdrop() -> None:
    image = render_garment("shirt", (242, 242, 238), "plain", seed=2, width_px=W, height_px=H)
    lum = np.asarray(image.convert("L"), dtype=np.float32)
    mask = silhouette_mask("shirt", W, H)
    inner = mask > 0.99
    ring = (mask == 0) & (np.roll(mask, 4, axis=0) > 0.5)  # just below the hem: the shadow
    assert ring.any()
    assert lum[inner].mean() - lum[ring].mean() > 10


def _texture(pattern: str) -> npt.NDArray[np.float32]:
    rng = np.random.default_rng(0)
    base = np.array([0.2, 0.3, 0.6], dtype=np.float32)
    return np.asarray(fabric_texture(pattern, base, (200, 200), 6.0, rng).mean(axis=2), np.float32)


def test_stripes_run_across_and_pinstripes_run_down() -> None:
    stripes = _texture("stripes")
    assert stripes.mean(axis=1).std() > 5 * stripes.mean(axis=0).std()
    pinstripe = _texture("pinstripe")
    assert pinstripe.mean(axis=0).std() > 5 * pinstripe.mean(axis=1).std()


def test_checks_vary_both_ways_and_plain_cloth_is_even() -> None:
    for pattern in ("gingham", "check"):
        cloth = _texture(pattern)
        assert cloth.mean(axis=0).std() > 0.03 and cloth.mean(axis=1).std() > 0.03
    plain = _texture("plain")
    assert plain.std() < 0.03


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_pattern_keeps_the_base_colour_on_average(pattern: str) -> None:
    rng = np.random.default_rng(1)
    base = np.array([0.2, 0.3, 0.6], dtype=np.float32)
    cloth = fabric_texture(pattern, base, (120, 120), 6.0, rng)
    assert cloth.shape == (120, 120, 3)
    assert cloth.min() >= 0 and cloth.max() <= 1
    assert np.argmax(cloth.reshape(-1, 3).mean(axis=0)) == 2  # still blue


def test_product_image_is_a_jpeg_of_the_product() -> None:
    product = demo_products()[0]
    data = render_product_image(product)
    assert data[:2] == b"\xff\xd8"
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (600, 800)
    assert render_product_image(product) == data  # deterministic bytes


def test_every_demo_product_renders() -> None:
    for product in demo_products():
        data = render_product_image(product, width_px=90, height_px=120)
        assert Image.open(io.BytesIO(data)).size == (90, 120)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"garment": "cape"}, "garment"),
        ({"pattern": "paisley"}, "pattern"),
        ({"colour_rgb": (300, 0, 0)}, "colour_rgb"),
        ({"width_px": 10}, "width_px"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"garment": "tshirt", "colour_rgb": (1, 2, 3), "pattern": "plain"}
    args.update(kwargs)
    with pytest.raises(InputError) as caught:
        render_garment(
            args["garment"],  # type: ignore[arg-type]
            args["colour_rgb"],  # type: ignore[arg-type]
            args["pattern"],  # type: ignore[arg-type]
            seed=1,
            width_px=int(args.get("width_px", 600)),  # type: ignore[call-overload]
        )
    assert caught.value.details["field"] == field


def test_a_product_without_an_image_spec_is_refused() -> None:
    product = {**demo_products()[0]}
    del product["image"]
    with pytest.raises(InputError):
        render_product_image(product)
