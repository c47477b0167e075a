"""The shipped models: they load, beat bicubic on Set5, and every backend agrees.

One contract test runs against every backend (torch FP32, ONNX FP32, ONNX INT8) with
inputs whose right answer is known: a flat image stays flat, and the result matches
the torch FP32 reference closely.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from fitroom.superres.data import list_images, make_pairs
from fitroom.superres.infer import BACKENDS, UpscalePipeline, model_folder, shipped_scales
from fitroom.superres.metrics import psnr, psnr_y
from tests.conftest import data_dir

SCALES = shipped_scales("fitsr")
SET5 = data_dir() / "superres" / "Set5"
needs_weights = pytest.mark.skipif(not SCALES, reason="no shipped fitsr weights")


def fp32_conv_modules(path: Path) -> tuple[list[str], int]:
    """Modules (``tail``, ``bicubic``...) whose conv weights an ONNX file keeps FP32, and
    how many Conv nodes it has in all."""
    import onnx

    graph = onnx.load(str(path)).graph
    float_weights = {i.name for i in graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    convs = [n for n in graph.node if n.op_type == "Conv"]
    kept = sorted(i.split(".")[-2] for n in convs for i in n.input if i in float_weights and
                  i.endswith(("weight", "kernels")))  # fmt: skip
    return kept, len(convs)


@needs_weights
@pytest.mark.skipif(not SET5.is_dir(), reason=f"Set5 not at {SET5}")
@pytest.mark.parametrize("scale", SCALES)
def test_shipped_model_beats_bicubic_by_1_db(scale: int) -> None:
    pair = make_pairs(list_images(SET5)[2:3], scale)[0]  # img_003, 280 x 280
    model = UpscalePipeline.from_shipped("fitsr", scale, "torch", threads=2)
    bicubic = UpscalePipeline.from_shipped("bicubic", scale, "torch", threads=2)
    model_db = psnr_y(model(pair.lr).pixels, pair.hr, shave_px=scale)
    bicubic_db = psnr_y(bicubic(pair.lr).pixels, pair.hr, shave_px=scale)
    assert model_db > bicubic_db + 1.0, (model_db, bicubic_db)


@needs_weights
@pytest.mark.skipif(not SET5.is_dir(), reason=f"Set5 not at {SET5}")
def test_self_ensemble_sharpens_the_shipped_model() -> None:
    scale = SCALES[-1]
    pair = make_pairs(list_images(SET5)[2:3], scale)[0]
    one, two = (
        UpscalePipeline.from_shipped("fitsr", scale, "torch", threads=2, ensemble=passes)
        for passes in (1, 2)
    )
    one_db = psnr_y(one(pair.lr).pixels, pair.hr, shave_px=scale)
    two_db = psnr_y(two(pair.lr).pixels, pair.hr, shave_px=scale)
    assert two_db > one_db + 0.05, (one_db, two_db)


def available_backends() -> list[tuple[int, str]]:
    cases = []
    for scale in SCALES:
        for backend in BACKENDS:
            onnx_file = {"onnx": "model.onnx", "onnx-int8": "model.int8.onnx"}.get(backend)
            if onnx_file and not (model_folder("fitsr", scale) / onnx_file).is_file():
                continue
            cases.append((scale, backend))
    return cases


@needs_weights
@pytest.mark.parametrize(("scale", "backend"), available_backends())
def test_backend_contract(scale: int, backend: str) -> None:
    pipeline = UpscalePipeline.from_shipped("fitsr", scale, backend, threads=2, tile_px=32)
    flat = np.full((24, 40, 3), 128, dtype=np.uint8)
    out = pipeline(flat).pixels
    assert out.shape == (24 * scale, 40 * scale, 3)
    deviation = np.abs(out.astype(int) - 128)
    # A flat image stays (nearly) flat: no invented texture, no shift of the level.
    assert deviation.mean() < 2.0 and deviation.max() <= 10, (deviation.mean(), deviation.max())

    rng = np.random.default_rng(0)
    coarse = rng.uniform(0, 255, size=(6, 10, 3))
    smooth = np.kron(coarse, np.ones((8, 8, 1)))[:44, :70]
    image = np.clip(smooth + rng.normal(0, 8, smooth.shape), 0, 255).astype(np.uint8)
    reference = UpscalePipeline.from_shipped("fitsr", scale, "torch", tile_px=32)(image).pixels
    result = pipeline(image).pixels
    assert result.shape == reference.shape
    assert psnr(result, reference) > (60.0 if backend == "onnx" else 38.0)


@needs_weights
@pytest.mark.parametrize("scale", SCALES)
def test_shipped_int8_keeps_the_skip_and_the_last_two_convs_in_fp32(scale: int) -> None:
    """They carry the output's values: quantized, x4 lost 0.22 dB on product photos."""

    path = model_folder("fitsr", scale) / "model.int8.onnx"
    if not path.is_file():
        pytest.skip(f"no INT8 file for x{scale}")
    kept, convs = fp32_conv_modules(path)
    assert kept == ["bicubic", "body_tail", "tail"]
    assert convs > 10  # every other conv reads dequantized INT8 weights


@needs_weights
def test_export_can_quantize_the_last_two_convs_too(tmp_path: Path) -> None:
    """The faster INT8 form the SR bench times beside the shipped one: only the skip
    stays FP32, and it still agrees with the FP32 graph."""
    from fitroom.compress.backends import make_backend
    from fitroom.superres.infer import export_onnx_forms

    scale = SCALES[-1]
    rng = np.random.default_rng(0)
    crops = [rng.random((1, 3, 32, 32), dtype=np.float32) for _ in range(4)]
    paths = export_onnx_forms("fitsr", scale, tmp_path, crops, keep_tail_float=False)
    assert fp32_conv_modules(paths["onnx-int8"])[0] == ["bicubic"]
    x = rng.random((1, 3, 24, 24), dtype=np.float32)
    fp32 = make_backend(paths["onnx"]).predict({"input": x})
    int8 = make_backend(paths["onnx-int8"]).predict({"input": x})
    assert fp32.shape == int8.shape == (1, 3 * scale * scale, 24, 24)
    assert float(np.abs(fp32 - int8).mean()) < 0.01
