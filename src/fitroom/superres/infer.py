"""Upscaling with a shipped SR model: decode, check, tile, run a backend, encode.

Models live in ``models_dir/superres/<name>_x<scale>/`` as ``model.pt`` (a torch
state_dict) + ``config.json``; ONNX forms sit beside them (``model.onnx``,
``model.int8.onnx``) or are exported on first use into a cache folder. Nothing loads at
import time; :func:`load_model` and :func:`load_backend` load on an explicit call and
cache the result per process.

Large images run in tiles: each low-resolution tile is extended by a halo of at least
the network's receptive radius, and only its centre is kept, so tiled output equals
whole-image output (no seams) while memory stays bounded by the tile size.

Serving graphs (every backend) return the network's sub-pixel phases, not the
shuffled image (:func:`fitroom.superres.models.serving_form`); the interleave is done
here on the 8-bit result, where it is cheapest (:func:`output_to_uint8_hwc`).
"""

from __future__ import annotations

import functools
import io
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from fitroom.errors import ImageTooLarge, InputError, InvalidImage, ModelError

if TYPE_CHECKING:
    from torch import nn

    from fitroom.compress.backends import InferenceBackend

#: Backend names: torch eager FP32, ONNX Runtime FP32, ONNX Runtime static QDQ INT8.
BACKENDS = ("torch", "onnx", "onnx-int8")
#: Low-resolution tile side, px (about 40 MB of activations for FitSR 8x32).
DEFAULT_TILE_PX = 256
#: Largest input the library accepts by default (callers such as the API set lower).
DEFAULT_MAX_INPUT_PIXELS = 25_000_000
#: Smallest side a network can take (the bicubic skip mirrors 2 px at each border).
MIN_SIDE_PX = 4
#: Formats :func:`encode_image` writes (PIL names).
WRITE_FORMATS = ("PNG", "JPEG", "WEBP", "BMP", "TIFF")
#: Name of the single input of the ONNX forms.
ONNX_INPUT = "input"

#: 1 x 3 x h x w float32 in [0, 1] -> the network's output for it: 1 x 3 x sh x sw
#: (the image) or 1 x 3*s*s x h x w (its sub-pixel phases, pixel-shuffle order).
Predict = Callable[[NDArray[np.float32]], NDArray[np.float32]]


def shipped_models_dir() -> Path:
    """``fitroom/models_dir/superres`` inside the installed package."""
    return Path(str(resources.files("fitroom") / "models_dir" / "superres"))


def model_folder(name: str, scale: int, models_dir: Path | None = None) -> Path:
    return (models_dir or shipped_models_dir()) / f"{name}_x{scale}"


def shipped_scales(name: str = "fitsr", models_dir: Path | None = None) -> list[int]:
    """Scales for which ``name`` has shipped weights."""
    return [s for s in (2, 3, 4) if (model_folder(name, s, models_dir) / "model.pt").is_file()]


def read_config(name: str, scale: int, models_dir: Path | None = None) -> dict[str, Any]:
    """The ``config.json`` of a shipped model; ModelError when it is missing."""
    path = model_folder(name, scale, models_dir) / "config.json"
    if not path.is_file():
        available = shipped_scales(name, models_dir)
        raise ModelError(
            f"no shipped {name} model for x{scale} (looked for {path}); "
            f"shipped scales: {available or 'none'}",
            model=name,
            scale=scale,
        )
    config: dict[str, Any] = json.loads(path.read_text())
    return config


