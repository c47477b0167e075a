"""Super-resolution over HTTP: ``POST /images/upscale`` (multipart upload in, PNG out).

Thin: read the upload within the byte limit, decode (pixel limit checked from the
header before decoding), run the shipped model's pipeline, answer PNG. Errors are
the domain's (``invalid-image``, ``image-too-large``...) as problem+json.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from fitroom.api.deps import get_settings_dep
from fitroom.api.uploads import read_upload
from fitroom.config import Settings
from fitroom.errors import InputError

router = APIRouter(tags=["images"])


def _default_backend(scale: int) -> str:
    """ONNX INT8 where it ships (fastest at the same PSNR, see bench/), else torch."""
    from fitroom.superres.infer import model_folder

    return "onnx-int8" if (model_folder("fitsr", scale) / "model.int8.onnx").is_file() else "torch"


@router.post(
    "/images/upscale",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The upscaled image (PNG)."},
        413: {"description": "Upload or image past the size limit (image-too-large)."},
        422: {"description": "Not an image or a corrupt one (invalid-image)."},
    },
)
def upscale_image(
    file: Annotated[UploadFile, File(description="Image: PNG, JPEG, WebP...; RGB(A) or gray.")],
    settings: Annotated[Settings, Depends(get_settings_dep)],
    scale: Annotated[int, Form(description="Upscaling factor: 2 or 4.")] = 4,
    model: Annotated[str, Form(description="fitsr (learned) or bicubic (baseline).")] = "fitsr",
    ensemble: Annotated[
        int,
        Form(
            description="Self-ensemble passes: 1, 2, 4 or 8 (fitsr only). Each tile runs that "
            "many times, flipped and turned, and the results are averaged: sharper "
            "(x4 Set5 +0.14 dB for 2 passes, +0.25 dB for 8) and that many times slower."
        ),
    ] = 1,
) -> Response:
    """Upscale an image ``scale`` times with super-resolution; returns PNG.

    Alpha is kept (upscaled with bicubic) and gray stays gray. Images up to
    ``FITROOM_SUPERRES_MAX_INPUT_PIXELS`` pixels and ``FITROOM_MAX_UPLOAD_BYTES`` bytes.
    """
    from fitroom.superres.infer import (
        UpscalePipeline,
        check_ensemble,
        decode_image,
        encode_image,
        shipped_scales,
    )

    if model not in ("fitsr", "bicubic"):
        raise InputError(f"model must be fitsr or bicubic; got {model!r}", field="model")
    if model == "fitsr" and scale not in shipped_scales("fitsr"):
        raise InputError(
            f"scale {scale} has no shipped model; choose one of {shipped_scales('fitsr')}",
            field="scale",
        )
    check_ensemble(ensemble)
    data = read_upload(file, settings.max_upload_bytes)
    decoded = decode_image(data, max_input_pixels=settings.superres_max_input_pixels)
    backend = _default_backend(scale) if model == "fitsr" else "torch"
    pipeline = UpscalePipeline.from_shipped(
        model, scale, backend, threads=2, cache_dir=settings.resolved_cache_dir, ensemble=ensemble
    )
    result = pipeline(decoded.pixels, max_input_pixels=settings.superres_max_input_pixels)
    return Response(
        encode_image(result.pixels, "PNG"),
        media_type="image/png",
        headers={
            "X-Fitroom-Model": f"{result.model} x{result.scale}",
            "X-Fitroom-Backend": result.backend,
            "X-Fitroom-Ensemble": str(result.ensemble),
            "X-Fitroom-Elapsed-Ms": f"{result.elapsed_ms:.1f}",
        },
    )
