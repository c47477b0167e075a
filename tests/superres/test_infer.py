"""Tiled inference, alpha and gray handling, decoding errors (tiny seeded networks)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from fitroom.errors import ImageTooLarge, InvalidImage
from fitroom.superres.infer import (
    UpscalePipeline,
    decode_image,
    encode_image,
    tiled_upscale,
)
from fitroom.superres.models import Bicubic, FitSR, receptive_radius_px


def torch_predict(model: torch.nn.Module):  # type: ignore[no-untyped-def]
    model.eval()

    def predict(lr: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return model(torch.from_numpy(lr)).numpy()

    return predict


@pytest.fixture(scope="module")
def tiny_net() -> FitSR:
    torch.manual_seed(0)
    return FitSR(scale=2, blocks=2, features=8)


def test_tiled_equals_untiled(tiny_net: FitSR) -> None:
    lr = np.random.default_rng(0).uniform(0, 1, size=(3, 37, 53)).astype(np.float32)
    predict = torch_predict(tiny_net)
    whole = predict(lr[None])[0]
    halo = receptive_radius_px(tiny_net)
    tiled = tiled_upscale(predict, lr, 2, tile_px=16, halo_px=halo)
    assert tiled.shape == whole.shape == (3, 74, 106)
    assert np.abs(tiled - whole).max() < 1e-3
    # The check can fail: without a halo the tile borders differ (visible seams).
    seams = tiled_upscale(predict, lr, 2, tile_px=16, halo_px=0)
    assert np.abs(seams - whole).max() > 1e-3


def test_tiles_with_a_one_pixel_remainder(tiny_net: FitSR) -> None:
    lr = np.random.default_rng(1).uniform(0, 1, size=(3, 17, 33)).astype(np.float32)
    predict = torch_predict(tiny_net)
    tiled = tiled_upscale(predict, lr, 2, tile_px=16, halo_px=receptive_radius_px(tiny_net))
    np.testing.assert_allclose(tiled, predict(lr[None])[0], atol=1e-3)


def bicubic_pipeline(scale: int = 4) -> UpscalePipeline:
    return UpscalePipeline(torch_predict(Bicubic(scale)), scale, halo_px=2, tile_px=16)


def test_rgba_keeps_alpha_where_opaque() -> None:
    rng = np.random.default_rng(2)
    rgba = rng.integers(0, 256, size=(20, 30, 4), dtype=np.uint8)
    rgba[:, :, 3] = 255
    rgba[5:10, 5:10, 3] = 0  # a transparent hole
    result = bicubic_pipeline(4)(rgba)
    assert result.pixels.shape == (80, 120, 4)
    alpha = result.pixels[:, :, 3]
    # Far (> 2 input px) from the hole the input is opaque: alpha stays exactly 255.
    assert np.all(alpha[:, 14 * 4 :] == 255)
    assert np.all(alpha[13 * 4 :, :] == 255)
    assert np.all(alpha[7 * 4 : 8 * 4, 7 * 4 : 8 * 4] == 0)  # centre of the hole


def test_gray_stays_gray() -> None:
    gray = np.random.default_rng(3).integers(0, 256, size=(10, 12, 1), dtype=np.uint8)
    result = bicubic_pipeline(2)(gray)
    assert result.pixels.shape == (20, 24, 1)


def test_rgb_bicubic_pipeline_of_a_constant() -> None:
    rgb = np.full((9, 11, 3), 200, dtype=np.uint8)
    result = bicubic_pipeline(4)(rgb)
    assert result.pixels.shape == (36, 44, 3)
    assert np.all(result.pixels == 200)
    assert result.tiles == 1


def png_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def test_decode_modes_and_roundtrip() -> None:
    rgba = np.zeros((6, 7, 4), dtype=np.uint8)
    assert decode_image(png_bytes(rgba)).pixels.shape == (6, 7, 4)
    gray = np.zeros((6, 7), dtype=np.uint8)
    assert decode_image(png_bytes(gray)).pixels.shape == (6, 7, 1)
    again = decode_image(encode_image(decode_image(png_bytes(rgba)).pixels, "png"))
    assert again.pixels.shape == (6, 7, 4)


def test_not_an_image_and_corrupt_image() -> None:
    with pytest.raises(InvalidImage, match="not an image"):
        decode_image(b"this is text, not pixels")
    truncated = png_bytes(np.random.default_rng(4).integers(0, 256, (64, 64, 3), np.uint8))
    with pytest.raises(InvalidImage, match="corrupt or truncated"):
        decode_image(truncated[: len(truncated) // 2])


def test_too_large_is_refused_before_decoding() -> None:
    big = png_bytes(np.zeros((300, 400, 3), dtype=np.uint8))
    with pytest.raises(ImageTooLarge, match="300 px = 120000 px"):
        decode_image(big, max_input_pixels=100_000)
    with pytest.raises(InvalidImage, match="at least 4 px"):
        decode_image(png_bytes(np.zeros((2, 40, 3), dtype=np.uint8)))