@functools.lru_cache(maxsize=16)
def load_model(name: str, scale: int, models_dir: Path | None = None) -> nn.Module:
    """The shipped network ``name`` for ``scale`` in eval mode on CPU (cached).

    ``bicubic`` has no weights and is always available; the others read
    ``config.json`` for their hyper-parameters and load ``model.pt`` with
    ``weights_only=True`` (no pickled code runs).
    """
    import torch

    from fitroom.superres.models import build_model

    if name == "bicubic":
        return build_model("bicubic", scale).eval()
    config = read_config(name, scale, models_dir)
    network = build_model(config["model"], int(config["scale"]), **config["hyper_parameters"])
    weights = model_folder(name, scale, models_dir) / "model.pt"
    try:
        state = torch.load(weights, map_location="cpu", weights_only=True)
        network.load_state_dict(state)
    except (OSError, RuntimeError) as exc:
        raise ModelError(f"{weights} cannot be loaded for its config.json: {exc}") from exc
    return network.eval()


def export_onnx_forms(
    name: str,
    scale: int,
    out_dir: Path,
    calibration_lr: list[NDArray[np.float32]] | None = None,
    models_dir: Path | None = None,
    keep_tail_float: bool = True,
) -> dict[str, Path]:
    """Write ``model.onnx`` (FP32, opset 17) and, with calibration, ``model.int8.onnx``.

    Both are the serving form (sub-pixel phases out, see the module docstring). Uses
    the compression tool chain (``fitroom.compress``): export with dynamic batch,
    height and width, checked against torch; static QDQ INT8 (per-channel INT8
    weights kept to 7 bits so that no x86 CPU saturates them, UINT8 activations,
    MinMax calibration on ``calibration_lr`` crops, each 1 x 3 x h x w float32 in
    [0, 1]). A FitSR's global bicubic skip (its conv and the
    add that joins it to the learned detail) stays FP32: it carries most of each
    output value, so 8-bit error there lands straight in the image (x4 Set5: -0.078
    dB vs FP32 quantized, -0.046 dB kept FP32; about 3 ms more at one thread, measured
    on a shared CPU). So do its last two convolutions (``body_tail`` and ``tail``, with
    the adds they feed): quantized, they cost 0.22 dB on product photos (x4, VITON-HD
    garments and H&M) though only 0.05 on Set5; kept FP32, 0.09 and 0.02, for 2-20 ms
    more per 256 x 256 tile on an AVX2 CPU (the SR bench on 2 and 1 threads). Keeping
    only ``tail`` or only the long-skip add recovered almost nothing.
    ``keep_tail_float=False`` quantizes those two as well (only the skip stays FP32): the
    faster form the SR bench times beside the shipped one.
    """
    from fitroom.compress.export import InputSpec, check_equivalence, export_onnx
    from fitroom.compress.quantize import QuantizationMode, nodes_reading, quantize_onnx
    from fitroom.superres.models import serving_form

    model = serving_form(load_model(name, scale, models_dir))
    spec = InputSpec(ONNX_INPUT, (2, 3, 40, 48), dynamic_axes={0: "batch", 2: "h", 3: "w"})
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32 = export_onnx(model, [spec], out_dir / "model.onnx", opset=17)
    check_equivalence(model, fp32, [spec], tolerance=1e-4)
    paths = {"onnx": fp32}
    if calibration_lr:
        feeds = [{ONNX_INPUT: crop} for crop in calibration_lr]
        result = quantize_onnx(
            fp32,
            out_dir / "model.int8.onnx",
            calibration=feeds,
            mode=QuantizationMode.static,
            # The skip, then body_tail and tail ("tail.weight" ends both); the output
            # add joins the skip and tail, so it is named twice: keep one of each.
            keep_float=list(
                dict.fromkeys(
                    nodes_reading(fp32, "bicubic.kernels")
                    + (nodes_reading(fp32, "tail.weight") if keep_tail_float else [])
                )
            ),
            # Always 7-bit weights: the file ships, and full 8-bit weights saturate on
            # x86 CPUs without VNNI (Set5, AVX2-only machine: x4 -0.26 dB, x2 -0.38 dB
            # vs FP32; 7-bit: -0.036 and -0.050 dB).
            reduce_range=True,
        )
        paths["onnx-int8"] = result.path
    return paths


