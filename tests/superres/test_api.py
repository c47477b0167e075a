"""``POST /v1/images/upscale`` on a real uvicorn server: sizes, formats, problem types."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image

from fitroom.superres.infer import shipped_scales
from tests.conftest import LiveServer

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
PROBLEM = "application/problem+json"


@pytest.fixture()
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=60)


def png(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client: httpx.Client, data: bytes, **form: str) -> httpx.Response:
    return client.post("/v1/images/upscale", files={"file": ("in.png", data)}, data=form)


def assert_problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["type"] == f"urn:fitroom:problem:{slug}"
    assert body["detail"]


@pytest.mark.skipif(4 not in shipped_scales(), reason="no shipped fitsr x4 weights")
def test_upscale_small_png_x4(client: httpx.Client) -> None:
    image = np.random.default_rng(0).integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    response = upload(client, png(image), scale="4")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    out = Image.open(io.BytesIO(response.content))
    assert out.size == (64, 48) and out.mode == "RGB"


@pytest.mark.skipif(2 not in shipped_scales(), reason="no shipped fitsr x2 weights")
def test_self_ensemble_and_its_errors(client: httpx.Client) -> None:
    image = np.random.default_rng(1).integers(0, 256, size=(10, 14, 3), dtype=np.uint8)
    plain = upload(client, png(image), scale="2")
    averaged = upload(client, png(image), scale="2", ensemble="8")
    assert averaged.status_code == 200, averaged.text
    assert averaged.headers["x-fitroom-ensemble"] == "8"
    assert plain.headers["x-fitroom-ensemble"] == "1"
    a = np.asarray(Image.open(io.BytesIO(plain.content)), dtype=int)
    b = np.asarray(Image.open(io.BytesIO(averaged.content)), dtype=int)
    assert a.shape == b.shape == (20, 28, 3)
    assert 0 < np.abs(a - b).mean() < 10  # the same picture, averaged over 8 passes
    assert_problem(upload(client, png(image), scale="2", ensemble="3"), 422, "invalid-input")
    assert_problem(
        upload(client, png(image), scale="2", model="bicubic", ensemble="2"), 422, "invalid-input"
    )


def test_upscale_rgba_with_bicubic_keeps_alpha(client: httpx.Client) -> None:
    image = np.zeros((10, 8, 4), dtype=np.uint8)
    image[..., 3] = 255
    response = upload(client, png(image), scale="2", model="bicubic")
    assert response.status_code == 200, response.text
    out = np.asarray(Image.open(io.BytesIO(response.content)))
    assert out.shape == (20, 16, 4) and np.all(out[..., 3] == 255)


def test_too_large_image(client: httpx.Client) -> None:
    big = np.zeros((1100, 1000, 3), dtype=np.uint8)  # 1.1 Mpx > the API's 1,048,576 px
    assert_problem(upload(client, png(big), scale="2", model="bicubic"), 413, "image-too-large")


def test_not_an_image_and_corrupt(client: httpx.Client) -> None:
    assert_problem(upload(client, b"%PDF-1.4 no", model="bicubic"), 422, "invalid-image")
    data = png(np.random.default_rng(1).integers(0, 256, (64, 64, 3), np.uint8))
    assert_problem(upload(client, data[: len(data) // 2], model="bicubic"), 422, "invalid-image")


def test_unknown_model(client: httpx.Client) -> None:
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    assert_problem(upload(client, png(image), model="gan"), 422, "invalid-input")
