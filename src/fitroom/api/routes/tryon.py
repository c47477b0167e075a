"""Photo try-on over HTTP: a person photo dressed in a product or a garment photo.

``POST /try-on`` (multipart) answers the dressed photo as JPEG or PNG, with the time of
each step in ``Server-Timing``. ``GET /products/{id}/try-on-garment`` is the product's
garment as the try-on cut it out (PNG with alpha) and ``.../try-on-garment.json`` its
landmarks in that PNG's pixels. Photos are parsed, dressed and dropped in memory; they
never touch the disk. Refusals are problem+json with a ``type`` per reason and, for a
photo, ``advice`` on what photo works.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from fitroom.api.deps import SessionDep, SettingsDep, get_db
from fitroom.api.uploads import read_form_in_memory, read_upload
from fitroom.config import Settings
from fitroom.errors import InputError
from fitroom.services import tryon
from fitroom.store.db import Database

router = APIRouter(tags=["try-on"])

REFUSALS = (
    "invalid-input (both or neither of product_id and garment, a garment without "
    "category, a bad format), unsupported-category, no-person, multiple-people, "
    "person-facing-away, photo-too-small (each with `view` and `advice`), "
    "garment-background-busy, no-garment (with `advice`), invalid-image"
)
TRYON_FORM_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["person"],
                    "properties": {
                        "person": {
                            "type": "string",
                            "format": "binary",
                            "description": "Photo of one person facing the camera.",
                        },
                        "product_id": {
                            "type": "string",
                            "description": "A catalogue product to wear (or send `garment`).",
                        },
                        "garment": {
                            "type": "string",
                            "format": "binary",
                            "description": "Product photo of a garment on a plain background.",
                        },
                        "category": {
                            "type": "string",
                            "enum": ["upper", "lower", "dress"],
                            "description": "The garment photo's category: upper, lower or dress.",
                        },
                        "format": {"type": "string", "enum": ["jpeg", "png"], "default": "jpeg"},
                    },
                }
            }
        },
    }
}


def _text_field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{name} must be a text field, not a file", field=name)
    return value.strip() or None


def _file_field(form: FormData, name: str, settings: Settings, what: str) -> bytes | None:
    value = form.get(name)
    if value is None or (isinstance(value, str) and not value):
        return None
    if not isinstance(value, UploadFile):
        raise InputError(f"{name} must be a file (the {what})", field=name)
    return read_upload(value, settings.max_upload_bytes, f"the {what}")


def _image_format(value: str | None) -> tryon.ImageFormat:
    for image_format in tryon.IMAGE_FORMATS:
        if (value or "jpeg").lower() == image_format:
            return image_format
    raise InputError(
        f"format must be one of {', '.join(tryon.IMAGE_FORMATS)}; got {value!r}", field="format"
    )


def server_timing(timings_ms: dict[str, float]) -> str:
    """``Server-Timing`` header value (W3C): ``name;dur=ms`` per step."""
    return ", ".join(f"{name.removesuffix('_ms')};dur={ms:.1f}" for name, ms in timings_ms.items())


def _dress(form: FormData, settings: Settings, db: Database) -> Response:
    image_format = _image_format(_text_field(form, "format"))
    person = _file_field(form, "person", settings, "person photo")
    if person is None:
        raise InputError(
            "send the person photo in a multipart field named 'person'", field="person"
        )
    garment_photo = _file_field(form, "garment", settings, "garment photo")
    started = time.perf_counter()
    with db.session() as session:
        garment = tryon.choose_garment(
            session,
            settings.resolved_media_dir,
            product_id=_text_field(form, "product_id"),
            garment_photo=garment_photo,
            category=_text_field(form, "category"),
        )
    garment_ms = (time.perf_counter() - started) * 1000
    dressed = tryon.try_on_photo(person, garment)
    timings_ms = {"garment_ms": garment_ms, **dressed.timings_ms}
    timings_ms["total_ms"] = (time.perf_counter() - started) * 1000
    return Response(
        tryon.encode_image(dressed.image, image_format),
        media_type=tryon.MEDIA_TYPES[image_format],
        headers={
            "Server-Timing": server_timing(timings_ms),
            "X-Fitroom-Elapsed-Ms": f"{timings_ms['total_ms']:.1f}",
            "X-Fitroom-Agnostic-Input": "true" if dressed.agnostic_input else "false",
            "X-Fitroom-Garment-Category": garment.category.value,
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/try-on",
    response_class=Response,
    openapi_extra=TRYON_FORM_DOC,
    responses={
        200: {
            "content": {"image/jpeg": {}, "image/png": {}},
            "description": "The person photo dressed in the garment, same size as sent.",
        },
        404: {"description": "Unknown product (not-found)."},
        413: {"description": "A photo past the upload or pixel limit (image-too-large)."},
        422: {"description": f"Refused input: {REFUSALS}."},
    },
)
async def try_on(
    request: Request, settings: SettingsDep, db: Annotated[Database, Depends(get_db)]
) -> Response:
    """Dress a person photo in a product (``product_id``) or a garment photo + category.

    Multipart fields: ``person`` (photo), and either ``product_id`` or ``garment``
    (photo) with ``category``; ``format`` jpeg (default) or png. The answer is the
    dressed photo, same size as ``person``; ``Server-Timing`` gives each step in ms and
    ``X-Fitroom-Agnostic-Input`` says whether the photo came with a grey clothing region.
    """
    form = await read_form_in_memory(request, settings.max_upload_bytes, max_files=2)
    try:
        return await run_in_threadpool(_dress, form, settings, db)
    finally:
        await form.close()


@router.get(
    "/products/{product_id}/try-on-garment",
    response_class=Response,
    responses={
        200: {"content": {"image/png": {}}, "description": "The garment cut out (RGBA PNG)."},
        404: {"description": "Unknown product (not-found)."},
        422: {"description": "unsupported-category, no-garment, garment-background-busy."},
    },
)
def get_tryon_garment(product_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    """The product's garment as the try-on cut it out of its photo (PNG, alpha = garment).

    Landmarks in this PNG's pixels: ``/products/{id}/try-on-garment.json``.
    """
    garment = tryon.prepared_garment_for_product(session, product_id, settings.resolved_media_dir)
    return Response(tryon.encode_image(garment.rgba(), "png"), media_type="image/png")


@router.get("/products/{product_id}/try-on-garment.json")
def get_tryon_garment_landmarks(
    product_id: str, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    """The prepared garment's category, size and landmarks (x, y in the PNG's pixels)."""
    garment = tryon.prepared_garment_for_product(session, product_id, settings.resolved_media_dir)
    return tryon.garment_to_dict(product_id, garment)