def calibration_crops(
    folder: Path, scale: int, count: int = 32, lr_px: int = 64, seed: int = 0
) -> list[NDArray[np.float32]]:
    """Random LR crops (bicubic-degraded, as at training) to calibrate INT8 ranges."""
    from fitroom.superres.data import list_images, make_pairs

    pairs = [p for p in make_pairs(list_images(folder), scale) if min(p.lr.shape[:2]) >= lr_px]
    rng = np.random.default_rng(seed)
    crops = []
    for _ in range(count):
        pair = pairs[int(rng.integers(0, len(pairs)))]
        top = int(rng.integers(0, pair.lr.shape[0] - lr_px + 1))
        left = int(rng.integers(0, pair.lr.shape[1] - lr_px + 1))
        crop = pair.lr[top : top + lr_px, left : left + lr_px]
        crops.append((crop.transpose(2, 0, 1)[None] / 255.0).astype(np.float32))
    return crops


@functools.lru_cache(maxsize=16)
def load_backend(
    name: str,
    scale: int,
    backend: str = "torch",
    threads: int = 2,
    cache_dir: Path | None = None,
    models_dir: Path | None = None,
) -> InferenceBackend:
    """A runnable form of a shipped model (cached per arguments).

    ``onnx`` uses the shipped ``model.onnx`` or exports one into ``cache_dir``;
    ``onnx-int8`` needs the shipped ``model.int8.onnx`` (its calibration data is not
    part of the package).
    """
    from fitroom.compress.backends import make_backend

    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    from fitroom.superres.models import serving_form

    if backend == "torch":
        return make_backend(serving_form(load_model(name, scale, models_dir)), threads=threads)
    folder = model_folder(name, scale, models_dir)
    if backend == "onnx":
        path = folder / "model.onnx"
        if not path.is_file():
            target = (cache_dir or Path("var/cache")) / "superres" / f"{name}_x{scale}"
            path = target / "model.onnx"
            if not path.is_file():
                export_onnx_forms(name, scale, target, models_dir=models_dir)
        return make_backend(path, threads=threads)
    path = folder / "model.int8.onnx"
    if not path.is_file():
        raise ModelError(
            f"no INT8 form of {name} x{scale} at {path}; make it with "
            "`fitroom superres export --calibration DIR` or use --backend onnx",
            model=name,
            scale=scale,
        )
    return make_backend(path, threads=threads, precision="int8")


def backend_predict(backend: InferenceBackend) -> Predict:
    """``backend`` as a plain function (a :data:`Predict`)."""

    def predict(lr: NDArray[np.float32]) -> NDArray[np.float32]:
        return np.asarray(backend.predict({ONNX_INPUT: lr}), dtype=np.float32)

    return predict


def _output_kind(output_shape: tuple[int, ...], lr_hw: tuple[int, int], scale: int) -> str:
    """``image`` or ``phases`` for a network output of ``output_shape`` (C x H x W)."""
    channels, height, width = output_shape
    if channels == 3 and (height, width) == (lr_hw[0] * scale, lr_hw[1] * scale):
        return "image"
    if channels == 3 * scale * scale and (height, width) == lr_hw:
        return "phases"
    raise ModelError(
        f"the network returned {channels} x {height} x {width} for a {lr_hw[0]} x "
        f"{lr_hw[1]} input at x{scale}: neither the image (3 x {lr_hw[0] * scale} x "
        f"{lr_hw[1] * scale}) nor its sub-pixel phases ({3 * scale * scale} x "
        f"{lr_hw[0]} x {lr_hw[1]})",
        scale=scale,
    )


#: Geometric self-ensemble (EDSR+'s test-time trick): how many passes -> which dihedral
#: transforms of the input. Code bits: 4 transposes (first), 1 flips left-right, 2 flips
#: top-bottom. The 2- and 4-pass sets are the ones without a transpose, so a tile keeps
#: its shape.
ENSEMBLE_CODES: dict[int, tuple[int, ...]] = {
    1: (0,),
    2: (0, 3),
    4: (0, 1, 2, 3),
    8: (0, 1, 2, 3, 4, 5, 6, 7),
}


