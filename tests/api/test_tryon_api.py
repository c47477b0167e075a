"""``/v1/try-on`` and the product's try-on garment on a real uvicorn server, real photos.

The dressed photo comes back as JPEG or PNG at the person photo's size, with the time
of each step in ``Server-Timing``; a product is dressed from its photo in the media
folder, and its cut-out (RGBA PNG) and landmarks (JSON) are served. Each refusal is
problem+json with its own ``type`` and status.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from PIL import Image

from fitroom.config import Settings
from fitroom.services import catalog
from fitroom.store.db import Database
from tests.conftest import ADMIN_KEY, LiveServer, data_dir

TRYON = data_dir() / "tryon"
SHAPY = data_dir() / "people" / "shapy" / "images"
PERSON = TRYON / "person" / "00034_00.jpg"
GARMENT = TRYON / "garment" / "00126_00.jpg"
pytestmark = pytest.mark.skipif(
    not (PERSON.is_file() and GARMENT.is_file() and (SHAPY / "img_00.jpg").is_file()),
    reason=f"try-on photos not found in {TRYON} and {SHAPY} (set FITROOM_DATA_DIR)",
)
PROBLEM = "application/problem+json"
#: Small enough to test the limit cheaply, large enough for the VITON-HD photos.
MAX_UPLOAD_BYTES = 1_000_000


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    """SQLite settings with a small upload limit (overrides the shared fixture)."""
    return Settings(
        var_dir=tmp_path / "var",
        admin_api_key=ADMIN_KEY,
        data_dir=data_dir(),
        max_upload_bytes=MAX_UPLOAD_BYTES,
    )


@pytest.fixture()
def client(live_server: LiveServer, seeded_db: Database, settings: Settings) -> httpx.Client:
    """A client of a server whose catalogue has ``tee``: a product with a real photo."""
    folder = settings.resolved_media_dir / "products"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tee.jpg").write_bytes(GARMENT.read_bytes())
    with seeded_db.session() as session:
        catalog.put_product(
            session,
            catalog.ProductIn.model_validate(
                {
                    "product_id": "tee",
                    "brand_id": "acme",
                    "category": "tops",
                    "gender": "women",
                    "title": "Colour-block T-shirt",
                    "price": "25",
                    "images": ["/media/products/tee.jpg"],
                    "sizes": [{"label": "M", "stock": 1}],
                }
            ),
        )
    return httpx.Client(base_url=live_server.url, timeout=120)


def _jpeg(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def post(
    client: httpx.Client,
    person: bytes | None = None,
    garment: bytes | None = None,
    **form: str,
) -> httpx.Response:
    files = {}
    if person is not None:
        files["person"] = ("person.jpg", person, "image/jpeg")
    if garment is not None:
        files["garment"] = ("garment.jpg", garment, "image/jpeg")
    return client.post("/v1/try-on", files=files, data=form)


def test_garment_photo_try_on_as_jpeg_and_png(client: httpx.Client) -> None:
    person = PERSON.read_bytes()
    size = _decoded(person).size
    response = post(client, person, GARMENT.read_bytes(), category="upper")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    image = _decoded(response.content)
    assert image.format == "JPEG" and image.size == size
    timing = response.headers["server-timing"]
    for step in ("garment", "decode", "pose", "compose_total", "total"):
        assert f"{step};dur=" in timing
    assert response.headers["x-fitroom-agnostic-input"] == "false"
    assert response.headers["cache-control"] == "no-store"
    assert float(response.headers["x-fitroom-elapsed-ms"]) > 0
    png = post(client, person, GARMENT.read_bytes(), category="upper", format="png")
    assert png.status_code == 200, png.text
    assert png.headers["content-type"] == "image/png"
    assert _decoded(png.content).size == size


def test_product_try_on_and_its_garment(client: httpx.Client) -> None:
    person = PERSON.read_bytes()
    response = post(client, person, product_id="tee")
    assert response.status_code == 200, response.text
    assert _decoded(response.content).size == _decoded(person).size
    assert response.headers["x-fitroom-garment-category"] == "upper"

    cut_out = client.get("/v1/products/tee/try-on-garment")
    assert cut_out.status_code == 200 and cut_out.headers["content-type"] == "image/png"
    rgba = np.asarray(_decoded(cut_out.content))
    assert rgba.ndim == 3 and rgba.shape[2] == 4
    alpha = rgba[..., 3]
    assert set(np.unique(alpha).tolist()) == {0, 255}
    assert 0.3 < (alpha == 255).mean() < 0.95  # a T-shirt fills most of its own box

    info = client.get("/v1/products/tee/try-on-garment.json").json()
    assert info["category"] == "upper" and info["product_id"] == "tee"
    assert [info["width_px"], info["height_px"]] == [rgba.shape[1], rgba.shape[0]]
    assert info["source_size_px"] == list(_decoded(GARMENT.read_bytes()).size)
    landmarks: dict[str, Any] = info["landmarks"]
    for name in ("neck", "shoulder_left", "shoulder_right", "hem_left", "hem_right"):
        x, y = landmarks[name]
        assert 0 <= x < rgba.shape[1] and 0 <= y < rgba.shape[0]
    # Shown as a shopper sees it: the image-left shoulder is left of the right one,
    # the neck above the hem, and every landmark on (or at the edge of) the garment.
    assert landmarks["shoulder_left"][0] < landmarks["shoulder_right"][0]
    assert landmarks["neck"][1] < landmarks["hem_left"][1]


def _two_people() -> bytes:
    left = np.asarray(Image.open(PERSON).convert("RGB"))
    right = np.asarray(Image.open(TRYON / "person" / "00121_00.jpg").convert("RGB"))
    return _jpeg(np.hstack([left, right]))


def _huge_png() -> bytes:
    """A 10000 x 6000 px (60 MP) 1-bit PNG: a few KB, past the 50 MP decoding limit."""
    buffer = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(buffer, format="PNG")
    return buffer.getvalue()


CASES: dict[str, tuple[dict[str, Any], int, str]] = {
    "neither product nor garment": ({"person": "person"}, 422, "invalid-input"),
    "both product and garment": (
        {"person": "person", "garment": "garment", "product_id": "tee", "category": "upper"},
        422,
        "invalid-input",
    ),
    "garment without category": ({"person": "person", "garment": "garment"}, 422, "invalid-input"),
    "no person photo": ({"product_id": "tee"}, 422, "invalid-input"),
    "bad format": (
        {"person": "person", "product_id": "tee", "format": "gif"},
        422,
        "invalid-input",
    ),
    "unknown product": ({"person": "person", "product_id": "nope"}, 404, "not-found"),
    "product without photo": ({"person": "person", "product_id": "acme-tee"}, 422, "no-garment"),
    "trousers without photo": ({"person": "person", "product_id": "acme-jeans"}, 422, "no-garment"),
    "unknown category": (
        {"person": "person", "garment": "garment", "category": "hat"},
        422,
        "unsupported-category",
    ),
    "garment photo as the person": (
        {"person": "garment", "product_id": "tee"},
        422,
        "no-person",
    ),
    "two people": ({"person": "two_people", "product_id": "tee"}, 422, "multiple-people"),
    "busy garment background": (
        {"person": "person", "garment": "noise", "category": "upper"},
        422,
        "garment-background-busy",
    ),
    "garment photo of a person outdoors": (
        {"person": "person", "garment": "wild", "category": "upper"},
        422,
        "garment-shows-person",
    ),
    "model photo as the garment": (
        {"person": "person", "garment": "person", "category": "upper"},
        422,
        "garment-shows-person",
    ),
    "blank garment": (
        {"person": "person", "garment": "blank", "category": "upper"},
        422,
        "no-garment",
    ),
    "corrupt person photo": ({"person": "corrupt", "product_id": "tee"}, 422, "invalid-image"),
    "person photo past the pixel limit": (
        {"person": "huge", "product_id": "tee"},
        413,
        "image-too-large",
    ),
    "person photo past the byte limit": (
        {"person": "oversize", "product_id": "tee"},
        413,
        "image-too-large",
    ),
}


def _photo(name: str) -> bytes:
    if name == "person":
        return PERSON.read_bytes()
    if name == "garment":
        return GARMENT.read_bytes()
    if name == "wild":
        return (SHAPY / "img_00.jpg").read_bytes()
    if name == "two_people":
        return _two_people()
    if name == "blank":
        return _jpeg(np.full((600, 450, 3), 240, np.uint8))
    if name == "noise":
        return _jpeg(np.random.default_rng(0).integers(0, 256, (600, 450, 3), dtype=np.uint8))
    if name == "corrupt":
        return PERSON.read_bytes()[:3000]
    if name == "huge":
        return _huge_png()
    if name == "oversize":
        return PERSON.read_bytes() + b"\0" * MAX_UPLOAD_BYTES
    raise AssertionError(name)


@pytest.mark.parametrize("case", list(CASES))
def test_refusals_are_problem_json(client: httpx.Client, case: str) -> None:
    fields, status, slug = CASES[case]
    form = {k: v for k, v in fields.items() if k not in ("person", "garment")}
    response = post(
        client,
        _photo(fields["person"]) if "person" in fields else None,
        _photo(fields["garment"]) if "garment" in fields else None,
        **form,
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:fitroom:problem:{slug}"
    if slug in ("no-person", "multiple-people", "no-garment", "garment-background-busy"):
        assert body["advice"]


def test_a_request_past_the_form_budget_is_refused_unread(client: httpx.Client) -> None:
    blob = b"\0" * (3 * MAX_UPLOAD_BYTES)
    response = post(client, blob, product_id="tee")
    assert response.status_code == 413
    assert response.json()["type"] == "urn:fitroom:problem:image-too-large"


@pytest.mark.parametrize(
    ("product_id", "status", "slug"),
    [("nope", 404, "not-found"), ("acme-jeans", 422, "no-garment")],
)
def test_garment_of_a_product_that_cannot_be_worn(
    client: httpx.Client, product_id: str, status: int, slug: str
) -> None:
    for suffix in ("", ".json"):
        response = client.get(f"/v1/products/{product_id}/try-on-garment{suffix}")
        assert response.status_code == status
        assert response.json()["type"] == f"urn:fitroom:problem:{slug}"


def test_photos_are_parsed_in_memory_not_spooled_to_disk() -> None:
    """Starlette spools parts past 1 MB to a temporary file; the try-on form must not."""
    import asyncio

    from starlette.requests import Request

    from fitroom.api.uploads import read_form_in_memory

    photo = np.random.default_rng(0).integers(0, 256, 3_000_000, dtype=np.uint8).tobytes()
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="person"; filename="p.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + photo + b"\r\n--XyZ--\r\n"
    )
    chunks = [body[i : i + 65_536] for i in range(0, len(body), 65_536)]

    async def receive() -> dict[str, Any]:
        chunk = chunks.pop(0) if chunks else b""
        return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/try-on",
        "query_string": b"",
        "headers": [
            (b"content-type", b"multipart/form-data; boundary=XyZ"),
            (b"content-length", str(len(body)).encode()),
        ],
    }

    async def parse() -> tuple[bool, bytes]:
        form = await read_form_in_memory(Request(scope, receive), 4_000_000, max_files=2)
        upload = form["person"]
        assert not isinstance(upload, str)
        rolled = bool(upload.file._rolled)  # type: ignore[attr-defined]  # on disk?
        return rolled, await upload.read()

    rolled, data = asyncio.run(parse())
    assert not rolled
    assert data == photo


def test_openapi_documents_the_try_on_form(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    body = paths["/v1/try-on"]["post"]["requestBody"]["content"]["multipart/form-data"]
    assert set(body["schema"]["properties"]) == {
        "person",
        "product_id",
        "garment",
        "category",
        "format",
    }
    assert "/v1/products/{product_id}/try-on-garment.json" in paths
