"""Tiled inference, alpha and gray handling, decoding errors (tiny seeded networks)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

from fitroom.errors import ImageTooLarge, InputError, InvalidImage, ModelError
from fitroom.superres.infer import (
    ENSEMBLE_CODES,
    UpscalePipeline,
    decode_image,
    encode_image,
    ensemble_predict,
    output_to_uint8_hwc,
    shuffled_image,
    tiled_upscale,
)
from fitroom.superres.models import Bicubic, FitSR, receptive_radius_px, serving_form


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


def reference_uint8(model: torch.nn.Module, lr: np.ndarray) -> np.ndarray:
    """The model's whole-image output, shuffled in torch, rounded to 8-bit H x W x 3."""
    with torch.inference_mode():
        image = model.eval()(torch.from_numpy(lr[None]))[0].numpy()
    return np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8).transpose(1, 2, 0)


@pytest.mark.parametrize("form", ["image", "phases"])
def test_tiled_equals_untiled(tiny_net: FitSR, form: str) -> None:
    lr = np.random.default_rng(0).uniform(0, 1, size=(3, 37, 53)).astype(np.float32)
    predict = torch_predict(tiny_net if form == "image" else serving_form(tiny_net))
    whole = reference_uint8(tiny_net, lr)
    halo = receptive_radius_px(tiny_net)
    tiled = tiled_upscale(predict, lr, 2, tile_px=16, halo_px=halo)
    assert tiled.shape == whole.shape == (74, 106, 3)
    # Equal up to a float rounding tie (at most one 8-bit level, on very few pixels).
    diff = np.abs(tiled.astype(int) - whole.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3
    # The check can fail: without a halo the tile borders differ (visible seams).
    seams = tiled_upscale(predict, lr, 2, tile_px=16, halo_px=0)
    assert np.abs(seams.astype(int) - whole.astype(int)).max() > 1


def test_tiles_with_a_one_pixel_remainder(tiny_net: FitSR) -> None:
    lr = np.random.default_rng(1).uniform(0, 1, size=(3, 17, 33)).astype(np.float32)
    predict = torch_predict(serving_form(tiny_net))
    tiled = tiled_upscale(predict, lr, 2, tile_px=16, halo_px=receptive_radius_px(tiny_net))
    assert np.abs(tiled.astype(int) - reference_uint8(tiny_net, lr).astype(int)).max() <= 1


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_phases_interleave_like_pixel_shuffle(scale: int) -> None:
    # Values outside [0, 1] too: both must clamp the same way.
    rng = np.random.default_rng(scale)
    phases = rng.uniform(-0.2, 1.2, size=(3 * scale * scale, 7, 9)).astype(np.float32)
    shuffled = torch.nn.functional.pixel_shuffle(torch.from_numpy(phases)[None], scale)[0]
    expected = np.clip(np.round(shuffled.numpy() * 255.0), 0, 255).astype(np.uint8)
    expected = expected.transpose(1, 2, 0)
    assert np.array_equal(output_to_uint8_hwc(phases.copy(), scale), expected)
    assert np.array_equal(output_to_uint8_hwc(shuffled.numpy().copy(), scale), expected)
    # Pixel (s*y + i, s*x + j) of colour c is phase c*s*s + i*s + j at (y, x).
    y, x, i, j, c = 3, 5, scale - 1, 0, 2
    value = phases[c * scale * scale + i * scale + j, y, x]
    pixel = output_to_uint8_hwc(phases.copy(), scale)[scale * y + i, scale * x + j, c]
    assert pixel == np.clip(np.round(value * 255.0), 0, 255)


def test_an_output_of_the_wrong_shape_is_a_model_error() -> None:
    lr = np.zeros((3, 8, 8), dtype=np.float32)
    with pytest.raises(ModelError, match="neither the image"):
        tiled_upscale(lambda x: np.zeros((1, 5, 8, 8), np.float32), lr, 2, 16, 0)


def test_serving_form_is_the_model_before_its_shuffle(tiny_net: FitSR) -> None:
    x = torch.rand(1, 3, 12, 10)
    with torch.inference_mode():
        phases = serving_form(tiny_net)(x)
        assert phases.shape == (1, 12, 12, 10)
        torch.testing.assert_close(
            torch.nn.functional.pixel_shuffle(phases, 2), tiny_net(x), rtol=0, atol=0
        )


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


def torch_dihedral_outputs(model: torch.nn.Module, lr: np.ndarray) -> list[np.ndarray]:
    """The model on each of the 8 rotations/reflections of ``lr``, turned back (torch ops,
    independent of ``fitroom.superres.infer``'s own transforms)."""
    x = torch.from_numpy(lr[None])
    outputs = []
    with torch.inference_mode():
        for mirrored in (False, True):
            for quarter_turns in range(4):
                y = x.flip(3) if mirrored else x
                out = model(torch.rot90(y, quarter_turns, dims=(2, 3)))
                out = torch.rot90(out, -quarter_turns, dims=(2, 3))
                outputs.append((out.flip(3) if mirrored else out)[0].numpy())
    return outputs


@pytest.mark.parametrize("form", ["image", "phases"])
def test_eight_pass_ensemble_is_the_mean_over_the_dihedral_group(
    tiny_net: FitSR, form: str
) -> None:
    lr = np.random.default_rng(2).uniform(0, 1, size=(3, 9, 13)).astype(np.float32)
    predict = torch_predict(tiny_net if form == "image" else serving_form(tiny_net))
    averaged = ensemble_predict(predict, 2, 8)(lr[None])[0]
    outputs = torch_dihedral_outputs(tiny_net, lr)
    expected = np.mean(outputs, axis=0)
    assert averaged.shape == (3, 18, 26)
    assert np.abs(averaged - expected).max() < 1e-5
    # The check can fail: the net is not symmetric, so one pass differs from the mean.
    assert np.abs(outputs[0] - expected).max() > 1e-3


@pytest.mark.parametrize("passes", [2, 4])
def test_smaller_ensembles_average_their_flips(tiny_net: FitSR, passes: int) -> None:
    lr = np.random.default_rng(3).uniform(0, 1, size=(3, 8, 11)).astype(np.float32)
    averaged = ensemble_predict(torch_predict(serving_form(tiny_net)), 2, passes)(lr[None])[0]
    x = torch.from_numpy(lr[None])
    flips = {2: [(), (2, 3)], 4: [(), (3,), (2,), (2, 3)]}[passes]
    with torch.inference_mode():
        runs = [
            (tiny_net(x.flip(dims)).flip(dims) if dims else tiny_net(x))[0].numpy()
            for dims in flips
        ]
    assert len(ENSEMBLE_CODES[passes]) == passes
    assert np.abs(averaged - np.mean(runs, axis=0)).max() < 1e-5


def test_ensemble_of_a_symmetric_model_changes_nothing() -> None:
    lr = np.random.default_rng(4).uniform(0, 1, size=(1, 3, 6, 7)).astype(np.float32)

    def nearest(x: np.ndarray) -> np.ndarray:  # pixel repetition commutes with every flip
        return x.repeat(3, axis=2).repeat(3, axis=3)

    assert np.allclose(ensemble_predict(nearest, 3, 8)(lr), nearest(lr), rtol=0, atol=1e-6)
    assert ensemble_predict(nearest, 3, 1) is nearest


def test_shuffled_image_is_pixel_shuffle() -> None:
    phases = np.random.default_rng(5).uniform(size=(2, 27, 4, 5)).astype(np.float32)
    expected = torch.nn.functional.pixel_shuffle(torch.from_numpy(phases), 3).numpy()
    assert np.array_equal(shuffled_image(phases, 3), expected)


def test_ensembled_tiles_join_without_seams(tiny_net: FitSR) -> None:
    lr = np.random.default_rng(6).uniform(0, 1, size=(3, 29, 41)).astype(np.float32)
    predict = ensemble_predict(torch_predict(serving_form(tiny_net)), 2, 8)
    halo = receptive_radius_px(tiny_net)
    whole = tiled_upscale(predict, lr, 2, tile_px=64, halo_px=halo)
    tiled = tiled_upscale(predict, lr, 2, tile_px=12, halo_px=halo)
    diff = np.abs(tiled.astype(int) - whole.astype(int))
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3


@pytest.mark.parametrize("passes", [0, 3, 16])
def test_an_unknown_ensemble_size_is_refused(passes: int) -> None:
    with pytest.raises(InputError, match="1, 2, 4, 8 passes"):
        ensemble_predict(lambda x: x, 2, passes)