def _dihedral(batch: NDArray[np.float32], code: int) -> NDArray[np.float32]:
    """An N x C x H x W batch under one dihedral transform (``ENSEMBLE_CODES``)."""
    if code & 4:
        batch = batch.swapaxes(2, 3)
    if code & 1:
        batch = batch[:, :, :, ::-1]
    if code & 2:
        batch = batch[:, :, ::-1, :]
    return batch


def _undo_dihedral(batch: NDArray[np.float32], code: int) -> NDArray[np.float32]:
    """The inverse of ``_dihedral(batch, code)``."""
    if code & 2:
        batch = batch[:, :, ::-1, :]
    if code & 1:
        batch = batch[:, :, :, ::-1]
    if code & 4:
        batch = batch.swapaxes(2, 3)
    return batch


def shuffled_image(output: NDArray[np.float32], scale: int) -> NDArray[np.float32]:
    """N x 3*s*s x h x w sub-pixel phases -> N x 3 x sh x sw image (pixel shuffle)."""
    n, channels, height, width = output.shape
    colours = channels // (scale * scale)
    phases = output.reshape(n, colours, scale, scale, height, width)
    image = phases.transpose(0, 1, 4, 2, 5, 3).reshape(n, colours, height * scale, width * scale)
    return np.ascontiguousarray(image)


def check_ensemble(passes: int) -> None:
    """Refuse a self-ensemble size other than those of ``ENSEMBLE_CODES``."""
    if passes not in ENSEMBLE_CODES:
        raise InputError(
            f"self-ensemble takes {', '.join(map(str, ENSEMBLE_CODES))} passes; got {passes}",
            field="ensemble",
            passes=passes,
        )


def ensemble_predict(predict: Predict, scale: int, passes: int) -> Predict:
    """``predict`` averaged over ``passes`` flipped/turned copies of its input.

    Each copy's output is turned back and the float images are averaged before any
    rounding (about +0.25 dB at x4 on Set5 for 8 passes, at 8x the time; see the README).
    The result is always the image (N x 3 x sh x sw), so the tiles of
    :func:`tiled_upscale` still join without seams: the halo is the same on every side.
    """
    check_ensemble(passes)
    if passes == 1:
        return predict
    codes = ENSEMBLE_CODES[passes]

    def averaged(lr: NDArray[np.float32]) -> NDArray[np.float32]:
        total: NDArray[np.float32] | None = None
        for code in codes:
            raw = predict(np.ascontiguousarray(_dihedral(lr, code)))
            turned_hw = (lr.shape[3], lr.shape[2]) if code & 4 else (lr.shape[2], lr.shape[3])
            if _output_kind(raw.shape[1:], turned_hw, scale) == "phases":
                raw = shuffled_image(raw, scale)
            image = _undo_dihedral(raw, code)
            total = image.copy() if total is None else total + image
        assert total is not None
        total /= len(codes)
        return total

    return averaged


def _float_planes_to_uint8(planes: NDArray[np.float32]) -> NDArray[np.uint8]:
    """K x H x W float in [0, 1] (clamped; rounded to nearest) -> K x H x W uint8.

    Clamps ``planes`` at 0 in place, then one OpenCV pass scales, rounds and saturates
    at 255 (about 2x faster than numpy's scale/round/clip/cast chain).
    """
    import cv2

    k, height, width = planes.shape
    np.maximum(planes, 0.0, out=planes)
    flat = cv2.convertScaleAbs(planes.reshape(k * height, width), alpha=255.0)
    out: NDArray[np.uint8] = np.asarray(flat, dtype=np.uint8).reshape(k, height, width)
    return out


def output_to_uint8_hwc(output: NDArray[np.float32], scale: int) -> NDArray[np.uint8]:
    """A network output for one image -> s*h x s*w x 3 uint8 (works in place).

    ``output`` is the image (3 x sh x sw) or its sub-pixel phases (3*s*s x h x w,
    channel ``c*s*s + i*s + j`` = pixel ``(s*y + i, s*x + j)`` of colour ``c``). The
    phases are converted to 8 bits first, then interleaved as bytes: the planes are
    merged so each input pixel holds its ``s`` rows of ``3*s`` bytes, and one
    transpose of those ``3*s``-byte runs puts them in place (about 3 ms for a
    1024 x 1024 result, against 12 ms for shuffling floats and converting after).
    """
    import cv2

    if output.ndim != 3:
        raise ModelError(f"expected a C x H x W network output; got shape {output.shape}")
    channels, height, width = output.shape
    if channels == 3:
        image = _float_planes_to_uint8(output)
        merged: NDArray[np.uint8] = cv2.merge(list(image))
        return merged.reshape(height, width, 3)
    if channels != 3 * scale * scale:
        raise ModelError(f"{channels} output channels fit neither an image nor x{scale} phases")
    planes = _float_planes_to_uint8(output)
    order = [
        c * scale * scale + i * scale + j
        for i in range(scale)
        for j in range(scale)
        for c in range(3)
    ]
    pixel_blocks = cv2.merge([planes[k] for k in order]).reshape(height, width, scale, 3 * scale)
    runs = pixel_blocks.view(np.dtype((np.void, 3 * scale)))
    interleaved = np.ascontiguousarray(runs.transpose(0, 2, 1, 3)).view(np.uint8)
    result: NDArray[np.uint8] = interleaved.reshape(height * scale, width * scale, 3)
    return result


def tiled_upscale(
    predict: Predict, lr: NDArray[np.float32], scale: int, tile_px: int, halo_px: int
) -> NDArray[np.uint8]:
    """Upscale a 3 x H x W float image tile by tile; returns sH x sW x 3 uint8.

    Each ``tile_px`` tile is cut with ``halo_px`` extra input pixels on every side
    that has a neighbour; only the output of the tile itself is kept (cropped before
    the 8-bit conversion). With ``halo_px`` at least the model's receptive radius
    this equals one whole-image pass.
    """
    if tile_px < 1 or halo_px < 0:
        raise InputError(f"tile_px must be >= 1 and halo_px >= 0; got {tile_px}, {halo_px}")
    _, height, width = lr.shape
    if height <= tile_px and width <= tile_px:
        # One tile, no halo: the model's own output, converted in place.
        whole = predict(np.ascontiguousarray(lr[None]))[0]
        _output_kind(whole.shape, (height, width), scale)
        return output_to_uint8_hwc(whole, scale)
    out = np.empty((height * scale, width * scale, 3), dtype=np.uint8)
    for top in range(0, height, tile_px):
        for left in range(0, width, tile_px):
            bottom, right = min(top + tile_px, height), min(left + tile_px, width)
            t0, l0 = max(0, top - halo_px), max(0, left - halo_px)
            b1, r1 = min(height, bottom + halo_px), min(width, right + halo_px)
            # Keep a tile at least MIN_SIDE_PX on each side (a 1-px remainder strip).
            t0, l0 = min(t0, max(0, b1 - MIN_SIDE_PX)), min(l0, max(0, r1 - MIN_SIDE_PX))
            raw = predict(np.ascontiguousarray(lr[None, :, t0:b1, l0:r1]))[0]
            # Crop to the tile itself: in output pixels for an image, input ones for phases.
            unit = scale if _output_kind(raw.shape, (b1 - t0, r1 - l0), scale) == "image" else 1
            keep = raw[
                :,
                (top - t0) * unit : (bottom - t0) * unit,
                (left - l0) * unit : (right - l0) * unit,
            ]
            out[top * scale : bottom * scale, left * scale : right * scale] = output_to_uint8_hwc(
                np.ascontiguousarray(keep), scale
            )
    return out


def upscale_alpha(alpha: NDArray[np.uint8], scale: int) -> NDArray[np.uint8]:
    """Alpha upscaled with MATLAB-like bicubic (a mask has no texture to invent).

    Fully opaque (or transparent) areas stay exactly 255 (0): the weights sum to 1.
    """
    from fitroom.superres.data import imresize

    out: NDArray[np.uint8] = imresize(alpha, float(scale))  # type: ignore[assignment]
    return out


@dataclass(frozen=True)
class DecodedImage:
    """Pixels as H x W x C uint8 (C = 1 gray, 3 RGB, 4 RGBA) and the source format."""

    pixels: NDArray[np.uint8]
    source_format: str


def decode_image(data: bytes, max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS) -> DecodedImage:
    """Decode image bytes; the pixel count is checked from the header before decoding.

    Gray (L, 1, I;16 is refused), LA/RGBA (alpha kept), palette images (to RGB or RGBA
    when they have transparency), CMYK/YCbCr (to RGB).
    """
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:
        raise ImageTooLarge(f"image is far past the size limit: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise InvalidImage(
            "the file is not an image fitroom can read (PNG, JPEG, WebP, BMP, TIFF...)"
        ) from exc
    width, height = img.size
    check_size(width, height, max_input_pixels)
    try:
        img.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise InvalidImage(f"the {img.format} image is corrupt or truncated: {exc}") from exc
    mode = img.mode
    converted: Image.Image
    if mode in ("L", "LA", "RGB", "RGBA"):
        converted = img
    elif mode == "1":
        converted = img.convert("L")
    elif mode in ("P", "PA"):
        converted = img.convert("RGBA" if "transparency" in img.info or mode == "PA" else "RGB")
    elif mode in ("CMYK", "YCbCr", "RGBX", "LAB", "HSV"):
        converted = img.convert("RGB")
    else:
        raise InvalidImage(
            f"image mode {mode} (e.g. 16-bit or float) is not supported; "
            "send an 8-bit gray, RGB or RGBA image",
            mode=mode,
        )
    if converted.mode == "LA":
        converted = converted.convert("RGBA")  # gray + alpha: colour path, alpha kept
    pixels = np.asarray(converted, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    return DecodedImage(pixels=pixels.copy(), source_format=str(img.format or "unknown"))


def check_size(width_px: int, height_px: int, max_input_pixels: int) -> None:
    """Refuse images too small for the networks or past ``max_input_pixels``."""
    if width_px * height_px > max_input_pixels:
        raise ImageTooLarge(
            f"image is {width_px}x{height_px} px = {width_px * height_px} px; at most "
            f"{max_input_pixels} px can be upscaled here (resize or crop it first)",
            width_px=width_px,
            height_px=height_px,
            max_input_pixels=max_input_pixels,
        )
    if min(width_px, height_px) < MIN_SIDE_PX:
        raise InvalidImage(
            f"image is {width_px}x{height_px} px; at least {MIN_SIDE_PX} px on each side is needed",
            width_px=width_px,
            height_px=height_px,
        )


def encode_image(pixels: NDArray[np.uint8], image_format: str = "PNG") -> bytes:
    """H x W x C uint8 -> file bytes (JPEG drops alpha: use PNG or WebP to keep it)."""
    from PIL import Image

    fmt = {"JPG": "JPEG", "TIF": "TIFF"}.get(image_format.upper(), image_format.upper())
    if fmt not in WRITE_FORMATS:
        raise InputError(
            f"cannot write {image_format!r} images; use one of "
            f"{', '.join(f.lower() for f in WRITE_FORMATS)}"
        )
    array = pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
    image = Image.fromarray(array)
    if fmt == "JPEG" and image.mode == "RGBA":
        raise InputError("JPEG cannot keep the alpha channel; write PNG or WebP instead")
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@dataclass(frozen=True)
class UpscaleResult:
    """The upscaled pixels (same channel layout as the input) and how they were made."""

    pixels: NDArray[np.uint8]
    scale: int
    model: str
    backend: str
    tiles: int
    elapsed_ms: float
    #: Self-ensemble passes per tile (``ensemble_predict``; 1: one plain pass).
    ensemble: int = 1


class UpscalePipeline:
    """Upscale gray, RGB or RGBA images with one model and backend.

    Components: ``predict`` (a backend as a function), the model's ``scale`` and
    receptive radius (the tile halo). Steps: (1) check inputs, (2) split colour and
    alpha, gray to RGB, (3) tiled super-resolution of the colour, (4) bicubic alpha,
    (5) back to uint8 in the input's layout. ``ensemble`` > 1 runs every tile that
    many times, flipped and turned, and averages (``ensemble_predict``): sharper, and
    that many times slower.
    """

    def __init__(
        self,
        predict: Predict,
        scale: int,
        halo_px: int,
        tile_px: int = DEFAULT_TILE_PX,
        model: str = "fitsr",
        backend: str = "torch",
        ensemble: int = 1,
    ) -> None:
        self.predict = ensemble_predict(predict, scale, ensemble)
        self.ensemble = ensemble
        self.scale = scale
        self.halo_px = halo_px
        self.tile_px = tile_px
        self.model = model
        self.backend = backend

    @classmethod
    def from_shipped(
        cls,
        name: str,
        scale: int,
        backend: str = "torch",
        threads: int = 2,
        tile_px: int = DEFAULT_TILE_PX,
        cache_dir: Path | None = None,
        ensemble: int = 1,
    ) -> UpscalePipeline:
        """The pipeline for a shipped model (weights load here, once per process)."""
        from fitroom.superres.models import receptive_radius_px

        check_ensemble(ensemble)  # before any weights load
        if ensemble != 1 and name == "bicubic":
            raise InputError("self-ensemble is for a learned model, not bicubic", field="ensemble")
        runnable = load_backend(name, scale, backend, threads, cache_dir)
        halo = receptive_radius_px(load_model(name, scale))
        return cls(backend_predict(runnable), scale, halo, tile_px, name, backend, ensemble)

    def check_inputs(self, pixels: NDArray[np.uint8], max_input_pixels: int) -> None:
        if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4):
            raise InputError(
                f"pixels must be H x W x 1|3|4 uint8; got {pixels.dtype} {pixels.shape}"
            )
        check_size(pixels.shape[1], pixels.shape[0], max_input_pixels)

    def __call__(
        self, pixels: NDArray[np.uint8], max_input_pixels: int = DEFAULT_MAX_INPUT_PIXELS
    ) -> UpscaleResult:
        started = time.perf_counter()
        # 1. Check everything before any compute.
        self.check_inputs(pixels, max_input_pixels)
        channels = pixels.shape[2]
        # 2. Colour as RGB float in [0, 1]; alpha apart.
        colour = np.repeat(pixels, 3, axis=2) if channels == 1 else pixels[:, :, :3]
        lr = np.ascontiguousarray(colour.transpose(2, 0, 1), dtype=np.float32) / 255.0
        # 3. Tiled super-resolution.
        sr_u8 = tiled_upscale(self.predict, lr, self.scale, self.tile_px, self.halo_px)
        # 4-5. Back to the input layout.
        if channels == 1:
            # Gray in, gray out: BT.601 luma of the (near-gray) result.
            luma = sr_u8.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
            out = np.round(luma).clip(0, 255).astype(np.uint8)[:, :, None]
        elif channels == 4:
            alpha = upscale_alpha(np.ascontiguousarray(pixels[:, :, 3]), self.scale)
            out = np.concatenate([sr_u8, alpha[:, :, None]], axis=2)
        else:
            out = np.ascontiguousarray(sr_u8)
        tiles = -(-pixels.shape[0] // self.tile_px) * -(-pixels.shape[1] // self.tile_px)
        return UpscaleResult(
            pixels=out,
            scale=self.scale,
            model=self.model,
            backend=self.backend,
            tiles=tiles,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
            ensemble=self.ensemble,
        )
